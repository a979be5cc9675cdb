"""Schema pieces shared by every package's API: list arguments and page envelopes."""

import copy

from marshmallow import Schema, fields, missing, validate


class ListArgs(Schema):
    limit = fields.Int(
        validate=validate.Range(min=1),
        metadata={
            "description": "Page size: default PAGE_SIZE_DEFAULT (50); larger values are "
            "cut to PAGE_SIZE_MAX (200)."
        },
    )
    cursor = fields.Str(metadata={"description": "The `next_cursor` of the previous page."})


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """A page envelope ``{items, next_cursor, next}`` around ``item_schema``."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema)),
            "next_cursor": fields.Str(allow_none=True),
            "next": fields.Str(allow_none=True, metadata={"description": "URL of the next page"}),
        },
        name=name,
    )


class ProblemSchema(Schema):
    """RFC 9457 problem details, the body of every error (see docs/errors.md)."""

    type = fields.Str()
    title = fields.Str()
    status = fields.Int()
    detail = fields.Str()
    code = fields.Str(metadata={"description": "Stable error code; see docs/errors.md."})
    errors = fields.Dict(
        keys=fields.Str(),
        values=fields.List(fields.Str()),
        metadata={"description": "Dotted field path -> messages (422 only)."},
    )
    allowed_actions = fields.List(
        fields.Str(),
        metadata={
            "description": "The actions the caller may take on the case now "
            "(409 `invalid_transition` only)."
        },
    )


def patch_schema(schema_cls: type[Schema], name: str) -> type[Schema]:
    """The same fields as ``schema_cls``, all optional and without defaults: a PATCH body
    changes only what it names."""
    declared = {}
    for key, field in schema_cls._declared_fields.items():
        field = copy.copy(field)
        field.required = False
        field.load_default = missing
        declared[key] = field
    return Schema.from_dict(declared, name=name)


def load_or_422(schema: Schema, data: dict, detail: str | None = None) -> dict:
    """Validate ``data`` with ``schema`` as a service does: every caller (API, pages, CLI,
    demo data) meets the same rules, and a failure is a 422 naming each field."""
    from marshmallow import ValidationError

    from exchange.errors import ValidationFailed, flatten_errors

    try:
        return schema.load(data)
    except ValidationError as exc:
        raise ValidationFailed(detail, errors=flatten_errors(exc.messages)) from exc
