"""The case state machine: which side may take which action in which status.

One table drives the service's checks and every case body's ``allowed_actions``, so
trackers and pages never re-implement the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from exchange.cases.models import Case, CaseStatus, Side

S = CaseStatus
ACTIVE = frozenset({S.open, S.information_requested, S.accepted})
REOPEN_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Transition:
    sources: frozenset[CaseStatus]
    sides: frozenset[Side]
    target: CaseStatus | None  # None: the status does not change


def _t(sources, sides, target=None) -> Transition:
    return Transition(frozenset(sources), frozenset(sides), target)


SUB, REC, BOTH = {Side.submitter}, {Side.receiver}, {Side.submitter, Side.receiver}

TRANSITIONS: dict[str, Transition] = {
    "accept": _t({S.open}, REC, S.accepted),
    # After accepting too (engineers ask for logs); the answer returns the case to the
    # status it was asked in: open, or accepted (see permits and the service).
    "request-information": _t({S.open, S.accepted}, REC, S.information_requested),
    "provide-information": _t({S.information_requested}, SUB, S.open),
    "reject": _t({S.open, S.information_requested}, REC, S.rejected),
    "withdraw": _t({S.open, S.information_requested}, SUB, S.withdrawn),
    "resolve": _t({S.accepted, S.information_requested}, REC, S.resolved),
    "close": _t({S.accepted, S.resolved, S.information_requested}, SUB, S.closed),
    "reopen": _t({S.resolved, S.closed}, SUB, S.accepted),
    "assign": _t(ACTIVE | {S.resolved}, BOTH),
    "escalate": _t(ACTIVE, BOTH),
    "assign-escalation-manager": _t(ACTIVE | {S.resolved}, BOTH),
    "change-severity": _t(ACTIVE, BOTH),
    "add-note": _t(set(S), BOTH),
    "add-attachment": _t(set(S), BOTH),
    "set-reference": _t(set(S), BOTH),
}

# While information is requested: whether the action needs the case accepted before.
AFTER_ACCEPTING = {"resolve": True, "close": True, "reject": False, "withdraw": False}

# The actions a case body lists (notes, attachments and references are always there).
LISTED = [a for a in TRANSITIONS if a not in ("add-note", "add-attachment", "set-reference")]


def permits(action: str, case: Case, side: Side, now: datetime) -> bool:
    rule = TRANSITIONS[action]
    if case.status not in rule.sources or side not in rule.sides:
        return False
    if case.status == S.information_requested and action in AFTER_ACCEPTING:
        # A case asked for information after it was accepted is finished as an accepted
        # case is (resolve, close); one asked before stays rejectable and withdrawable.
        return (case.accepted_at is not None) == AFTER_ACCEPTING[action]
    if action == "reopen" and case.status == S.closed:
        # A closed case can be reopened for 30 days (a withdrawn one, never worked, is
        # final). Closed cases from before withdrawn had a status of its own have
        # become withdrawn ones if never accepted (migration 5d2e8a7c1b90).
        closed_at = case.closed_at or now
        return case.accepted_at is not None and now - closed_at <= REOPEN_WINDOW
    return True


def allowed_actions(case: Case, side: Side, now: datetime) -> list[str]:
    return [a for a in LISTED if permits(a, case, side, now)]
