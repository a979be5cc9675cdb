"""What happens when a case's clocks run out: the worker's deadline scan.

Besides breaches and escalation it keeps the reminders (an overdue update hourly,
inactivity after 30 days), closes resolved cases the submitter left alone, and flags
open cases whose product version reached its end of support.

Each breach is announced once (``case.response_overdue``, ``case.update_overdue``) and
the receiver's escalation path for the case's severity is walked tier by tier while no
response comes. Scans
read only due rows through the alarm indexes; a worker that was down catches up with
each breach once, oldest first.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from exchange.auth.actor import SYSTEM
from exchange.cases import deadlines
from exchange.cases.models import UNFLAGGED_OPEN, Case, CaseStatus, Side
from exchange.cases.service.actions import _changes, _manager_for
from exchange.cases.service.common import record
from exchange.cases.service.queries import DOCUMENT_LOADS
from exchange.db import db, transaction
from exchange.members.models import ProductVersion
from exchange.notifications import rules
from exchange.processes.escalation import path_for

REMINDER_EVERY = timedelta(hours=1)


def _due(column, fired, now: datetime, limit: int):
    stmt = select(Case).where(column <= now)
    if fired is not None:
        stmt = stmt.where(fired.is_(None))
    stmt = stmt.order_by(column, Case.id).limit(limit)
    # What the events' documents read, for the whole batch at once.
    return list(db.session.scalars(_locked(stmt).options(*DOCUMENT_LOADS)))


def _locked(stmt):
    """Due cases are changed under lock (PostgreSQL; SQLite's write lock covers it), with
    fresh copies: the next event's sequence comes from the row's version."""
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return stmt.execution_options(populate_existing=True)


def _anything_due(column, fired, now: datetime) -> bool:
    stmt = select(Case.id).where(column <= now)
    if fired is not None:
        stmt = stmt.where(fired.is_(None))
    # A read only: the worker's app context ends it (no write lock on SQLite when idle).
    return db.session.scalar(stmt.limit(1)) is not None


def _response_overdue(case: Case, now: datetime) -> None:
    case.response_breached_at = case.response_due_at
    record(
        case,
        actor=SYSTEM,
        side=Side.system,
        type="case.response_overdue",
        now=now,
        data={"due_at": case.response_due_at.isoformat(), "severity": case.severity},
    )


def _update_overdue(case: Case, now: datetime) -> None:
    case.update_breached_at = case.next_update_due_at
    case.update_reminder_at = now + REMINDER_EVERY
    record(
        case,
        actor=SYSTEM,
        side=Side.system,
        type="case.update_overdue",
        now=now,
        data={"due_at": case.next_update_due_at.isoformat(), "severity": case.severity},
    )


def _escalate_tier(case: Case, now: datetime) -> None:
    tier = path_for(case.process_version.content, case.severity)[case.escalation_tier]
    changes = _changes(
        case,
        escalation_level=case.escalation_level + 1,
        escalation_tier=case.escalation_tier + 1,
        submitter_escalation_manager=case.submitter_escalation_manager
        or _manager_for(case, Side.submitter),
        receiver_escalation_manager=case.receiver_escalation_manager
        or _manager_for(case, Side.receiver),
    )
    deadlines.time_escalation(case)
    record(
        case,
        actor=SYSTEM,
        side=Side.system,
        type="case.escalated",
        now=now,
        data={
            "changes": changes,
            "automatic": True,
            "tier": case.escalation_tier,
            "severity": case.severity,
            "tier_name": tier.get("name", ""),
            "after_minutes": tier["after_minutes"],
            "contacts": tier["contacts"],
            "reason": f"No response after {tier['after_minutes']} minutes of coverage time.",
        },
    )


def _remind_update(case: Case, now: datetime) -> None:
    """While a sev-1-style update stays overdue, the receiving engineer hears hourly."""
    if case.status != CaseStatus.accepted or case.update_breached_at is None:
        case.update_reminder_at = None
        return
    case.update_reminder_at = now + REMINDER_EVERY
    engineer = case.receiver_engineer
    rules.remind(
        case,
        member=case.receiver,
        address=engineer.email if engineer else case.receiver.support_contact_email,
        kind="reminders",
        headline="An update is still overdue",
        lines=[f"It was due at {case.next_update_due_at:%Y-%m-%d %H:%M} UTC."],
    )


def _autoclose_notice(case: Case, now: datetime) -> None:
    case.autoclose_notice_at = None
    engineer = case.submitter_engineer
    rules.remind(
        case,
        member=case.submitter,
        address=engineer.email if engineer else None,
        kind="case_progress",
        headline="This resolved case closes automatically soon",
        lines=[
            f"It will be closed on {case.autoclose_at:%Y-%m-%d %H:%M} UTC unless "
            "you close or reopen it first."
        ],
    )


def _autoclose(case: Case, now: datetime) -> None:
    changes = _changes(case, status=CaseStatus.closed, closed_at=now)
    record(
        case,
        actor=SYSTEM,
        side=Side.system,
        type="case.closed",
        now=now,
        data={
            "changes": changes,
            "automatic": True,
            "reason": "Resolved and neither closed nor reopened by the submitter.",
        },
    )


def _inactivity(case: Case, now: datetime) -> None:
    case.inactivity_reminder_at = now + timedelta(
        days=current_app.config["INACTIVITY_REMINDER_DAYS"]
    )
    for member, engineer in (
        (case.submitter, case.submitter_engineer),
        (case.receiver, case.receiver_engineer),
    ):
        rules.remind(
            case,
            member=member,
            address=engineer.email if engineer else None,
            kind="reminders",
            headline="No activity on this case for 30 days",
            lines=["Add a note, resolve or close the case."],
        )


def _flag_obsolete_products(now: datetime, limit: int) -> int:
    """Open cases naming a version whose end of support has passed are flagged once."""
    # Driven from the (few) versions past their end of support into the cases index of
    # "not flagged yet, by version": the cost follows what is to flag, not all cases.
    ended = select(ProductVersion.id).where(ProductVersion.end_of_support_date < now.date())
    stmt = (
        select(Case)
        # The partial index's own condition, word for word, so both databases use it
        # (``IS false`` and bound statuses read every closed case of an ended version).
        .where(UNFLAGGED_OPEN, Case.product_version_id.in_(ended))
        .order_by(Case.product_version_id, Case.id)
        .limit(limit)
    )
    if db.session.scalar(stmt.with_only_columns(Case.id)) is None:
        return 0
    flagged = 0
    with transaction():
        for case in db.session.scalars(_locked(stmt)):
            case.product_obsolete = True
            record(
                case,
                actor=SYSTEM,
                side=Side.system,
                type="case.product_obsolete",
                now=now,
                data={"product": case.product},
            )
            flagged += 1
    return flagged


def scan_deadlines(*, now: datetime, limit: int = 200) -> int:
    """Fire every alarm that is due; returns how many fired.

    Firing a tier times the next one, which may be due already after a long outage, so
    the scan repeats until nothing more is due (each alarm still fires once).
    """
    jobs = [
        (Case.response_due_at, Case.response_breached_at, _response_overdue),
        (Case.next_update_due_at, Case.update_breached_at, _update_overdue),
        (Case.next_escalation_at, None, _escalate_tier),
        (Case.update_reminder_at, None, _remind_update),
        (Case.autoclose_notice_at, None, _autoclose_notice),
        (Case.autoclose_at, None, _autoclose),
        (Case.inactivity_reminder_at, None, _inactivity),
    ]
    total = _flag_obsolete_products(now, limit)
    while True:
        fired = 0
        for column, done, fire in jobs:
            if not _anything_due(column, done, now):
                continue  # stay read-only when idle (no write lock on SQLite)
            with transaction():
                for case in _due(column, done, now, limit):
                    fire(case, now)
                    fired += 1
        total += fired
        if fired == 0:
            return total
