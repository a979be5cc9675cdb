"""``case_document``: the one JSON view of a case for a member. The API answers it, and
webhook payloads carry the same, so a tracker never needs a second call."""

from __future__ import annotations

from datetime import datetime

from exchange.cases.deadlines import deadlines
from exchange.cases.models import Case, Side
from exchange.cases.service.common import person
from exchange.cases.states import allowed_actions


def case_document(case: Case, side: Side, now: datetime) -> dict:
    """The case as the member on ``side`` sees it."""
    version = case.process_version
    level = case.severity_level()

    def party(which: Side) -> dict:
        member = case.submitter if which == Side.submitter else case.receiver
        return {
            "member": {"slug": member.slug, "name": member.name},
            "engineer": person(getattr(case, f"{which}_engineer")),
            "reference": getattr(case, f"{which}_reference"),
            "escalation_manager": getattr(case, f"{which}_escalation_manager"),
        }

    rejection = None
    if case.rejection_reason:
        rejection = {"reason": case.rejection_reason, "explanation": case.rejection_explanation}
    return {
        "id": case.id,
        "number": case.number,
        "status": case.status,
        "side": side,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "version": case.version,
        "test": case.test,
        "summary": case.summary,
        "description": case.description,
        "severity": {"key": level["key"], "name": level["name"]},
        "customer": case.customer,
        "intake": case.intake,
        "product": ({**case.product, "obsolete": case.product_obsolete} if case.product else None),
        "process": {
            "id": case.process_id,
            "version": version.number,
            "name": version.content["name"],
        },
        "submitter": party(Side.submitter),
        "receiver": party(Side.receiver),
        "escalation_level": case.escalation_level,
        "response_due_at": case.response_due_at,
        "responded_at": case.responded_at,
        "next_update_due_at": case.next_update_due_at,
        "deadlines": deadlines(case, now),
        "accepted_at": case.accepted_at,
        "resolved_at": case.resolved_at,
        "closed_at": case.closed_at,
        "next_steps": case.next_steps,
        "resolution": case.resolution,
        "rejection": rejection,
        "allowed_actions": allowed_actions(case, side, now),
    }


_TIMES = (
    "created_at",
    "updated_at",
    "response_due_at",
    "responded_at",
    "next_update_due_at",
    "accepted_at",
    "resolved_at",
    "closed_at",
)
_PERSON = ("name", "email", "phone")
_DEADLINE = ("due_at", "state", "remaining_seconds")


def case_json(case: Case, side: Side, now: datetime) -> dict:
    """``case_document`` as JSON-ready values: exactly what the ``CaseOut`` schema dumps
    it to (a test holds the two equal), without marshmallow. Dumping through the schema
    was most of the time of an inbox page and of every webhook fan-out."""
    doc = case_document(case, side, now)
    for key in _TIMES:
        doc[key] = _iso(doc[key])
    doc["status"], doc["side"] = str(doc["status"]), str(doc["side"])
    for which in ("submitter", "receiver"):
        party = doc[which]
        party["engineer"] = _only(party["engineer"], _PERSON)
        party["escalation_manager"] = _only(party["escalation_manager"], _PERSON)
    doc["deadlines"] = {
        name: {**_only(clock, _DEADLINE), "due_at": _iso(clock.get("due_at"))}
        if "due_at" in clock
        else _only(clock, _DEADLINE)
        for name, clock in doc["deadlines"].items()
    }
    doc["allowed_actions"] = [str(action) for action in doc["allowed_actions"]]
    return doc


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _only(value: dict | None, keys: tuple[str, ...]) -> dict | None:
    # A nested schema dumps the fields it knows, and leaves out the ones not there.
    return None if value is None else {k: value[k] for k in keys if k in value}
