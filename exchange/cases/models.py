"""Collaborative cases, their history (events), notes and attachments.

A case joins a submitter member and a receiver member for a mutual customer. It pins
the receiver's process version it was opened under, so later edits of that process
never change what the case was promised. Every change appends a ``CaseEvent`` with a
per-case ``sequence`` without gaps; the case's ``version`` is its last sequence.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, orm_insert_sentinel, relationship

from exchange import clock
from exchange.db import db
from exchange.members.models import Member, User
from exchange.processes.models import Process, ProcessVersion


class CaseStatus(StrEnum):
    open = "open"
    information_requested = "information_requested"
    accepted = "accepted"
    rejected = "rejected"
    resolved = "resolved"
    closed = "closed"
    # Withdrawn by the submitter before acceptance: never worked, so its own outcome
    # (reports, lists and counts never take it for a closed case).
    withdrawn = "withdrawn"


class Side(StrEnum):
    submitter = "submitter"
    receiver = "receiver"
    system = "system"


# Open cases not flagged for an ended product version yet. Written out, not built from
# bound parameters: a partial index is used only where the query's condition says the
# same in the same words (SQLite), or provably implies it (PostgreSQL).
UNFLAGGED_OPEN = text("NOT product_obsolete AND status NOT IN ('closed', 'rejected', 'withdrawn')")


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_submitter_updated", "submitter_id", "updated_at"),
        Index("ix_cases_receiver_updated", "receiver_id", "updated_at"),
        # The worker's alarms: "not yet fired" first, so a scan reads only what is due
        # (its cost follows the due cases, not all cases ever breached).
        Index("ix_cases_response_alarm", "response_breached_at", "response_due_at"),
        Index("ix_cases_update_alarm", "update_breached_at", "next_update_due_at"),
        Index("ix_cases_escalation_alarm", "next_escalation_at"),
        Index("ix_cases_update_reminder", "update_reminder_at"),
        Index("ix_cases_autoclose_notice", "autoclose_notice_at"),
        Index("ix_cases_autoclose", "autoclose_at"),
        Index("ix_cases_inactivity", "inactivity_reminder_at"),
        # Only the cases the end-of-support check can still flag: a few, however many
        # cases there are (see UNFLAGGED_OPEN; queries repeat its text to use it).
        Index(
            "ix_cases_product_unflagged",
            "product_version_id",
            sqlite_where=UNFLAGGED_OPEN,
            postgresql_where=UNFLAGGED_OPEN,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submitter_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    receiver_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id"))
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    status: Mapped[CaseStatus] = mapped_column(String(30), default=CaseStatus.open, index=True)
    severity: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    customer: Mapped[dict] = mapped_column(JSON)
    product: Mapped[dict | None] = mapped_column(JSON)
    product_obsolete: Mapped[bool] = mapped_column(default=False)
    # The receiver's listed version the case names, when it lists it (lifecycle checks).
    product_version_id: Mapped[int | None] = mapped_column(ForeignKey("product_versions.id"))
    intake: Mapped[dict] = mapped_column(JSON, default=dict)
    test: Mapped[bool] = mapped_column(default=False)

    submitter_reference: Mapped[str | None] = mapped_column(String(100))
    receiver_reference: Mapped[str | None] = mapped_column(String(100))
    submitter_engineer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    receiver_engineer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Escalation managers are copies ({name, email, phone, user_id}), like contacts in a
    # published version: later edits of a contact never rewrite a case.
    submitter_escalation_manager: Mapped[dict | None] = mapped_column(JSON)
    receiver_escalation_manager: Mapped[dict | None] = mapped_column(JSON)
    escalation_level: Mapped[int] = mapped_column(default=0)

    rejection_reason: Mapped[str | None] = mapped_column(String(40))
    rejection_explanation: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)

    version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    # The receiver's response clock: running from response_clock_started_at with
    # response_used_seconds of its commitment already spent before (it stops while
    # information is requested). response_due_at is set only while it runs.
    response_due_at: Mapped[datetime | None]
    response_clock_started_at: Mapped[datetime | None]
    response_used_seconds: Mapped[int] = mapped_column(default=0)
    response_breached_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    # Update cadence while accepted: the receiver's next update is due then.
    next_update_due_at: Mapped[datetime | None]
    update_breached_at: Mapped[datetime | None]
    # The receiver's escalation path walked automatically: tiers triggered so far, and
    # when the next tier triggers if the response clock keeps running.
    escalation_tier: Mapped[int] = mapped_column(default=0)
    next_escalation_at: Mapped[datetime | None]
    # Reminders and housekeeping the worker does when these times come.
    update_reminder_at: Mapped[datetime | None]
    autoclose_notice_at: Mapped[datetime | None]
    autoclose_at: Mapped[datetime | None]
    inactivity_reminder_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    submitter: Mapped[Member] = relationship(foreign_keys=[submitter_id])
    receiver: Mapped[Member] = relationship(foreign_keys=[receiver_id])
    process: Mapped[Process] = relationship()
    process_version: Mapped[ProcessVersion] = relationship()
    submitter_engineer: Mapped[User | None] = relationship(foreign_keys=[submitter_engineer_id])
    receiver_engineer: Mapped[User | None] = relationship(foreign_keys=[receiver_engineer_id])

    @property
    def number(self) -> str:
        return f"CX-{self.id:06d}"

    def side_of(self, member_id: int) -> Side | None:
        if member_id == self.submitter_id:
            return Side.submitter
        if member_id == self.receiver_id:
            return Side.receiver
        return None

    def severity_level(self) -> dict:
        content = self.process_version.content
        return next(s for s in content["severities"] if s["key"] == self.severity)


class CaseEvent(db.Model):
    """One entry of a case's history."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "sequence"),)

    # BIGINT on PostgreSQL (events outnumber cases); SQLite's rowid must be INTEGER.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    sequence: Mapped[int]
    type: Mapped[str] = mapped_column(String(60))
    side: Mapped[Side] = mapped_column(String(20))
    origin: Mapped[str] = mapped_column(String(80))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_client_id: Mapped[str | None] = mapped_column(String(64))
    actor_label: Mapped[str] = mapped_column(String(320))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # Lets SQLite insert many events in one statement (see Delivery.message_id).
    _sentinel: Mapped[int | None] = orm_insert_sentinel()

    case: Mapped[Case] = relationship()
    actor_user: Mapped[User | None] = relationship()


class Note(db.Model):
    """Plain text exchanged on a case; append-only, redactable by the author's admin."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    side: Mapped[Side] = mapped_column(String(20))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_client_id: Mapped[str | None] = mapped_column(String(64))
    author_label: Mapped[str] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    redacted_at: Mapped[datetime | None]
    redacted_by: Mapped[str | None] = mapped_column(String(320))

    case: Mapped[Case] = relationship()


class Attachment(db.Model):
    """A file one side shared on a case; stored by SHA-256, visible to both parties only."""

    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    side: Mapped[Side] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    case: Mapped[Case] = relationship()


class CaseTally(db.Model):
    """How many cases a member has per direction and status (test cases not counted).

    Kept in the same transaction as every change of a case (``exchange.cases.tallies``),
    so the first page of a list shows its counts without counting the member's cases:
    at a million cases that count took a second.
    """

    __tablename__ = "case_tallies"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    direction: Mapped[str] = mapped_column(String(10), primary_key=True)  # inbound, outbound
    status: Mapped[CaseStatus] = mapped_column(String(30), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
