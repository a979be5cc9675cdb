"""``Idempotency-Key`` for POSTs that create something: a retried request with the same
key and the same body gets the original answer; the same key with another body is a 422.

The remembered answer is written in the same transaction as what the request created,
so a crash cannot leave one without the other. The key is claimed first, before the work
(``claim``): two requests with one key at the same moment then do the work once, and the
later one answers with what the first one remembered (see ``claim`` for how).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from flask import Response, request
from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from exchange import clock
from exchange.api_support import json_response
from exchange.db import db
from exchange.errors import ValidationFailed

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


class IdempotencyKey(db.Model):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("member_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    body: Mapped[dict] = mapped_column(JSON)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)


def request_key() -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(errors={HEADER: [f"Use 1-{MAX_KEY_LENGTH} characters."]})
    return key


def _fingerprint() -> str:
    """The request as far as it matters: method, path and the canonical body."""
    body = request.get_json(silent=True) if request.is_json else request.get_data(as_text=True)
    canonical = json.dumps([request.method, request.path, body], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(*, member_id: int, key: str | None) -> IdempotencyKey | None:
    """Take ``key`` for this transaction, or return the row of the request that took it.

    None means the key is new (or absent) and now ours: do the work and ``remember`` the
    answer before the commit. A row means another request used the key: answer with it.

    Why an insert first, rather than a look-up: two requests with the same key, sent at
    once, both found no row on PostgreSQL, both opened a case, and the second one's
    remembered answer then broke the unique constraint (a 409 "conflict" to a client
    that only retried). ``INSERT ... ON CONFLICT DO NOTHING`` waits for the transaction
    that holds the key to end: if it committed, nothing is inserted and its row is read
    (a new statement sees committed rows under READ COMMITTED); if it rolled back, the
    insert goes through and this request does the work. On SQLite ``transaction()``
    already serialises writers (BEGIN IMMEDIATE), and the same statement is correct there.
    """
    if key is None:
        return None
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # A placeholder (status 0) that ``remember`` fills in; no other transaction can see
    # it before the commit, and the commit happens only with the answer filled in.
    statement = (
        insert(IdempotencyKey)
        .values(member_id=member_id, key=key, fingerprint=_fingerprint(), status=0, body={})
        .on_conflict_do_nothing(index_elements=["member_id", "key"])
        .returning(IdempotencyKey.id)
    )
    # A row comes back when the insert happened (rowcount is no help: -1 on psycopg).
    if db.session.execute(statement).first() is not None:
        return None
    return lookup(member_id=member_id, key=key)


def replay(*, member_id: int, key: str | None) -> Response | None:
    """Claim ``key`` (see ``claim``): None if it is new (or absent) and now ours, else
    the answer remembered for it."""
    row = claim(member_id=member_id, key=key)
    if row is None:
        return None
    if row.fingerprint != _fingerprint():
        raise ValidationFailed(
            "This Idempotency-Key was used with a different request.",
            code="idempotency_key_reused",
            errors={HEADER: ["Already used for a different request; use a new key."]},
        )
    response = json_response(row.body, row.status, row.headers)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def lookup(*, member_id: int, key: str) -> IdempotencyKey | None:
    """The remembered answer for ``key`` (the web form uses it to send a second submit
    of the same form to the case the first one opened)."""
    return db.session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.member_id == member_id, IdempotencyKey.key == key
        )
    )


def remember(
    *, member_id: int, key: str | None, status: int, body: dict, headers: dict | None = None
) -> None:
    """Store the answer for ``key``: in the row ``claim`` inserted, or a new one."""
    if key is None:
        return
    row = lookup(member_id=member_id, key=key)
    if row is None:
        row = IdempotencyKey(member_id=member_id, key=key, fingerprint=_fingerprint())
        db.session.add(row)
    row.status, row.body, row.headers = status, body, headers or {}


def forget_old_keys(*, now: datetime, limit: int = 1000) -> int:
    """Keys are kept for retries, not forever: drop those older than
    IDEMPOTENCY_KEY_HOURS (default 48)."""
    from datetime import timedelta

    from flask import current_app
    from sqlalchemy import delete

    from exchange.db import transaction

    cutoff = now - timedelta(hours=current_app.config["IDEMPOTENCY_KEY_HOURS"])
    if (
        db.session.scalar(
            select(IdempotencyKey.id).where(IdempotencyKey.created_at < cutoff).limit(1)
        )
        is None
    ):
        return 0
    with transaction():
        old = list(
            db.session.scalars(
                select(IdempotencyKey.id).where(IdempotencyKey.created_at < cutoff).limit(limit)
            )
        )
        if old:
            db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(old)))
    return len(old)
