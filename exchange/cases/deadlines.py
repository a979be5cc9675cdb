"""The case's clocks: the receiver's response commitment and its update cadence, counted
on the receiver's coverage calendar (the process version the case pinned).

The response clock runs from opening, stops while information is requested (keeping
what it has used), resumes with the rest when the information is provided, and ends at
the receiver's response (accept or reject). A severity change re-times a running clock
for the new commitment, less what is used. ``null`` commitments have no deadline.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from exchange.cases.models import Case, CaseStatus, Side
from exchange.processes.calendar import add_business_time, business_time_between
from exchange.processes.escalation import path_for


def _coverage(case: Case) -> dict:
    return case.process_version.content.get("coverage") or {"mode": "24x7"}


def _minutes(case: Case, name: str) -> int | None:
    return case.severity_level().get(name)


def due_after(start: datetime, minutes: int | None, coverage: dict) -> datetime | None:
    """``minutes`` of working time on ``coverage`` after ``start``; None for no commitment."""
    if minutes is None:
        return None
    return add_business_time(start, timedelta(minutes=minutes), coverage)


def _after_used(case: Case, minutes: int) -> datetime:
    """When the running response clock will have used ``minutes`` in all."""
    used = timedelta(seconds=case.response_used_seconds)
    left = max(timedelta(minutes=minutes) - used, timedelta(0))
    return add_business_time(case.response_clock_started_at, left, _coverage(case))


def _time_response(case: Case) -> None:
    commitment = _minutes(case, "response_minutes")
    running = case.response_clock_started_at is not None
    case.response_due_at = _after_used(case, commitment) if running and commitment else None
    time_escalation(case)


def time_escalation(case: Case) -> None:
    """The next tier of the receiver's escalation path triggers once the response clock
    has run its ``after_minutes`` without a response.

    The path is the one of the case's current severity. ``escalation_tier`` counts the
    tiers walked, so after a severity change the case goes on with the next tier of the
    new path (and a tier whose time has passed already triggers at the next scan).
    """
    tiers = path_for(case.process_version.content, case.severity)
    if case.response_clock_started_at is None or case.escalation_tier >= len(tiers):
        case.next_escalation_at = None
        return
    case.next_escalation_at = _after_used(case, tiers[case.escalation_tier]["after_minutes"])


def start_response_clock(case: Case, now: datetime) -> None:
    case.response_clock_started_at = now
    case.response_breached_at = None
    _time_response(case)


def pause_response_clock(case: Case, now: datetime) -> None:
    if case.response_clock_started_at is not None:
        used = business_time_between(case.response_clock_started_at, now, _coverage(case))
        case.response_used_seconds += int(used.total_seconds())
    case.response_clock_started_at = None
    case.response_due_at = None
    case.next_escalation_at = None


def stop_response_clock(case: Case, now: datetime) -> None:
    """The receiver responded: the clock ends (a late response is recorded as a breach)."""
    if case.response_due_at is not None and now > case.response_due_at:
        case.response_breached_at = case.response_breached_at or case.response_due_at
    case.response_clock_started_at = None
    case.response_due_at = None
    case.next_escalation_at = None


def retime_response_clock(case: Case) -> None:
    """After a severity change: the running clock aims at the new commitment."""
    _time_response(case)


def _housekeeping(case: Case, side: Side, now: datetime) -> None:
    """Auto-close of resolved cases (with a notice first) and inactivity reminders."""
    config = current_app.config
    if case.status == CaseStatus.resolved:
        if case.autoclose_at is None:
            case.autoclose_at = now + timedelta(days=config["AUTO_CLOSE_RESOLVED_DAYS"])
            notice = case.autoclose_at - timedelta(days=config["AUTO_CLOSE_NOTICE_DAYS"])
            case.autoclose_notice_at = notice if notice > now else None
    else:
        case.autoclose_at = case.autoclose_notice_at = None
    if case.status == CaseStatus.accepted:
        # Activity is what people do; the exchange's own notices do not count.
        if side != Side.system or case.inactivity_reminder_at is None:
            days = config["INACTIVITY_REMINDER_DAYS"]
            case.inactivity_reminder_at = now + timedelta(days=days)
    else:
        case.inactivity_reminder_at = None


def after_event(case: Case, side: Side, now: datetime) -> None:
    """After every event: housekeeping alarms, and the update cadence (due while
    accepted, reset by every receiver-side event)."""
    _housekeeping(case, side, now)
    if case.status != CaseStatus.accepted:
        case.next_update_due_at = None
        case.update_breached_at = None
        case.update_reminder_at = None
        return
    if side == Side.receiver or case.next_update_due_at is None:
        cadence = _minutes(case, "update_minutes")
        case.next_update_due_at = due_after(now, cadence, _coverage(case))
        case.update_breached_at = None
        case.update_reminder_at = None


def _state(due: datetime | None, breached: datetime | None, now: datetime) -> dict:
    if due is None:
        return {"due_at": None, "state": "none", "remaining_seconds": None}
    remaining = int((due - now).total_seconds())
    state = "breached" if breached or remaining < 0 else "running"
    return {"due_at": due, "state": state, "remaining_seconds": remaining}


def deadlines(case: Case, now: datetime) -> dict:
    """What the case's JSON says about its clocks: due time, state and time remaining."""
    response = _state(case.response_due_at, case.response_breached_at, now)
    if (
        case.status == CaseStatus.information_requested
        and case.accepted_at is None
        and case.response_due_at is None
        and _minutes(case, "response_minutes") is not None
    ):
        response = {
            "due_at": None,
            "state": "paused",
            "remaining_seconds": max(
                _minutes(case, "response_minutes") * 60 - case.response_used_seconds, 0
            ),
        }
    elif case.response_due_at is None and case.responded_at is not None:
        state = "breached" if case.response_breached_at else "met"
        response = {"due_at": None, "state": state, "remaining_seconds": None}
    return {
        "response": response,
        "update": _state(case.next_update_due_at, case.update_breached_at, now),
    }
