"""Who is mailed about what happens to a case.

| event | who | kind (preference) |
| --- | --- | --- |
| opened | the receiver's designated support contact; its engineers who opted in | case_opened |
| accepted, information requested, rejected, resolved | the submitting engineer | case_progress |
| information provided | the receiving engineer, else the support contact | case_progress |
| severity changed | the other side's engineer (receiver: else its contact) | case_progress |
| reopened, closed, withdrawn | the receiving engineer, else the support contact | case_progress |
| engineer assigned | the newly assigned engineer (not who assigned themselves) | assignments |
| note added (with the note's text) | the other side's engineer | notes |
| escalated | both escalation managers; for an automatic tier also its contacts | escalations |
| response overdue | the receiver's designated support contact and engineer | breaches |
| update overdue | the receiving engineer (and again hourly while it stays overdue) | reminders |

Only people of the two parties are ever addressed. A test case mails its submitting
engineer only. People who switched a kind off are not mailed it; contacts that are not
users (and the designated support contact) are always mailed.
"""

from __future__ import annotations

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from exchange.cases.models import Case, CaseEvent, Note
from exchange.db import db
from exchange.members import service as members
from exchange.members.models import Member, Role, User
from exchange.notifications import service

HEADLINES = {
    "case.opened": "New case from {submitter}",
    "case.accepted": "{receiver} accepted your case",
    "case.information_requested": "{receiver} asks for information",
    "case.information_provided": "{submitter} provided the information you asked for",
    "case.rejected": "{receiver} rejected your case",
    "case.resolved": "{receiver} resolved your case",
    "case.note_added": "New note on a case",
    "case.severity_changed": "Severity changed",
    "case.reopened": "{submitter} reopened the case",
    "case.closed": "Case closed",
    "case.withdrawn": "{submitter} withdrew the case",
    "case.engineer_assigned": "You were assigned to a case",
    "case.escalated": "Case escalated",
    "case.response_overdue": "Response overdue",
    "case.update_overdue": "Update overdue",
}


def _person(member: Member, email: str | None, kind: str, users: dict | None = None) -> str | None:
    """``email`` if it may be mailed ``kind``: a user of ``member`` who wants it, or an
    address that is not a user (a contact, the designated support contact). ``users``
    maps addresses to users already looked up (one query for all of an event's)."""
    if not email:
        return None
    user = (
        users.get(email.lower()) if users is not None else members.find_user_by_email(email=email)
    )
    if user is None:
        return email
    if user.member_id != member.id or not user.wants(kind):
        return None
    return user.email


def _users_for(addresses) -> dict:
    """The users with these addresses, looked up once per transaction: a deadline scan
    tells the same few people about a hundred cases in one transaction."""
    wanted = {a.strip().lower() for a in addresses if a}
    known: dict = db.session.info.setdefault(_USERS, {})
    missing = wanted - known.keys()
    if missing:
        known.update(dict.fromkeys(missing))  # None: an address that is not a user
        with db.session.no_autoflush:  # the event being announced is written at commit
            rows = db.session.scalars(select(User).where(User.email.in_(missing)))
            known.update({u.email: u for u in rows})
    return {email: known[email] for email in wanted if known[email] is not None}


_USERS = "exchange.users_by_email"


@event.listens_for(Session, "after_transaction_end")
def _forget_users(session, transaction) -> None:
    if transaction.parent is None:  # the whole transaction, not a flush's own
        session.info.pop(_USERS, None)


@event.listens_for(User, "init")
def _new_user(target, args, kwargs) -> None:
    # Someone added meanwhile is looked up again.
    if db.session.registry.has():
        db.session.info.pop(_USERS, None)


def _engineer(case: Case, side: str):
    return getattr(case, f"{side}_engineer")


def _other_side_engineer(case: Case, event: CaseEvent) -> tuple[Member, str | None]:
    """The engineer of the side that did not act; the receiver's support contact
    stands in for a receiver without one."""
    if event.side == "receiver":
        engineer = _engineer(case, "submitter")
        return case.submitter, engineer.email if engineer else None
    engineer = _engineer(case, "receiver")
    return case.receiver, engineer.email if engineer else case.receiver.support_contact_email


def _newly_assigned(case: Case, event: CaseEvent) -> list[tuple[Member, str | None]]:
    found = []
    for side in ("submitter", "receiver"):
        change = event.data.get("changes", {}).get(f"{side}_engineer")
        # Who takes a case themselves knows it already.
        if change and change["to"] and change["to"] != event.actor_label:
            found.append((getattr(case, side), change["to"]))
    return found


