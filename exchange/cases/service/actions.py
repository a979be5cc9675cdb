"""What the two sides do to a case after it is opened: respond, work, escalate, finish.

Each function checks the state machine through ``prepare`` (side, status, If-Match),
changes the case, and appends one event whose ``data.changes`` names what changed.
"""

from __future__ import annotations

from datetime import datetime

from exchange.cases import deadlines
from exchange.cases.models import Case, CaseStatus, Side
from exchange.cases.service.common import prepare, record
from exchange.cases.service.opening import _severity_errors, engineer_of
from exchange.db import db
from exchange.errors import ValidationFailed
from exchange.members import service as members
from exchange.members.models import Member, Role, User
from exchange.processes import service as processes
from exchange.processes.escalation import path_for
from exchange.processes.models import ContactRole


def _changes(case: Case, **new) -> dict:
    """Apply ``new`` attribute values; returns {field: {"from", "to"}} for the event."""
    changes = {}
    for name, value in new.items():
        old = getattr(case, name)
        if old != value:
            setattr(case, name, value)
            changes[name] = {"from": _plain(old), "to": _plain(value)}
    return changes


def _plain(value):
    if isinstance(value, User):
        return value.email
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _first_response(case: Case, now: datetime) -> None:
    if case.responded_at is None:
        case.responded_at = now


def accept(
    *,
    actor,
    case_id: int,
    receiver_reference: str | None = None,
    engineer: str | None = None,
    next_steps: str | None = None,
    if_match: str | None = None,
    now: datetime | None = None,
) -> Case:
    case, side, now = prepare(
        actor=actor, case_id=case_id, action="accept", if_match=if_match, now=now
    )
    email = engineer or (actor.user.email if actor.user else None)
    if email is None:
        raise ValidationFailed(
            errors={"engineer": ["A program must name the receiving engineer's e-mail."]}
        )
    user = engineer_of(case.receiver, email)
    _first_response(case, now)
    deadlines.stop_response_clock(case, now)
    changes = _changes(
        case,
        status=CaseStatus.accepted,
        receiver_engineer=user,
        receiver_reference=receiver_reference or case.receiver_reference,
        next_steps=next_steps,
        accepted_at=now,
    )
    record(case, actor=actor, side=side, type="case.accepted", now=now, data={"changes": changes})
    return case


def request_information(
    *, actor, case_id: int, question: str, if_match: str | None = None, now: datetime | None = None
) -> Case:
    case, side, now = prepare(
        actor=actor, case_id=case_id, action="request-information", if_match=if_match, now=now
    )
    _first_response(case, now)
    # Before acceptance the response clock pauses until the answer; after it the
    # response was met already, and the update cadence rests while the receiver waits.
    deadlines.pause_response_clock(case, now)
    changes = _changes(case, status=CaseStatus.information_requested)
    record(
        case,
        actor=actor,
        side=side,
        type="case.information_requested",
        now=now,
        data={"changes": changes, "question": question},
    )
    return case


def provide_information(
    *, actor, case_id: int, answer: str, if_match: str | None = None, now: datetime | None = None
) -> Case:
    case, side, now = prepare(
        actor=actor, case_id=case_id, action="provide-information", if_match=if_match, now=now
    )
    if case.accepted_at is not None:
        # Asked after accepting: back to work, the update cadence runs from the answer.
        changes = _changes(case, status=CaseStatus.accepted)
    else:
        changes = _changes(case, status=CaseStatus.open)
        deadlines.start_response_clock(case, now)
    record(
        case,
        actor=actor,
        side=side,
        type="case.information_provided",
        now=now,
        data={"changes": changes, "answer": answer},
    )
    return case


def reject(
    *,
    actor,
    case_id: int,
    reason: str,
    explanation: str,
    if_match: str | None = None,
    now: datetime | None = None,
) -> Case:
    case, side, now = prepare(
        actor=actor, case_id=case_id, action="reject", if_match=if_match, now=now
    )
    codes = [r["code"] for r in case.process_version.content.get("rejection_reasons", [])]
    if reason not in codes:
        raise ValidationFailed(
            errors={"reason": [f"One of this process's codes: {', '.join(codes)}."]}
        )
    _first_response(case, now)
    deadlines.stop_response_clock(case, now)
    changes = _changes(
        case, status=CaseStatus.rejected, rejection_reason=reason, rejection_explanation=explanation
    )
    record(case, actor=actor, side=side, type="case.rejected", now=now, data={"changes": changes})
    return case


