"""Sending queued e-mail: over SMTP when ``MAIL_SMTP_HOST`` is set (STARTTLS or TLS,
optional login), else as ``.eml`` files in the instance folder's ``mail`` directory.
A failing server delays mail with retries and never holds up other work; a message that
cannot be built at all fails on its own, and the rest of its round is sent."""

from __future__ import annotations

import logging
import os
import random
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app
from sqlalchemy import or_, select

from exchange.db import db, transaction
from exchange.members.models import Member, MemberStatus
from exchange.notifications.models import Message, MessageStatus

log = logging.getLogger(__name__)

RETRY_DELAYS = [timedelta(minutes=m) for m in (1, 5, 30, 120, 360)]
LEASE = timedelta(minutes=5)


def outbox_path() -> Path:
    return Path(
        current_app.config.get("MAIL_OUTBOX_PATH")
        or os.path.join(current_app.instance_path, "mail")
    )


def build(message: Message, now: datetime) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(now)
    email["Message-ID"] = make_msgid(idstring=f"exchange.{message.id}")
    email.set_content(message.text_body)
    email.add_alternative(message.html_body, subtype="html")
    return email


def _smtp_send(email: EmailMessage) -> None:
    config = current_app.config
    host, port = config["MAIL_SMTP_HOST"], int(config["MAIL_SMTP_PORT"])
    security = config["MAIL_SMTP_SECURITY"]
    timeout = config["MAIL_SMTP_TIMEOUT_SECONDS"]
    if security == "tls":
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if config.get("MAIL_SMTP_USERNAME"):
            client.login(config["MAIL_SMTP_USERNAME"], config["MAIL_SMTP_PASSWORD"] or "")
        client.send_message(email)


def _file_send(email: EmailMessage, message: Message) -> None:
    folder = outbox_path()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{message.id:08d}.eml").write_bytes(email.as_bytes())


def send_due(*, now: datetime, limit: int = 50) -> int:
    """Send (or write) due messages; returns how many were attempted."""
    stmt = (
        select(Message)
        .where(
            Message.status == MessageStatus.pending,
            Message.next_attempt_at <= now,
            or_(Message.lease_until.is_(None), Message.lease_until < now),
            # Mail to a suspended member's people and contacts is held, not dropped:
            # it keeps its place and goes out once the member is reactivated.
            ~select(Member.id)
            .where(Member.id == Message.member_id, Member.status == MemberStatus.suspended)
            .exists(),
        )
        .order_by(Message.next_attempt_at, Message.id)
        .limit(limit)
    )
    if db.session.scalar(stmt.with_only_columns(Message.id)) is None:
        return 0
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    with transaction():
        due = list(db.session.scalars(stmt))
        for message in due:
            message.lease_until = now + LEASE
        ids = [m.id for m in due]
    use_smtp = bool(current_app.config.get("MAIL_SMTP_HOST"))
    outcomes: dict[int, tuple[str | None, bool]] = {}
    for message_id in ids:
        # Sent outside any transaction (the lease keeps other workers off it): a slow
        # mail server must not hold SQLite's write lock, and with it every change.
        # Whatever one message does, the loop goes on: an exception escaping here would
        # leave this message and every later one of the round leased and unrecorded.
        outcomes[message_id] = _attempt(db.session.get(Message, message_id), now, use_smtp)
    # The round's results in one transaction: on SQLite each transaction waits its turn
    # for the write lock behind the web workers, and fifty of them held up webhooks.
    with transaction():
        for message in db.session.scalars(select(Message).where(Message.id.in_(ids))):
            _record(message, *outcomes[message.id], now)
    return len(ids)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _attempt(message: Message, now: datetime, use_smtp: bool) -> tuple[str | None, bool]:
    """Send one message: ``(error or None, permanent)``."""
    try:
        email = build(message, now)
    except (ValueError, TypeError) as exc:
        # The row itself cannot become a mail (a header with a line break, say): it
        # would fail the same way on every retry, so it fails now, on its own.
        error = _describe(exc)
        log.error("mail %s cannot be built, marked failed: %s", message.id, error)
        return error, True
    try:
        _smtp_send(email) if use_smtp else _file_send(email, message)
    except (OSError, smtplib.SMTPException) as exc:
        error = _describe(exc)
        log.warning("mail %s to %s failed: %s", message.id, message.to_address, error)
        return error, False
    except Exception as exc:  # one message must never stop the round
        log.exception("mail %s to %s failed unexpectedly", message.id, message.to_address)
        return _describe(exc), False
    return None, False


def _record(message: Message, error: str | None, permanent: bool, now: datetime) -> None:
    message.attempts += 1
    message.lease_until = None
    message.last_error = error
    if error is None:
        message.status = MessageStatus.sent
        message.sent_at = now
    elif permanent or message.attempts > len(RETRY_DELAYS):
        message.status = MessageStatus.failed
    else:
        delay = RETRY_DELAYS[message.attempts - 1] * random.uniform(0.9, 1.1)
        message.next_attempt_at = now + delay
