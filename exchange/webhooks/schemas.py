"""API shapes of webhook endpoints, deliveries and attempts."""

from marshmallow import Schema, fields, validate

from exchange.schemas import ListArgs, page_schema, patch_schema
from exchange.text import Line


class EndpointIn(Schema):
    url = fields.Str(required=True, validate=validate.Length(min=1, max=2000))
    description = Line(load_default="", max=500)
    event_types = fields.List(
        fields.Str(validate=validate.Length(min=1, max=60)),
        load_default=lambda: ["*"],
        metadata={"description": "Types or wildcards (`case.*`, `*`)."},
    )
    partners = fields.List(
        fields.Str(validate=validate.Length(min=1, max=40)),
        load_default=list,
        metadata={"description": "Only cases with these members."},
    )
    enabled = fields.Bool(load_default=True)
    exclude_own_changes = fields.Bool(
        load_default=True,
        metadata={"description": "Skip events your own member's programs caused."},
    )


EndpointPatchIn = patch_schema(EndpointIn, "EndpointPatchIn")


class EndpointOut(Schema):
    id = fields.Int()
    url = fields.Str()
    description = fields.Str()
    event_types = fields.List(fields.Str())
    partners = fields.List(fields.Str())
    enabled = fields.Bool()
    exclude_own_changes = fields.Bool()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    disabled_at = fields.DateTime(allow_none=True)
    disabled_reason = fields.Str(allow_none=True)
    last_success_at = fields.DateTime(allow_none=True)
    failing_since = fields.DateTime(allow_none=True)
    previous_secret_expires_at = fields.DateTime(allow_none=True)


class EndpointSecretOut(EndpointOut):
    secret = fields.Str(metadata={"description": "Shown once; keep it in your tracker."})


class PingIn(Schema):
    """No fields: send `{}` or no body at all; any field is refused (422)."""


class RetryIn(Schema):
    """No fields: send `{}` or no body at all; any field is refused (422)."""


class RotateIn(Schema):
    grace_seconds = fields.Int(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0, max=7 * 24 * 3600),
        metadata={"description": "How long the old secret keeps signing (0 for a leak)."},
    )


class AttemptOut(Schema):
    attempted_at = fields.DateTime()
    status_code = fields.Int(allow_none=True)
    duration_ms = fields.Int()
    error_class = fields.Str(allow_none=True)
    response_excerpt = fields.Str()
    next_attempt_at = fields.DateTime(allow_none=True)


class DeliveryOut(Schema):
    id = fields.Int()
    endpoint = fields.Int(attribute="endpoint_id")
    message_id = fields.Str(metadata={"description": "The `webhook-id` header."})
    event_type = fields.Str()
    case = fields.Int(attribute="case_id", allow_none=True)
    sequence = fields.Int(allow_none=True)
    status = fields.Str()
    attempts = fields.Int()
    next_attempt_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
    last_status_code = fields.Int(allow_none=True)
    last_error = fields.Str(allow_none=True)


class DeliveryDetailOut(DeliveryOut):
    payload = fields.Str(metadata={"description": "The exact body sent (JSON text)."})
    attempt_log = fields.List(fields.Nested(AttemptOut))


DeliveryPageOut = page_schema(DeliveryOut, "DeliveryPage")


class DeliveryArgs(ListArgs):
    status = fields.Str(validate=validate.OneOf(["pending", "succeeded", "failed"]))


class RecoverIn(Schema):
    since = fields.AwareDateTime(required=True)


class RecoverOut(Schema):
    requeued = fields.Int()


class EventTypeOut(Schema):
    type = fields.Str()
    description = fields.Str()
