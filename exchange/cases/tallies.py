"""Case tallies: per member, direction and status, kept with every change of a case.

A session listener notes, at each flush, which cases were added or changed status, and
applies the sums just before the transaction commits: the tally rows are then locked
only for the commit itself, so cases opened against the same member at the same time
on PostgreSQL do not queue behind each other for the whole of their transactions.
Test cases are never counted (lists count them nowhere either).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import delete, event, func, inspect, literal, select, union_all
from sqlalchemy.orm import Session

from exchange.cases.models import Case, CaseStatus, CaseTally

_PENDING = "exchange.case_tallies"
Key = tuple[int, str, str]  # member id, direction, status


def _keys(case: Case, status) -> list[Key]:
    submitter = case.submitter_id if case.submitter_id is not None else case.submitter.id
    receiver = case.receiver_id if case.receiver_id is not None else case.receiver.id
    return [(submitter, "outbound", str(status)), (receiver, "inbound", str(status))]


def _after_flush(session: Session, _context) -> None:
    deltas: Counter = session.info.setdefault(_PENDING, Counter())
    for obj in session.new:
        if isinstance(obj, Case) and not obj.test:
            for key in _keys(obj, obj.status):
                deltas[key] += 1
    for obj in session.deleted:
        if isinstance(obj, Case) and not obj.test:
            for key in _keys(obj, inspect(obj).committed_state.get("status", obj.status)):
                deltas[key] -= 1
    for obj in session.dirty:
        if not isinstance(obj, Case) or obj.test:
            continue
        history = inspect(obj).attrs.status.history
        if not history.has_changes():
            continue
        for old in history.deleted:
            for key in _keys(obj, old):
                deltas[key] -= 1
        for new in history.added:
            for key in _keys(obj, new):
                deltas[key] += 1


def _before_commit(session: Session) -> None:
    session.flush()  # the last changes are counted too
    deltas: Counter = session.info.pop(_PENDING, Counter())
    rows = [
        {"member_id": member_id, "direction": direction, "status": status, "count": change}
        # Sorted, so two transactions take the rows they share in the same order.
        for (member_id, direction, status), change in sorted(deltas.items())
        if change
    ]
    if rows:
        # Core and one prepared statement for any number of rows: building an ORM
        # upsert of the rows' values took as long as running it.
        session.connection().execute(_upsert(session.get_bind().dialect.name), rows)


_UPSERTS: dict = {}


def _upsert(dialect: str):
    if dialect not in _UPSERTS:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        table = CaseTally.__table__
        stmt = insert(table)
        _UPSERTS[dialect] = stmt.on_conflict_do_update(
            index_elements=["member_id", "direction", "status"],
            set_={"count": table.c.count + stmt.excluded.count},
        )
    return _UPSERTS[dialect]


def _forget(session: Session, *_args) -> None:
    session.info.pop(_PENDING, None)


def connect() -> None:
    """Listen on every session (the app's, the tests', the bench's)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_rollback", _forget)
        event.listen(Session, "after_soft_rollback", _forget)


def tallied(session: Session, member_id: int, direction: str | None) -> dict[str, int]:
    """The member's counts per status, for one direction or both."""
    stmt = (
        select(CaseTally.status, func.sum(CaseTally.count))
        .where(CaseTally.member_id == member_id)
        .group_by(CaseTally.status)
    )
    if direction:
        stmt = stmt.where(CaseTally.direction == direction)
    counts = {status.value: 0 for status in CaseStatus}
    counts.update({str(status): int(n) for status, n in session.execute(stmt)})
    return counts


def recount(session: Session) -> None:
    """Rebuild every tally from the cases (after a bulk load outside the application)."""
    session.execute(delete(CaseTally))
    directions = [("outbound", Case.submitter_id), ("inbound", Case.receiver_id)]
    rows = union_all(
        *(
            select(member, literal(name), Case.status, func.count())
            .where(Case.test.is_(False))
            .group_by(member, Case.status)
            for name, member in directions
        )
    )
    session.execute(
        CaseTally.__table__.insert().from_select(
            ["member_id", "direction", "status", "count"], rows
        )
    )


def total(session: Session) -> int:
    """Cases counted, once each (each case is tallied for both of its parties)."""
    return int(session.scalar(select(func.coalesce(func.sum(CaseTally.count), 0))) or 0) // 2
