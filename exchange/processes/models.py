"""Support processes (versioned documents a member publishes) and its contacts.

A process version's ``content`` is the whole published document as JSON: name,
products, engagement instructions, coverage, severities, intake fields, escalation
path, scope, rejection reasons and visibility. Published versions never change; a
case pins the version it was opened under, and escalation contacts are copied into
the version at publish time, so editing a contact never rewrites history.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange import clock
from exchange.db import db
from exchange.members.models import Member, User


class ContactRole(StrEnum):
    senior_engineer = "senior_engineer"
    escalation_manager = "escalation_manager"
    designated_support_contact = "designated_support_contact"
    support_manager = "support_manager"


class VersionStatus(StrEnum):
    draft = "draft"
    published = "published"


class Contact(db.Model):
    """A named person (or desk) other members reach: escalation tiers point at these."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[ContactRole] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    availability: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    member: Mapped[Member] = relationship()
    user: Mapped[User | None] = relationship()

    def snapshot(self) -> dict:
        """The contact as copied into a published version."""
        return {
            "id": self.id,
            "name": self.name,
            "role": str(self.role),
            "email": self.email,
            "phone": self.phone,
            "time_zone": self.time_zone,
            "availability": self.availability,
        }


class Process(db.Model):
    """One way to engage a member (e.g. per product line), with its versions."""

    __tablename__ = "processes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    # The name of the latest draft or published version, kept here for listing and search.
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    member: Mapped[Member] = relationship()
    versions: Mapped[list[ProcessVersion]] = relationship(
        back_populates="process", order_by="ProcessVersion.id"
    )


class ProcessVersion(db.Model):
    """The draft (``number`` is None) or a numbered, immutable published version."""

    __tablename__ = "process_versions"
    __table_args__ = (
        UniqueConstraint("process_id", "number"),
        Index("ix_process_versions_process_status", "process_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id"))
    number: Mapped[int | None]
    status: Mapped[VersionStatus] = mapped_column(String(20), default=VersionStatus.draft)
    content: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
    published_at: Mapped[datetime | None]
    effective_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_by_client: Mapped[str | None] = mapped_column(String(64))

    process: Mapped[Process] = relationship(back_populates="versions")
    published_by: Mapped[User | None] = relationship()

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.draft
