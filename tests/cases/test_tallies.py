"""Case tallies: the counts a list's first page shows come from per-member tallies kept
with every change; they must always equal counting the cases themselves."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from exchange.cases import service, tallies
from exchange.cases.models import Case, CaseStatus, CaseTally
from exchange.db import db, transaction
from tests.cases.conftest import acme_case


def counted(member_id: int, direction: str | None) -> dict[str, int]:
    """What counting the cases says (the slow way the tallies replace)."""
    columns = {"inbound": [Case.receiver_id], "outbound": [Case.submitter_id]}
    wanted = columns.get(direction, [Case.receiver_id, Case.submitter_id])
    counts = {status.value: 0 for status in CaseStatus}
    for column in wanted:
        rows = db.session.execute(
            select(Case.status, func.count())
            .where(column == member_id, Case.test.is_(False))
            .group_by(Case.status)
        )
        for status, n in rows:
            counts[str(status)] += n
    return counts


def assert_tallies_match(world) -> None:
    for party in (world.acme, world.globex, world.initech):
        for direction in ("inbound", "outbound", None):
            assert tallies.tallied(db.session, party.member.id, direction) == counted(
                party.member.id, direction
            ), (party.slug, direction)


def test_tallies_follow_every_status_change(case_world):
    statuses = [
        "open",
        "information_requested",
        "accepted",
        "rejected",
        "resolved",
        "closed",
        "withdrawn",
    ]
    for status in statuses:
        case = case_world.open_case(summary=f"Walked to {status}")
        case_world.bring_to(case["id"], status)
        assert_tallies_match(case_world)
    # The other direction, a third member, a reopened case and a test case (never counted).
    reverse = case_world.open_case(case_world.globex.api, **acme_case())
    case_world.act(case_world.acme.api, reverse["id"], "accept", engineer="erin@acme.example")
    closed = case_world.open_case(summary="Closed, then reopened")
    case_world.bring_to(closed["id"], "closed")
    case_world.act(case_world.acme.api, closed["id"], "reopen")
    case_world.open_case(summary="A test case", test=True)
    assert_tallies_match(case_world)

    page = case_world.acme.api.get("/api/v1/cases").json
    assert page["counts"] == counted(case_world.acme.member.id, None)
    assert sum(page["counts"].values()) == 9  # 7 walked, 1 reverse, 1 reopened; no test case


def test_recount_rebuilds_the_same_tallies(case_world):
    for status in ("accepted", "resolved", "rejected"):
        case_world.bring_to(case_world.open_case()["id"], status)
    before = db.session.execute(select(CaseTally)).scalars().all()
    before = sorted((t.member_id, t.direction, str(t.status), t.count) for t in before)
    with transaction():
        tallies.recount(db.session)
    after = db.session.execute(select(CaseTally)).scalars().all()
    after = sorted((t.member_id, t.direction, str(t.status), t.count) for t in after)
    assert [row for row in after if row[3]] == [row for row in before if row[3]]
    assert_tallies_match(case_world)


def test_a_rolled_back_change_leaves_the_tallies_alone(case_world):
    case = case_world.open_case()
    before = tallies.tallied(db.session, case_world.globex.member.id, "inbound")
    actor = case_world.globex.actor("gustav")
    with pytest.raises(RuntimeError), transaction():
        service.accept(actor=actor, case_id=case["id"], engineer="gustav@globex.example")
        db.session.flush()
        raise RuntimeError("the request fails after the change was flushed")
    assert tallies.tallied(db.session, case_world.globex.member.id, "inbound") == before
    assert_tallies_match(case_world)


def test_filtered_counts_still_count_the_matching_cases(case_world):
    case_world.open_case(severity="3")
    case_world.open_case(severity="2")
    page = case_world.globex.api.get("/api/v1/cases?severity=3").json
    assert page["counts"]["open"] == 1
    assert case_world.globex.api.get("/api/v1/cases").json["counts"]["open"] == 2


def test_recount_command_prints_the_cases_counted(case_world):
    case_world.open_case()
    case_world.open_case(summary="A test case", test=True)
    db.session.execute(CaseTally.__table__.delete())  # as if loaded around the application
    result = case_world.app.test_cli_runner().invoke(args=["recount-cases"])
    assert result.exit_code == 0, result.output
    assert '"cases_counted": 1' in result.output
    assert_tallies_match(case_world)