def withdraw(
    *,
    actor,
    case_id: int,
    explanation: str,
    if_match: str | None = None,
    now: datetime | None = None,
) -> Case:
    case, side, now = prepare(
        actor=actor, case_id=case_id, action="withdraw", if_match=if_match, now=now
    )
    changes = _changes(case, status=CaseStatus.withdrawn, closed_at=now)
    deadlines.stop_response_clock(case, now)
    record(
        case,
        actor=actor,
        side=side,
        type="case.withdrawn",
        now=now,
        data={"changes": changes, "explanation": explanation},
    )
    return case


def resolve(
    *,
    actor,
    case_id: int,
    resolution: str,
    if_match: str | None = None,
    now: datetime | None = None,
) -> Case:
    case, side, now = prepare(
        actor=actor, case_id=case_id, action="resolve", if_match=if_match, now=now
    )
    changes = _changes(case, status=CaseStatus.resolved, resolution=resolution, resolved_at=now)
    record(case, actor=actor, side=side, type="case.resolved", now=now, data={"changes": changes})
    return case


def close(
    *,
    actor,
    case_id: int,
    resolution: str | None = None,
    if_match: str | None = None,
    now: datetime | None = None,
) -> Case:
    case, side, now = prepare(
        actor=actor, case_id=case_id, action="close", if_match=if_match, now=now
    )
    changes = _changes(
        case, status=CaseStatus.closed, closed_at=now, resolution=resolution or case.resolution
    )
    record(case, actor=actor, side=side, type="case.closed", now=now, data={"changes": changes})
    return case


def reopen(
    *, actor, case_id: int, reason: str, if_match: str | None = None, now: datetime | None = None
) -> Case:
    case, side, now = prepare(
        actor=actor, case_id=case_id, action="reopen", if_match=if_match, now=now
    )
    changes = _changes(case, status=CaseStatus.accepted, resolved_at=None, closed_at=None)
    record(
        case,
        actor=actor,
        side=side,
        type="case.reopened",
        now=now,
        data={"changes": changes, "reason": reason},
    )
    return case


def assign(
    *, actor, case_id: int, engineer: str, if_match: str | None = None, now: datetime | None = None
) -> Case:
    """Name another engineer for one's own side (a user of one's own member)."""
    case, side, now = prepare(
        actor=actor, case_id=case_id, action="assign", if_match=if_match, now=now
    )
    member = case.submitter if side == Side.submitter else case.receiver
    user = engineer_of(member, engineer)
    changes = _changes(case, **{f"{side}_engineer": user})
    record(
        case,
        actor=actor,
        side=side,
        type="case.engineer_assigned",
        now=now,
        data={"changes": changes},
    )
    return case


def assign_escalation_manager(
    *,
    actor,
    case_id: int,
    escalation_manager: str,
    if_match: str | None = None,
    now: datetime | None = None,
) -> Case:
    """Name or replace one's own side's escalation manager: an active user of one's own
    member holding the escalation-manager role. Later escalations keep whom a side
    named; the exchange picks one only for a side that named nobody."""
    case, side, now = prepare(
        actor=actor,
        case_id=case_id,
        action="assign-escalation-manager",
        if_match=if_match,
        now=now,
    )
    member = case.submitter if side == Side.submitter else case.receiver
    user = members.find_user_by_email(email=escalation_manager)
    if user is None or user.member_id != member.id or not user.is_active:
        raise ValidationFailed(
            errors={"escalation_manager": [f"No active user of {member.slug!r} has this e-mail."]}
        )
    if not user.has_role(Role.escalation_manager):
        raise ValidationFailed(
            errors={"escalation_manager": ["This user is not an escalation manager."]}
        )
    person = {"name": user.name, "email": user.email, "phone": user.phone}
    field = f"{side}_escalation_manager"
    if getattr(case, field) == person:
        raise ValidationFailed(
            errors={"escalation_manager": ["Already this side's escalation manager."]}
        )
    changes = _changes(case, **{field: person})
    record(
        case,
        actor=actor,
        side=side,
        type="case.escalation_manager_assigned",
        now=now,
        data={"changes": changes},
    )
    return case