def recipients(case: Case, event: CaseEvent) -> tuple[str, list[tuple[Member, str]]]:
    """(kind, [(member, address)]) for an event; empty when nobody is to be told."""
    sub, rec = case.submitter, case.receiver
    kind, found = "case_progress", []
    match event.type:
        case "case.opened":
            kind = "case_opened"
            found.append((rec, rec.support_contact_email))
            with db.session.no_autoflush:  # the new case is written at commit
                people = rec.users
            found += [
                (rec, u.email)
                for u in people
                if u.has_role(Role.engineer)
                and u.is_active
                and u.notification_settings()["case_opened"]
            ]
        case "case.accepted" | "case.information_requested" | "case.rejected" | "case.resolved":
            engineer = _engineer(case, "submitter")
            found.append((sub, engineer.email if engineer else None))
        case "case.information_provided":
            engineer = _engineer(case, "receiver")
            found.append((rec, engineer.email if engineer else rec.support_contact_email))
        case "case.severity_changed":
            found.append(_other_side_engineer(case, event))
        case "case.reopened" | "case.closed" | "case.withdrawn":
            engineer = _engineer(case, "receiver")
            found.append((rec, engineer.email if engineer else rec.support_contact_email))
        case "case.engineer_assigned":
            kind = "assignments"
            found += _newly_assigned(case, event)
        case "case.note_added":
            kind = "notes"
            side = "receiver" if event.side == "submitter" else "submitter"
            engineer = _engineer(case, side)
            found.append((rec if side == "receiver" else sub, engineer.email if engineer else None))
        case "case.escalated":
            kind = "escalations"
            for member, manager in (
                (sub, case.submitter_escalation_manager),
                (rec, case.receiver_escalation_manager),
            ):
                found.append((member, (manager or {}).get("email")))
            found += [(rec, c.get("email")) for c in event.data.get("contacts", [])]
        case "case.response_overdue":
            kind = "breaches"
            engineer = _engineer(case, "receiver")
            found += [(rec, rec.support_contact_email), (rec, engineer.email if engineer else None)]
        case "case.update_overdue":
            kind = "reminders"
            engineer = _engineer(case, "receiver")
            found.append((rec, engineer.email if engineer else rec.support_contact_email))
        case _:
            return kind, []
    if case.test:
        submitting = _engineer(case, "submitter")
        found = [(m, a) for m, a in found if submitting and a == submitting.email]
    seen, result = set(), []
    users = _users_for(a for _, a in found)
    for member, address in found:
        address = _person(member, address, kind, users)
        if address and address not in seen:
            seen.add(address)
            result.append((member, address))
    return kind, result


def notify(
    case: Case, event: CaseEvent, lines: list[str] | None = None, headline: str | None = None
) -> int:
    kind, addressed = recipients(case, event)
    if not addressed:
        return 0
    title = (headline or HEADLINES[event.type]).format(
        submitter=case.submitter.name, receiver=case.receiver.name
    )
    level = case.severity_level()
    # The note's own text travels with its mail (a reader should not need to sign in
    # to read one line); a redaction takes it out of mail not yet sent.
    note = db.session.get(Note, event.data["note"]) if event.type == "case.note_added" else None
    for member, address in addressed:
        service.queue(
            to=address,
            template="case",
            kind=kind,
            member=member,
            subject=f"[{case.number}] {title}: {case.summary}"[:300],
            case=case,
            headline=title,
            lines=lines or _lines(event),
            severity=level["name"],
            note=note,
        )
    return len(addressed)


def _lines(event: CaseEvent) -> list[str]:
    data = event.data
    lines = []
    for key, label in (
        ("question", "Question"),
        ("answer", "Answer"),
        ("reason", "Reason"),
        ("explanation", "Explanation"),
        ("business_impact", "Business impact"),
        ("due_at", "Was due at"),
    ):
        if data.get(key):
            lines.append(f"{label}: {data[key]}")
    changes = data.get("changes", {})
    if "severity" in changes:
        lines.append(f"Severity: {changes['severity']['from']} → {changes['severity']['to']}")
    if "rejection_reason" in changes:
        lines.append(f"Reason: {changes['rejection_reason']['to']}")
    if "resolution" in changes and changes["resolution"]["to"]:
        lines.append(f"Resolution: {changes['resolution']['to']}")
    lines.append(f"By {event.actor_label} ({event.side}).")
    return lines


def remind(
    case: Case, *, member: Member, address: str | None, kind: str, headline: str, lines: list[str]
) -> int:
    """A reminder about ``case`` (no event of its own) to one person of a party."""
    if case.test and (case.submitter_engineer is None or address != case.submitter_engineer.email):
        return 0
    address = _person(member, address, kind)
    if not address:
        return 0
    service.queue(
        to=address,
        template="case",
        kind=kind,
        member=member,
        subject=f"[{case.number}] {headline}: {case.summary}"[:300],
        case=case,
        headline=headline,
        lines=lines,
        severity=case.severity_level()["name"],
    )
    return 1
