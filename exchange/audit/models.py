"""One audit entry per administrative change of a member."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange import clock
from exchange.db import db


class ActorKind(StrEnum):
    person = "person"  # a signed-in user (pages, or the API with a session)
    program = "program"  # an OAuth client with a bearer token
    operator = "operator"  # the exchange's operator: the command line, demo data


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        # The log reads one member's entries, newest first, optionally of one action.
        Index("ix_audit_entries_member", "member_id", "id"),
        Index("ix_audit_entries_member_action", "member_id", "action", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    actor_kind: Mapped[ActorKind] = mapped_column(String(20))
    actor_label: Mapped[str] = mapped_column(String(320))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_client_id: Mapped[str | None] = mapped_column(String(64))
    # ``web`` for a person, ``client:<client_id>`` for a program, ``operator``.
    origin: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(64))
    target_label: Mapped[str] = mapped_column(String(320), default="")
    # What changed ({field: {"from", "to"}}, or the new values): never a secret.
    changes: Mapped[dict] = mapped_column(JSON, default=dict)

    @property
    def actor(self) -> dict:
        return {
            "kind": self.actor_kind,
            "label": self.actor_label,
            "client_id": self.actor_client_id,
        }

    @property
    def target(self) -> dict:
        return {"type": self.target_type, "id": self.target_id, "label": self.target_label}