def _manager_from_path(member: Member) -> dict | None:
    """The first escalation-manager contact on the member's own escalation path."""
    for process in processes.processes_of(member):
        version = processes.current_version(process)
        tiers = version.content["escalation_path"] if version else []
        for tier in tiers:
            for contact in tier["contacts"]:
                if contact.get("role") == ContactRole.escalation_manager:
                    return {
                        "name": contact["name"],
                        "email": contact.get("email"),
                        "phone": contact.get("phone"),
                    }
    return None


def _manager_for(case: Case, side: Side) -> dict | None:
    """Escalation manager of a side: from the case's pinned path (receiver) or the side's
    own published path, else the member's first active escalation-manager user."""
    # Reads of processes and users only: the events being written wait for the commit
    # (a deadline scan escalating a hundred cases then writes them in one statement).
    with db.session.no_autoflush:
        return _find_manager(case, side)


def _find_manager(case: Case, side: Side) -> dict | None:
    member = case.submitter if side == Side.submitter else case.receiver
    if side == Side.receiver:
        content = case.process_version.content
        # The current severity's path first: its manager is the one paged for this case.
        for tier in path_for(content, case.severity) + content["escalation_path"]:
            for contact in tier["contacts"]:
                if contact.get("role") == ContactRole.escalation_manager:
                    return {
                        "name": contact["name"],
                        "email": contact.get("email"),
                        "phone": contact.get("phone"),
                    }
    found = _manager_from_path(member)
    if found:
        return found
    for user in member.users:
        if user.is_active and user.has_role(Role.escalation_manager):
            return {"name": user.name, "email": user.email, "phone": user.phone}
    return None


def escalate(
    *, actor, case_id: int, reason: str, if_match: str | None = None, now: datetime | None = None
) -> Case:
    """Raise the escalation level and pair both sides' escalation managers."""
    case, side, now = prepare(
        actor=actor, case_id=case_id, action="escalate", if_match=if_match, now=now
    )
    changes = _changes(
        case,
        escalation_level=case.escalation_level + 1,
        submitter_escalation_manager=case.submitter_escalation_manager
        or _manager_for(case, Side.submitter),
        receiver_escalation_manager=case.receiver_escalation_manager
        or _manager_for(case, Side.receiver),
    )
    record(
        case,
        actor=actor,
        side=side,
        type="case.escalated",
        now=now,
        data={"changes": changes, "reason": reason},
    )
    return case


def change_severity(
    *,
    actor,
    case_id: int,
    severity: str,
    business_impact: str,
    if_match: str | None = None,
    now: datetime | None = None,
) -> Case:
    case, side, now = prepare(
        actor=actor, case_id=case_id, action="change-severity", if_match=if_match, now=now
    )
    content = case.process_version.content
    errors = _severity_errors(content, severity, side)
    if not errors and severity == case.severity:
        errors = {"severity": ["The case already has this severity."]}
    if errors:
        raise ValidationFailed(errors=errors)
    changes = _changes(case, severity=severity)
    # A running response clock aims at the new commitment, less what it has used; the
    # update cadence follows the new severity from now (record() re-times it).
    old_due = case.response_due_at
    deadlines.retime_response_clock(case)
    if case.response_due_at != old_due:
        changes["response_due_at"] = {"from": _plain(old_due), "to": _plain(case.response_due_at)}
    if case.status == CaseStatus.accepted:
        case.next_update_due_at = None
    record(
        case,
        actor=actor,
        side=side,
        type="case.severity_changed",
        now=now,
        data={"changes": changes, "business_impact": business_impact},
    )
    return case


def set_reference(
    *,
    actor,
    case_id: int,
    reference: str | None,
    if_match: str | None = None,
    now: datetime | None = None,
) -> Case:
    """A side stores its own tracker's ticket id for the case."""
    case, side, now = prepare(
        actor=actor, case_id=case_id, action="set-reference", if_match=if_match, now=now
    )
    changes = _changes(case, **{f"{side}_reference": reference})
    if changes:
        record(
            case,
            actor=actor,
            side=side,
            type="case.reference_set",
            now=now,
            data={"changes": changes},
        )
    return case
