"""Members (vendors on the exchange) and their users (people who act for them)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange import clock
from exchange.auth import passwords
from exchange.db import db


class MemberTier(StrEnum):
    """Membership tier; it carries the entitlements a member has on the exchange."""

    basic = "basic"
    standard = "standard"
    premier = "premier"


class MemberStatus(StrEnum):
    active = "active"
    suspended = "suspended"


class Role(StrEnum):
    admin = "admin"
    engineer = "engineer"
    escalation_manager = "escalation_manager"


# What a person is mailed about, unless they chose otherwise. New inbound cases go to
# the designated support contact always, and to engineers only if they opt in.
NOTIFICATION_DEFAULTS = {
    "case_opened": False,
    "case_progress": True,
    "assignments": True,
    "notes": True,
    "escalations": True,
    "breaches": True,
    "reminders": True,
}


class Member(db.Model):
    """A vendor that joined the exchange and acts as submitter or receiver of cases."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    tier: Mapped[MemberTier] = mapped_column(String(20), default=MemberTier.standard)
    status: Mapped[MemberStatus] = mapped_column(String(20), default=MemberStatus.active)
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str | None] = mapped_column(String(500))
    email_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The designated support contact (source 004, "Support Readiness").
    support_contact_name: Mapped[str | None] = mapped_column(String(200))
    support_contact_email: Mapped[str | None] = mapped_column(String(320))
    support_contact_phone: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    users: Mapped[list[User]] = relationship(back_populates="member", order_by="User.id")

    @property
    def is_active(self) -> bool:
        return self.status == MemberStatus.active

    @property
    def support_contact(self) -> dict | None:
        if not (self.support_contact_name or self.support_contact_email):
            return None
        return {
            "name": self.support_contact_name,
            "email": self.support_contact_email,
            "phone": self.support_contact_phone,
        }

    def __repr__(self) -> str:
        return f"<Member {self.slug}>"


class User(UserMixin, db.Model):
    """A person who acts for exactly one member, with roles on that member."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Only the kinds the person changed; NOTIFICATION_DEFAULTS fills in the rest.
    notifications: Mapped[dict] = mapped_column(JSON, default=dict)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
    last_login_at: Mapped[datetime | None]
    # Kept in the session at sign-in and checked on every request (exchange/auth/views.py):
    # moving it on ends every session of the person, copies of the cookie included.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    member: Mapped[Member] = relationship(back_populates="users")

    @property
    def is_active(self) -> bool:  # flask-login: inactive users cannot log in
        return self.active and self.member.is_active

    def notification_settings(self) -> dict[str, bool]:
        return {**NOTIFICATION_DEFAULTS, **(self.notifications or {})}

    def wants(self, kind: str) -> bool:
        return self.is_active and self.notification_settings().get(kind, True)

    def has_role(self, role: Role | str) -> bool:
        return str(role) in self.roles

    def get_id(self) -> str:
        """What flask-login keeps in the session: the id and the session generation."""
        return f"{self.id}.{self.session_generation or 0}"

    def end_sessions(self) -> None:
        """Sign the person out everywhere: every session made before now stops working."""
        self.session_generation = (self.session_generation or 0) + 1

    def set_password(self, password: str) -> None:
        """A new password also ends every session made with the old one."""
        self.password_hash = passwords.hash_password(password)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return passwords.verify(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class MembershipStatus(StrEnum):
    invited = "invited"
    active = "active"


class Community(db.Model):
    """A private group of members (source 004: private communities); a process can be
    restricted to the members of listed communities."""

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    owner: Mapped[Member] = relationship()
    memberships: Mapped[list[CommunityMembership]] = relationship(
        back_populates="community", order_by="CommunityMembership.id"
    )


class CommunityMembership(db.Model):
    """A member's place in a community: invited by the owner, active once accepted."""

    __tablename__ = "community_memberships"
    __table_args__ = (UniqueConstraint("community_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[MembershipStatus] = mapped_column(String(20), default=MembershipStatus.invited)
    invited_at: Mapped[datetime] = mapped_column(default=clock.now)
    accepted_at: Mapped[datetime | None]

    community: Mapped[Community] = relationship(back_populates="memberships")
    member: Mapped[Member] = relationship()


class Product(db.Model):
    """A product a member supports, with versions and their support lifecycle."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("member_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    member: Mapped[Member] = relationship()
    versions: Mapped[list[ProductVersion]] = relationship(
        back_populates="product",
        # Undated versions last on every database (PostgreSQL and SQLite sort NULL apart).
        order_by=lambda: [
            ProductVersion.release_date.is_(None),
            ProductVersion.release_date,
            ProductVersion.id,
        ],
        cascade="all, delete-orphan",
    )


class ProductVersion(db.Model):
    """A released version; obsolete once its end-of-support date has passed (000 §4)."""

    __tablename__ = "product_versions"
    __table_args__ = (
        UniqueConstraint("product_id", "version"),
        # The lifecycle scan: versions not yet announced, by end-of-support date.
        Index("ix_product_versions_eos_notice", "eos_notice_sent_at", "end_of_support_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    version: Mapped[str] = mapped_column(String(50))
    release_date: Mapped[date | None]
    end_of_support_date: Mapped[date | None]
    eos_notice_sent_at: Mapped[datetime | None]

    product: Mapped[Product] = relationship(back_populates="versions")

    def status_on(self, today: date) -> str:
        if self.end_of_support_date is not None and self.end_of_support_date < today:
            return "obsolete"
        return "supported"
