"""How the webhooks package reacts to case and process signals: one delivery row per
subscribed endpoint, written in the transaction of the change (rows only, no I/O)."""

from __future__ import annotations

from exchange import clock
from exchange.cases.documents import case_json
from exchange.cases.models import Case, CaseEvent, Note, Side
from exchange.cases.signals import SIGNALS, case_event
from exchange.db import db
from exchange.members.models import Member
from exchange.members.signals import end_of_support_approaching
from exchange.processes import service as processes
from exchange.processes.signals import process_published
from exchange.webhooks import service
from exchange.webhooks.models import WebhookEndpoint


def _event_body(event: CaseEvent) -> dict:
    data = {k: v for k, v in event.data.items() if k != "changes"}
    if event.type in ("case.note_added", "case.note_redacted"):
        # The note itself travels with its event, so a tracker never needs a second call.
        note = db.session.get(Note, event.data["note"])
        data["note"] = {
            "id": note.id,
            "side": str(note.side),
            "author": note.author_label,
            "body": note.body,
            "created_at": note.created_at.isoformat(),
            "redacted_at": note.redacted_at.isoformat() if note.redacted_at else None,
        }
    return {
        "sequence": event.sequence,
        "type": event.type,
        "actor": event.actor_label,
        "side": str(event.side),
        "origin": event.origin,
        "changes": event.data.get("changes", {}),
        "data": data,
    }


def _wanted(endpoint: WebhookEndpoint, partner: Member, actor) -> bool:
    if endpoint.partners and partner.slug not in endpoint.partners:
        return False
    # Two-way sync: a tracker is not told about the changes it made itself.
    own_program = actor.client is not None and actor.client.member_id == endpoint.member_id
    return not (endpoint.exclude_own_changes and own_program)


def on_case_event(case: Case, *, event: CaseEvent, actor, **_) -> None:
    endpoints = service.subscribed_endpoints([case.submitter_id, case.receiver_id], event.type)
    if not endpoints:
        return
    body = _event_body(event)
    documents = {}
    for endpoint in endpoints:
        side = case.side_of(endpoint.member_id)
        partner = case.receiver if side == Side.submitter else case.submitter
        if not _wanted(endpoint, partner, actor):
            continue
        if side not in documents:
            documents[side] = case_json(case, side, event.created_at)
        service.enqueue(
            endpoint=endpoint,
            event_type=event.type,
            now=event.created_at,
            case_id=case.id,
            sequence=event.sequence,
            data={"case": documents[side], "event": body},
        )


def on_note_redacted(case: Case, *, event: CaseEvent, **_) -> None:
    # Every copy the outbox keeps or can send again loses the text, not only the
    # messages still to come.
    service.redact_note(case_id=case.id, note=db.session.get(Note, event.data["note"]))


def on_process_published(version, *, actor, **_) -> None:
    process = version.process
    candidates = service.subscribed_endpoints(None, "process.published")
    for endpoint in candidates:
        if not processes.member_can_see(endpoint.member, process, version.effective_at):
            continue
        service.enqueue(
            endpoint=endpoint,
            event_type="process.published",
            now=version.published_at,
            data={
                "process": {
                    "id": process.id,
                    "member": process.member.slug,
                    "name": version.content["name"],
                    "version": version.number,
                    "effective_at": version.effective_at.isoformat(),
                }
            },
        )


def on_end_of_support_approaching(version, *, days_left, **_) -> None:
    product = version.product
    now = clock.now()
    for endpoint in service.subscribed_endpoints(
        [product.member_id], "product.end_of_support_approaching"
    ):
        service.enqueue(
            endpoint=endpoint,
            event_type="product.end_of_support_approaching",
            now=now,
            data={
                "product": {
                    "id": product.id,
                    "name": product.name,
                    "version": version.version,
                    "end_of_support_date": version.end_of_support_date.isoformat(),
                    "days_left": days_left,
                }
            },
        )


def connect() -> None:
    case_event.connect(on_case_event)
    SIGNALS["case.note_redacted"].connect(on_note_redacted)
    process_published.connect(on_process_published)
    end_of_support_approaching.connect(on_end_of_support_approaching)
