"""Cursor pagination for every list: stable under inserts, cheap on big tables.

A cursor is an opaque token holding the sort key of the last row a page returned; the
next page starts strictly after it (keyset pagination, never OFFSET).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

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


def decode_cursor(cursor: str, size: int) -> list:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            "The cursor is not one this server issued.", errors={"cursor": ["Invalid cursor."]}
        ) from exc
    if not isinstance(values, list) or len(values) != size:
        raise ValidationFailed(
            "The cursor is not one this server issued.", errors={"cursor": ["Invalid cursor."]}
        )
    return values


def clamp_limit(limit: int | None) -> int:
    config = current_app.config
    if limit is None:
        return config["PAGE_SIZE_DEFAULT"]
    return max(1, min(int(limit), config["PAGE_SIZE_MAX"]))


def paginate(stmt: Select, keys: list, *, limit: int | None, cursor: str | None, key_of) -> Page:
    """Run ``stmt`` ordered ascending by ``keys`` (columns, the last one unique).

    ``key_of(row)`` gives the JSON-serialisable key values of a row, in ``keys`` order.
    """
    limit = clamp_limit(limit)
    if cursor:
        after = decode_cursor(cursor, len(keys))
        # (k1, k2, ...) > (v1, v2, ...) written out, since SQLite lacks row-value
        # comparison in older versions.
        clauses = []
        for i, column in enumerate(keys):
            equal = [keys[j] == after[j] for j in range(i)]
            clauses.append(and_(*equal, column > after[i]))
        stmt = stmt.where(or_(*clauses))
    rows = list(db.session.scalars(stmt.order_by(*keys).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_cursor=encode_cursor(key_of(rows[-1])) if more else None)
