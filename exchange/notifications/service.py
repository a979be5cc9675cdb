"""Queueing e-mail to people from templates (plain text and HTML alike).

``queue`` only writes a row; nothing leaves before the commit. Templates live in
``notifications/templates/mail/<template>.txt`` and ``.html`` and get ``base_url``.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, render_template

from exchange import clock
from exchange.db import db
from exchange.members.models import Member, Role
from exchange.notifications.models import Message, MessageStatus


def queue(
    *,
    to: str,
    template: str,
    subject: str,
    kind: str,
    member: Member | None = None,
    now: datetime | None = None,
    **context,
) -> Message:
    context = {**context, "base_url": current_app.config["BASE_URL"].rstrip("/")}
    message = Message(
        kind=kind,
        member_id=member.id if member else None,
        to_address=to,
        subject=subject,
        text_body=render_template(f"mail/{template}.txt", **context),
        html_body=render_template(f"mail/{template}.html", **context),
        status=MessageStatus.pending,
        next_attempt_at=now or clock.now(),
        attempts=0,
    )
    db.session.add(message)
    return message


def admin_addresses(member: Member) -> list[str]:
    return [u.email for u in member.users if u.is_active and u.has_role(Role.admin)]
