"""API shapes for programs (OAuth2 clients)."""

from marshmallow import Schema, fields, validate

from exchange.auth.scopes import SCOPES
from exchange.text import Line


class ClientIn(Schema):
    name = Line(required=True, min=1, max=200)
    scopes = fields.List(
        fields.Str(validate=validate.OneOf(list(SCOPES))),
        required=True,
        validate=validate.Length(min=1),
    )


class ClientOut(Schema):
    client_id = fields.Str()
    name = fields.Str()
    scopes = fields.List(fields.Str())
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)


class ClientCreatedOut(ClientOut):
    client_secret = fields.Str(metadata={"description": "Shown once; only a digest is kept."})
