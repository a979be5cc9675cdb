"""Notes and attachments: what the two support teams exchange on a case."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import BinaryIO

from flask import current_app
from sqlalchemy import select

from exchange.cases.downloads import clean_content_type, clean_filename
from exchange.cases.models import Attachment, Note
from exchange.cases.service.common import get_case, prepare, record
from exchange.cases.storage import StoreFailed, TooLarge, blob_store
from exchange.db import db, get_by_id
from exchange.errors import Forbidden, NotFound, PayloadTooLarge, Problem, ValidationFailed
from exchange.members.models import Role
from exchange.text import VISIBLE_MESSAGE, has_visible_text

REDACTED = "[redacted]"
log = logging.getLogger(__name__)


def list_notes(*, actor, case_id: int) -> list[Note]:
    case = get_case(actor=actor, case_id=case_id)
    return list(db.session.scalars(select(Note).where(Note.case_id == case.id).order_by(Note.id)))


def get_note(*, actor, case_id: int, note_id: int) -> Note:
    case = get_case(actor=actor, case_id=case_id)
    note = get_by_id(Note, note_id)
    if note is None or note.case_id != case.id:
        raise NotFound(f"No note {note_id} on this case.")
    return note


def add_note(
    *, actor, case_id: int, body: str, if_match: str | None = None, now: datetime | None = None
) -> Note:
    limit = current_app.config["NOTE_MAX_CHARS"]
    if len(body) > limit:
        raise PayloadTooLarge(
            f"A note holds at most {limit} characters; attach longer text as a file."
        )
    # Checked here, not only in NoteIn: the page's form calls this directly.
    if not has_visible_text(body):
        raise ValidationFailed(errors={"body": [VISIBLE_MESSAGE]})
    case, side, now = prepare(
        actor=actor, case_id=case_id, action="add-note", if_match=if_match, now=now
    )
    note = Note(
        case=case,
        side=side,
        body=body,
        created_at=now,
        author_user_id=actor.user.id if actor.user else None,
        author_client_id=actor.client.client_id if actor.client else None,
        author_label=actor.label,
    )
    db.session.add(note)
    db.session.flush()
    record(case, actor=actor, side=side, type="case.note_added", now=now, data={"note": note.id})
    return note


def redact_note(
    *,
    actor,
    case_id: int,
    note_id: int,
    if_match: str | None = None,
    now: datetime | None = None,
) -> Note:
    """A member admin of the note's author removes its text (personal data); the note
    stays in the history as a tombstone."""
    case, side, now = prepare(
        actor=actor, case_id=case_id, action="add-note", if_match=if_match, now=now
    )
    # An id beyond the column's range is simply not there (SQLite cannot even bind it).
    note = get_by_id(Note, note_id)
    if note is None or note.case_id != case.id:
        raise NotFound(f"No note {note_id} on this case.")
    if note.side != side:
        raise Forbidden("Only an admin of the note author's member may redact it.")
    actor.require("members:admin")
    if actor.user is not None and not actor.user.has_role(Role.admin):
        raise Forbidden("Only a member admin may redact a note.")
    if note.redacted_at is None:
        note.body = REDACTED
        note.redacted_at = now
        note.redacted_by = actor.label
        record(
            case, actor=actor, side=side, type="case.note_redacted", now=now, data={"note": note.id}
        )
    return note


def list_attachments(*, actor, case_id: int) -> list[Attachment]:
    case = get_case(actor=actor, case_id=case_id)
    return list(
        db.session.scalars(
            select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)
        )
    )


def add_attachment(
    *,
    actor,
    case_id: int,
    stream: BinaryIO,
    filename: str,
    content_type: str | None,
    if_match: str | None = None,
    now: datetime | None = None,
) -> Attachment:
    case, side, now = prepare(
        actor=actor, case_id=case_id, action="add-attachment", if_match=if_match, now=now
    )
    # A name, not a path; control characters (a line break broke every download) become _.
    filename = clean_filename((filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip())
    if not filename:
        raise ValidationFailed(errors={"file": ["The file needs a name."]})
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    try:
        sha, size = blob_store().put(stream, limit=limit)
    except TooLarge as exc:
        raise PayloadTooLarge(f"Attachments are limited to {limit} bytes.") from exc
    except StoreFailed as exc:
        # The caller's transaction rolls back: no attachment row, no event, no blob.
        log.error("attachment store failed on case %s: %s", case.id, exc.reason)
        raise Problem(
            "The file could not be stored; nothing was added to the case. Try again "
            "later; if it keeps failing, tell the exchange's operator.",
            code="attachment_store_failed",
        ) from exc
    attachment = Attachment(
        case=case,
        side=side,
        filename=filename[:255],
        content_type=clean_content_type(content_type),
        size=size,
        sha256=sha,
        uploaded_by=actor.label,
        created_at=now,
    )
    db.session.add(attachment)
    db.session.flush()
    record(
        case,
        actor=actor,
        side=side,
        type="case.attachment_added",
        now=now,
        data={
            "attachment": attachment.id,
            "filename": attachment.filename,
            "size": size,
            "sha256": sha,
        },
    )
    return attachment


def get_attachment(*, actor, case_id: int, attachment_id: int) -> Attachment:
    case = get_case(actor=actor, case_id=case_id)
    attachment = get_by_id(Attachment, attachment_id)
    if attachment is None or attachment.case_id != case.id:
        raise NotFound(f"No attachment {attachment_id} on this case.")
    return attachment


def open_attachment(attachment: Attachment) -> BinaryIO:
    return blob_store().open(attachment.sha256)
