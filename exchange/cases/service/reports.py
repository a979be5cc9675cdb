"""Service reports (source 003's monthly service reviews, 004's volume of issues): per
month and per partner, cases opened, closed and withdrawn, time to first response, response
deadlines met or breached, escalations, inbound and outbound. Test cases count nowhere.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select

from exchange.cases.models import Case, CaseStatus
from exchange.db import db
from exchange.members.models import Member


@dataclass
class Figures:
    opened: int = 0
    closed: int = 0
    withdrawn: int = 0
    inbound: int = 0
    outbound: int = 0
    met: int = 0
    breached: int = 0
    escalated: int = 0
    response_minutes: list[float] = field(default_factory=list)

    @property
    def response_median(self) -> float | None:
        values = self.response_minutes
        return round(statistics.median(values), 1) if values else None

    @property
    def response_p90(self) -> float | None:
        values = sorted(self.response_minutes)
        if not values:
            return None
        # Nearest-rank 90th percentile: the value 90 % of first responses stay within.
        rank = max(1, -(-9 * len(values) // 10))
        return round(values[rank - 1], 1)

    def row(self) -> dict:
        return {
            "opened": self.opened,
            "closed": self.closed,
            "withdrawn": self.withdrawn,
            "inbound": self.inbound,
            "outbound": self.outbound,
            "response_median_minutes": self.response_median,
            "response_p90_minutes": self.response_p90,
            "deadlines_met": self.met,
            "deadlines_breached": self.breached,
            "escalated": self.escalated,
        }


def _month(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def _window(year: int, month: int | None) -> tuple[datetime, datetime]:
    if month is None:
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return datetime(year, month, 1, tzinfo=UTC), end


def monthly(
    *, actor, year: int, month: int | None = None, partner: Member | None = None
) -> dict[str, Figures]:
    """Figures per month (``YYYY-MM``) of ``year`` (or the one ``month``) for the actor's
    member, optionally only the cases with ``partner``."""
    actor.require("cases:read")
    start, end = _window(year, month)
    me = actor.member.id
    mine = or_(Case.submitter_id == me, Case.receiver_id == me)
    stmt = select(Case).where(
        mine,
        Case.test.is_(False),
        or_(
            and_(Case.created_at >= start, Case.created_at < end),
            and_(Case.closed_at >= start, Case.closed_at < end),
        ),
    )
    if partner is not None:
        stmt = stmt.where(or_(Case.submitter_id == partner.id, Case.receiver_id == partner.id))
    months: dict[str, Figures] = {}
    for case in db.session.scalars(stmt):
        if start <= case.created_at < end:
            figures = months.setdefault(_month(case.created_at), Figures())
            figures.opened += 1
            if case.receiver_id == me:
                figures.inbound += 1
            else:
                figures.outbound += 1
            if case.responded_at is not None:
                waited = (case.responded_at - case.created_at).total_seconds() / 60
                figures.response_minutes.append(waited)
            if case.response_breached_at is not None:
                figures.breached += 1
            elif case.responded_at is not None:
                figures.met += 1
            if case.escalation_level:
                figures.escalated += 1
        if case.closed_at is not None and start <= case.closed_at < end:
            figures = months.setdefault(_month(case.closed_at), Figures())
            # A withdrawal ends a case nobody worked: its own outcome, not a closure.
            if case.status == CaseStatus.withdrawn:
                figures.withdrawn += 1
            else:
                figures.closed += 1
    first, last = (month or 1), (month or 12)
    return {
        f"{year}-{m:02d}": months.get(f"{year}-{m:02d}", Figures()) for m in range(first, last + 1)
    }


def totals(months: dict[str, Figures]) -> Figures:
    total = Figures()
    for figures in months.values():
        for name in (
            "opened",
            "closed",
            "withdrawn",
            "inbound",
            "outbound",
            "met",
            "breached",
            "escalated",
        ):
            setattr(total, name, getattr(total, name) + getattr(figures, name))
        total.response_minutes += figures.response_minutes
    return total
