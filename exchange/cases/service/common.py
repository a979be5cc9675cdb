"""What every case operation shares: finding a case for an actor, the side it acts on,
the state-machine check, optimistic concurrency, and appending history events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from exchange import clock
from exchange.cases import deadlines
from exchange.cases.models import Case, CaseEvent, Side
from exchange.cases.signals import SIGNALS, case_event
from exchange.cases.states import allowed_actions, permits
from exchange.db import db
from exchange.errors import InvalidTransition, NotFound, PreconditionFailed

# What a case's document reads besides the case, in the case's own query: a read is
# then two round trips (the token, the case) instead of six.
DOCUMENT_JOINS = (
    joinedload(Case.process_version),
    joinedload(Case.submitter),
    joinedload(Case.receiver),
    joinedload(Case.submitter_engineer),
    joinedload(Case.receiver_engineer),
)


def get_case(*, actor, case_id: int) -> Case:
    """The case if the actor's member is one of its two parties; 404 for everyone else."""
    actor.require("cases:read")
    return load(actor=actor, case_id=case_id, joined=True)


_BY_ID = select(Case).where(Case.id == bindparam("case_id"))
# A change announces the case's document too (webhooks), so it reads the same.
_JOINED = _BY_ID.options(*DOCUMENT_JOINS)
# Serialises concurrent actions on one case on PostgreSQL (SQLite locks the file), and
# refreshes a copy the session may hold already: the next event's sequence comes from
# the locked row's version. Only the case's row is locked (``of``): PostgreSQL cannot
# lock the nullable side of the joins' outer joins.
_LOCKED = _JOINED.with_for_update(of=Case).execution_options(populate_existing=True)
# The statements are built once: SQLAlchemy then reuses their cache keys instead of
# deriving them again on every request.


def load(*, actor, case_id: int, for_update: bool = False, joined: bool = False) -> Case:
    """The case for one of its parties (no scope check: callers check theirs)."""
    stmt = _LOCKED if for_update else _JOINED if joined else _BY_ID
    # An id the INTEGER key cannot hold is simply not there (see db.get_by_id).
    case = db.session.scalar(stmt, {"case_id": case_id}) if 0 < case_id < 2**31 else None
    if case is None or case.side_of(actor.member.id) is None:
        raise NotFound(f"No case {case_id}.")
    return case


def side_of(actor, case: Case) -> Side:
    return case.side_of(actor.member.id)


def etag(case: Case) -> str:
    return f'"{case.id}-{case.version}"'


def check_if_match(case: Case, if_match: str | None) -> None:
    """``If-Match`` with the case's ETag (or ``*``); a stale one is a 412. The comparison
    is strong (RFC 9110 §13.1.1): a weak tag (``W/"..."``) matches nothing."""
    if if_match is None:
        return
    tags = [t.strip() for t in if_match.split(",")]
    if "*" in tags:
        return
    wanted = etag(case)
    if wanted not in tags:
        raise PreconditionFailed(
            f"The case changed since you read it (now {wanted}); fetch it and retry.",
            headers={"ETag": wanted},
        )


def require_action(action: str, case: Case, side: Side, now: datetime) -> None:
    if not permits(action, case, side, now):
        raise InvalidTransition(
            f"{action!r} is not possible for the {side} side of a case that is {case.status}.",
            allowed_actions=allowed_actions(case, side, now),
        )


def prepare(
    *, actor, case_id: int, action: str, if_match: str | None = None, now: datetime | None = None
) -> tuple[Case, Side, datetime]:
    """Load, lock and check a case for ``action``; returns (case, side, now)."""
    actor.require("cases:write")
    now = now or clock.now()
    case = load(actor=actor, case_id=case_id, for_update=True)
    check_if_match(case, if_match)
    side = side_of(actor, case)
    require_action(action, case, side, now)
    return case, side, now


def record(
    case: Case, *, actor, side: Side, type: str, now: datetime, data: dict | None = None
) -> CaseEvent:
    """Append the next event to the case's history and announce it.

    The case must be locked (or new): its ``version`` is its last event's sequence, so
    the next one needs no query; the unique (case, sequence) key refuses a stale copy.
    """
    sequence = case.version + 1
    event = CaseEvent(
        case=case,
        sequence=sequence,
        type=type,
        side=side,
        origin=actor.origin,
        actor_user_id=actor.user.id if actor.user else None,
        actor_client_id=actor.client.client_id if actor.client else None,
        actor_label=actor.label,
        data=data or {},
        created_at=now,
    )
    db.session.add(event)
    case.version = sequence
    case.updated_at = now
    deadlines.after_event(case, side, now)
    # No flush here: the event, the deliveries and mail its receivers add go to the
    # database together at commit (a deadline scan firing a hundred alarms writes them
    # in a few batched statements instead of several per alarm). Receivers read without
    # flushing (``no_autoflush``) where they query.
    SIGNALS[type].send(case, event=event, actor=actor)
    case_event.send(case, event=event, actor=actor)
    return event


def person(user) -> dict | None:
    """A user as the other side sees them on a case."""
    if user is None:
        return None
    return {"name": user.name, "email": user.email, "phone": user.phone}
