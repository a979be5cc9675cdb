"""Webhook endpoints (a member's tracker URLs) and the durable outbox of deliveries.

A delivery row is written in the same transaction as the change it announces, with the
exact bytes that will be signed and sent; the worker only ever posts committed rows.
Every attempt is kept for the delivery log.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange import clock
from exchange.db import db
from exchange.members.models import Member

BIGID = BigInteger().with_variant(Integer, "sqlite")


class DeliveryStatus(StrEnum):
    pending = "pending"  # waiting for its first or next attempt
    succeeded = "succeeded"
    failed = "failed"  # attempts exhausted, endpoint gone, or endpoint deleted


class WebhookEndpoint(db.Model):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(500), default="")
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    partners: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    exclude_own_changes: Mapped[bool] = mapped_column(default=True)
    # Secrets are encrypted at rest; the previous one stays valid (both signatures are
    # sent) until previous_secret_expires_at, so a rotation never drops a delivery.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
    deleted_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    last_success_at: Mapped[datetime | None]
    failing_since: Mapped[datetime | None]
    failure_warned_at: Mapped[datetime | None]

    member: Mapped[Member] = relationship()


# The partial index's condition; queries that want the index spell it the same way (a
# bound parameter would not let PostgreSQL's generic plans use it).
PENDING = "status = 'pending'"


class Delivery(db.Model):
    """One message to one endpoint; ``message_id`` is the stable ``webhook-id``."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The worker's claim: pending deliveries in the order it takes them, and only
        # those (delivered ones stay out of it). Read in that order and stopped at the
        # batch, the claim costs the same with any backlog and table size: the index of
        # (status, next_attempt_at) left PostgreSQL free to read and sort every pending
        # row when its statistics lagged behind a burst, and two workers claiming so
        # sent 130-800 deliveries/s instead of 1,900.
        Index(
            "ix_webhook_deliveries_pending",
            "next_attempt_at",
            "id",
            postgresql_where=text(PENDING),
            sqlite_where=text(PENDING),
        ),
        # Ordering: earlier undelivered events of the same case hold back later ones.
        Index("ix_webhook_deliveries_order", "endpoint_id", "case_id", "sequence"),
        Index("ix_webhook_deliveries_log", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    # The sentinel lets SQLite insert many deliveries in one statement and still match
    # each returned id to its row (SQLite gives no order for INSERT ... RETURNING); a
    # deadline scan firing a hundred alarms wrote its deliveries one statement each.
    message_id: Mapped[str] = mapped_column(String(40), unique=True, insert_sentinel=True)
    event_type: Mapped[str] = mapped_column(String(60))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    sequence: Mapped[int | None]
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(String(20), default=DeliveryStatus.pending)
    # Every attempt ever made; a manual retry or a recover keeps counting.
    attempts: Mapped[int] = mapped_column(default=0)
    # The attempts since the delivery was last re-queued by hand: the retry schedule's
    # position (a retry or recover starts a fresh schedule).
    attempts_since_requeue: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    delivered_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))

    endpoint: Mapped[WebhookEndpoint] = relationship()


class DeliveryAttempt(db.Model):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(default=clock.now)
    status_code: Mapped[int | None]
    duration_ms: Mapped[int]
    error_class: Mapped[str | None] = mapped_column(String(60))
    response_excerpt: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime | None]
