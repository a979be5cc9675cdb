"""Cursor pagination for every list: stable under inserts, cheap on big tables.

A cursor is an opaque token holding the sort key of the last row a page returned; the
next page starts strictly after it (keyset pagination, never OFFSET).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import Select, and_, or_

from exchange.db import db
from exchange.errors import ValidationFailed


@dataclass
class Page:
    items: list
    next_cursor: str | None


def encode_cursor(values: list) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed(
        "The cursor is not one this server issued.", errors={"cursor": ["Invalid cursor."]}
    )


def _key_value_ok(value) -> bool:
    # Only what encode_cursor writes: text without NUL, or an integer a BIGINT holds.
    # Anything else would reach the SQL and fail there (a 500), not here (a 422).
    if isinstance(value, str):
        return "\x00" not in value
    return type(value) is int and -(2**63) < value < 2**63


def decode_cursor(cursor: str, size: int, types: list[type] | None = None) -> list:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise _invalid_cursor() from exc
    if not isinstance(values, list) or len(values) != size:
        raise _invalid_cursor()
    if not all(map(_key_value_ok, values)):
        raise _invalid_cursor()
    if types and not all(isinstance(v, t) for v, t in zip(values, types, strict=True)):
        raise _invalid_cursor()
    return values


def clamp_limit(limit: int | None) -> int:
    config = current_app.config
    if limit is None:
        return config["PAGE_SIZE_DEFAULT"]
    return max(1, min(int(limit), config["PAGE_SIZE_MAX"]))


def paginate(
    stmt: Select,
    keys: list,
    *,
    limit: int | None,
    cursor: str | None,
    key_of,
    descending: bool = False,
) -> Page:
    """Run ``stmt`` ordered by ``keys`` (columns, the last one unique), ascending unless
    ``descending``.

    ``key_of(row)`` gives the JSON-serialisable key values of a row, in ``keys`` order
    (datetimes as ISO strings).
    """
    limit = clamp_limit(limit)
    if cursor:
        types = [key.type.python_type for key in keys]
        raw = decode_cursor(cursor, len(keys), [str if t is datetime else t for t in types])
        try:
            after = [
                datetime.fromisoformat(v) if t is datetime else v
                for v, t in zip(raw, types, strict=True)
            ]
        except ValueError as exc:
            raise _invalid_cursor() from exc
        if any(isinstance(v, datetime) and v.tzinfo is None for v in after):
            raise _invalid_cursor()
        # (k1, k2, ...) > (v1, v2, ...) written out, since SQLite lacks row-value
        # comparison in older versions.
        clauses = []
        for i, column in enumerate(keys):
            equal = [keys[j] == after[j] for j in range(i)]
            beyond = column < after[i] if descending else column > after[i]
            clauses.append(and_(*equal, beyond))
        stmt = stmt.where(or_(*clauses))
    order = [key.desc() for key in keys] if descending else keys
    rows = list(db.session.scalars(stmt.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_cursor=encode_cursor(key_of(rows[-1])) if more else None)
