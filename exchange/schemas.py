"""Schema pieces shared by every package's API: list arguments and page envelopes."""

from marshmallow import Schema, fields, validate


class ListArgs(Schema):
    limit = fields.Int(
        validate=validate.Range(min=1, max=200),
        metadata={"description": "Page size (default 50, at most 200)."},
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
