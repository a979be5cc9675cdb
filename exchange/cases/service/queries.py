"""Reading cases: lists with filters and counts, and a case's history."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from exchange.cases import tallies
from exchange.cases.models import Case, CaseEvent, CaseStatus
from exchange.cases.service.common import get_case
from exchange.db import db
from exchange.errors import NotFound, ValidationFailed
from exchange.members import service as members
from exchange.pagination import Page, paginate


def _filtered(
    actor,
    *,
    direction=None,
    status=None,
    severity=None,
    partner=None,
    updated_after=None,
    q=None,
    test=None,
):
    me = actor.member.id
    if direction == "inbound":
        stmt = select(Case).where(Case.receiver_id == me)
    elif direction == "outbound":
        stmt = select(Case).where(Case.submitter_id == me)
    else:
        stmt = select(Case).where(or_(Case.receiver_id == me, Case.submitter_id == me))
    if severity:
        stmt = stmt.where(Case.severity == severity)
    if partner:
        try:
            other = members.get_member(slug=partner).id
        except NotFound as exc:
            raise ValidationFailed(errors={"partner": [f"No member {partner!r}."]}) from exc
        stmt = stmt.where(or_(Case.receiver_id == other, Case.submitter_id == other))
    if updated_after:
        stmt = stmt.where(Case.updated_at > updated_after)
    if test is not None:
        stmt = stmt.where(Case.test.is_(test))
    if q:
        needle = q.strip().lower()
        clauses = [
            func.lower(Case.summary).contains(needle, autoescape=True),
            func.lower(Case.submitter_reference).contains(needle, autoescape=True),
            func.lower(Case.receiver_reference).contains(needle, autoescape=True),
        ]
        number = needle.upper().removeprefix("CX-").lstrip("0")
        if number.isdigit() and len(number) < 19:
            clauses.append(Case.id == int(number))
        stmt = stmt.where(or_(*clauses))
    if status:
        stmt = stmt.where(Case.status.in_(status))
    return stmt


def list_cases(*, actor, limit: int | None = None, cursor: str | None = None, **filters) -> Page:
    """The actor's cases (both directions unless ``direction``), newest activity first."""
    actor.require("cases:read")
    stmt = _filtered(actor, **filters).options(*DOCUMENT_LOADS)
    return paginate(
        stmt,
        [Case.updated_at, Case.id],
        limit=limit,
        cursor=cursor,
        key_of=lambda c: [c.updated_at.isoformat(), c.id],
        descending=True,
    )


def counts_by_status(*, actor, **filters) -> dict[str, int]:
    """How many of the actor's cases are in each status (test cases are counted nowhere).

    Without filters beyond the direction the answer comes from the member's tallies
    (a few rows); any other filter counts the matching cases.
    """
    if not any(v for k, v in filters.items() if k not in ("direction", "status", "test")):
        return tallies.tallied(db.session, actor.member.id, filters.get("direction"))
    filters = {**filters, "status": None, "test": False}
    stmt = (
        _filtered(actor, **filters)
        .with_only_columns(Case.status, func.count())
        .group_by(Case.status)
    )
    counts = {status.value: 0 for status in CaseStatus}
    counts.update({str(status): n for status, n in db.session.execute(stmt)})
    return counts


def list_events(*, actor, case_id: int, after: int | None = None) -> list[CaseEvent]:
    case = get_case(actor=actor, case_id=case_id)
    stmt = select(CaseEvent).where(CaseEvent.case_id == case.id)
    if after:
        stmt = stmt.where(CaseEvent.sequence > after)
    return list(db.session.scalars(stmt.order_by(CaseEvent.sequence)))


# What a case's document reads, for a whole page (or a batch of due cases) in one more
# query each. Not joined into the page's query: with five outer joins PostgreSQL's plan
# for the inbox page at a million cases became unstable (0.9 to 1.7 times the time at
# ten thousand, in two runs); and rows taken under lock cannot be outer-joined there.
DOCUMENT_LOADS = (
    selectinload(Case.process_version),
    selectinload(Case.submitter),
    selectinload(Case.receiver),
    selectinload(Case.submitter_engineer),
    selectinload(Case.receiver_engineer),
)

ACTIVE_STATUSES = [CaseStatus.open, CaseStatus.information_requested, CaseStatus.accepted]


def dashboard(*, actor, limit: int = 25) -> dict[str, list[Case]]:
    """The start page's lists: inbound cases waiting for our response (soonest deadline
    first, overdue ones at the top), outbound cases waiting on a partner, the person's
    own cases, and escalated cases."""
    actor.require("cases:read")
    me = actor.member.id
    inbound = select(Case).where(Case.receiver_id == me, Case.status == CaseStatus.open)
    inbound = inbound.order_by(Case.response_due_at.is_(None), Case.response_due_at, Case.id)
    outbound = (
        select(Case)
        .where(
            Case.submitter_id == me,
            Case.status.in_([CaseStatus.open, CaseStatus.accepted]),
        )
        .order_by(Case.updated_at.desc(), Case.id.desc())
    )
    escalated = (
        select(Case)
        .where(
            or_(Case.receiver_id == me, Case.submitter_id == me),
            Case.escalation_level > 0,
            Case.status.in_(ACTIVE_STATUSES),
        )
        .order_by(Case.updated_at.desc(), Case.id.desc())
    )
    lists = {
        "inbound": inbound,
        "outbound": outbound,
        "escalated": escalated,
    }
    if actor.user is not None:
        uid = actor.user.id
        lists["mine"] = (
            select(Case)
            .where(
                or_(Case.submitter_engineer_id == uid, Case.receiver_engineer_id == uid),
                Case.status.in_([*ACTIVE_STATUSES, CaseStatus.resolved]),
            )
            .order_by(Case.updated_at.desc(), Case.id.desc())
        )
    return {
        name: list(db.session.scalars(stmt.options(*DOCUMENT_LOADS).limit(limit)))
        for name, stmt in lists.items()
    }
