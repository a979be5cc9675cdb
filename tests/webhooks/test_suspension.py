"""Deliveries to a suspended member's endpoints are held, not dropped: they go out, in
order, once the member is reactivated; other members' deliveries go on meanwhile."""

from __future__ import annotations

from datetime import timedelta

import pytest

from exchange.db import transaction
from exchange.members import service as members
from tests.webhooks.conftest import deliveries, drain, endpoint_row, now

pytestmark = pytest.mark.usefixtures("private_networks")


def _set_status(slug: str, status: str) -> None:
    with transaction():
        members.set_member_status(member=members.get_member(slug=slug), status=status)


def test_a_suspended_members_deliveries_wait_for_its_reactivation(hooks, receivers):
    acme_tracker, globex_tracker = receivers(), receivers()
    acme = hooks.endpoint(hooks.acme, acme_tracker, exclude_own_changes=False)
    globex = hooks.endpoint(hooks.globex, globex_tracker)
    case_id = hooks.open_case()["id"]
    drain()
    assert len(globex_tracker.captured) == 1

    _set_status("globex", "suspended")
    hooks.note(hooks.acme.api, case_id, "Logs attached")
    hooks.note(hooks.acme.api, case_id, "More logs")
    drain()
    drain(now() + timedelta(days=2))
    # acme's own tracker is served; globex's waits without attempts or a failing spell.
    assert [d.status for d in deliveries(acme["id"])] == ["succeeded"] * 3
    assert len(globex_tracker.captured) == 1
    held = deliveries(globex["id"])[1:]
    assert [(d.status, d.attempts) for d in held] == [("pending", 0), ("pending", 0)]
    row = endpoint_row(globex["id"])
    assert row.enabled and row.failing_since is None

    _set_status("globex", "active")
    drain()
    assert [d.status for d in deliveries(globex["id"])] == ["succeeded"] * 3
    events = globex_tracker.store.case_events(case_id)
    assert [e["sequence"] for e in events] == [1, 2, 3]
