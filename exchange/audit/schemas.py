"""API shapes of the audit log."""

from marshmallow import Schema, fields, validate

from exchange.schemas import ListArgs, page_schema

ACTION_PATTERN = r"^[a-z_]+(\.[a-z_]+|\.\*)$"


class AuditActorOut(Schema):
    kind = fields.Str(metadata={"description": "person, program or operator"})
    label = fields.Str(metadata={"description": "a person's e-mail, or a program's name"})
    client_id = fields.Str(allow_none=True)


class AuditTargetOut(Schema):
    type = fields.Str(metadata={"description": "user, client, endpoint, process, ..."})
    id = fields.Str()
    label = fields.Str()


class AuditEntryOut(Schema):
    id = fields.Int()
    created_at = fields.DateTime()
    action = fields.Str(metadata={"description": "e.g. user.invited, client.created"})
    actor = fields.Nested(AuditActorOut)
    origin = fields.Str(metadata={"description": "web, client:<client_id> or operator"})
    target = fields.Nested(AuditTargetOut)
    changes = fields.Dict(metadata={"description": "what changed; never a secret"})


AuditPageOut = page_schema(AuditEntryOut, "AuditPage")


class AuditArgs(ListArgs):
    action = fields.Str(
        validate=validate.Regexp(ACTION_PATTERN, error="An action code such as user.invited."),
        metadata={"description": "Only this action (`user.invited`), or a group (`user.*`)."},
    )
