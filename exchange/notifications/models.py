"""The outbox of e-mail to people: written in the transaction of the change that causes
it, sent afterwards by the worker (SMTP, or ``.eml`` files when no SMTP is configured)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, orm_insert_sentinel

from exchange import clock
from exchange.db import db


class MessageStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class Message(db.Model):
    __tablename__ = "mail_messages"
    __table_args__ = (Index("ix_mail_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(String(20), default=MessageStatus.pending)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Lets SQLite insert many messages in one statement (see Delivery.message_id).
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
