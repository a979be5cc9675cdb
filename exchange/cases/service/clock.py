"""What happens when a case's clocks run out: the worker's deadline scan.

Each breach is announced once (``case.response_overdue``, ``case.update_overdue``) and
the receiver's escalation path is walked tier by tier while no response comes. Scans
read only due rows through the alarm indexes; a worker that was down catches up with
each breach once, oldest first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from exchange.auth.actor import SYSTEM
from exchange.cases import deadlines
from exchange.cases.models import Case, Side
from exchange.cases.service.actions import _changes, _manager_for
from exchange.cases.service.common import record
from exchange.db import db, transaction


def _due(column, fired, now: datetime, limit: int):
    stmt = select(Case).where(column <= now)
    if fired is not None:
        stmt = stmt.where(fired.is_(None))
    stmt = stmt.order_by(column, Case.id).limit(limit)
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(db.session.scalars(stmt))


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
    record(
        case,
        actor=SYSTEM,
        side=Side.system,
        type="case.update_overdue",
        now=now,
        data={"due_at": case.next_update_due_at.isoformat(), "severity": case.severity},
    )


def _escalate_tier(case: Case, now: datetime) -> None:
    tiers = case.process_version.content.get("escalation_path") or []
    tier = tiers[case.escalation_tier]
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
            "tier_name": tier.get("name", ""),
            "after_minutes": tier["after_minutes"],
            "contacts": tier["contacts"],
            "reason": f"No response after {tier['after_minutes']} minutes of coverage time.",
        },
    )


def scan_deadlines(*, now: datetime, limit: int = 200) -> int:
    """Fire every alarm that is due; returns how many fired.

    Firing a tier times the next one, which may be due already after a long outage, so
    the scan repeats until nothing more is due (each alarm still fires once).
    """
    jobs = [
        (Case.response_due_at, Case.response_breached_at, _response_overdue),
        (Case.next_update_due_at, Case.update_breached_at, _update_overdue),
        (Case.next_escalation_at, None, _escalate_tier),
    ]
    total = 0
    while True:
        fired = 0
        for column, done, fire in jobs:
            with transaction():
                for case in _due(column, done, now, limit):
                    fire(case, now)
                    fired += 1
        total += fired
        if fired == 0:
            return total
