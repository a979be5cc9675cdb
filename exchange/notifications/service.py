"""Queueing e-mail to people from templates (plain text and HTML alike).

``queue`` only writes a row; nothing leaves before the commit. Templates live in
``notifications/templates/mail/<template>.txt`` and ``.html`` and get ``base_url``.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import current_app, render_template
from markupsafe import escape
from sqlalchemy import select

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


def redact_note(*, member_ids: list[int], note) -> int:
    """Put a redacted note's tombstone where its text was in every mail that quotes it
    (pending, failed or sent: the exchange's copy of sent mail too; what a mailbox
    received cannot be called back). The case template quotes a note between markers
    that name it (``--- note <id> ---`` in the text, ``<blockquote data-note="<id>">``
    in HTML), so nothing else in the mail is touched. Returns how many were changed."""
    opening = f"--- note {note.id} ---\n"
    text = re.compile(rf"({re.escape(opening)}).*(\n--- end of note {note.id} ---)", re.S)
    html = re.compile(rf'(<blockquote data-note="{note.id}"[^>]*>).*?(</blockquote>)', re.S)
    quoting = select(Message).where(
        Message.kind == "notes",
        Message.member_id.in_(member_ids),
        Message.text_body.contains(opening, autoescape=True),
    )
    count = 0
    with db.session.no_autoflush:  # the redaction's own event is written at commit
        for message in db.session.scalars(quoting):
            # Greedy in the text (the note may contain the end marker itself; the
            # template's text after it never does); HTML escapes the note's own tags.
            message.text_body = text.sub(lambda m: m[1] + note.body + m[2], message.text_body)
            message.html_body = html.sub(
                lambda m: m[1] + str(escape(note.body)) + m[2], message.html_body
            )
            count += 1
    return count
