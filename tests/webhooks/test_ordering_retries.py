"""Retries on their schedule with jitter, per-case ordering, replay (retry, recover,
re-enabling) and the worker's leases."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest

from exchange.webhooks import dispatch
from tests.webhooks.conftest import (
    attempts,
    deliver,
    deliveries,
    drain,
    endpoint_row,
    now,
    settle,
)

pytestmark = pytest.mark.usefixtures("private_networks")

BASE = "/api/v1/webhooks"
SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000]  # seconds after failures 1..7


class _Fixed:
    def __init__(self, value):
        self.value = value

    def uniform(self, low, high):
        assert (low, high) == (0.8, 1.2)
        return self.value


def test_the_schedule_and_its_jitter_bounds():
    for attempt, seconds in enumerate(SCHEDULE, start=1):
        assert dispatch.next_delay(attempt, None, _Fixed(0.8)) == timedelta(seconds=seconds * 0.8)
        assert dispatch.next_delay(attempt, None, _Fixed(1.2)) == timedelta(seconds=seconds * 1.2)
        # Retry-After waits longer, never shorter.
        hour = timedelta(hours=1)
        assert dispatch.next_delay(attempt, hour, _Fixed(1.0)) == max(
            hour, timedelta(seconds=seconds)
        )
    assert dispatch.next_delay(8, None) is None
    assert dispatch.next_delay(8, timedelta(seconds=1)) is None


def _ping(hooks, endpoint_id: int) -> dict:
    response = hooks.globex.api.post(f"{BASE}/endpoints/{endpoint_id}/ping")
    assert response.status_code == 202
    return response.json


def test_retries_follow_the_schedule_and_give_up_after_eight_attempts(hooks, faults):
    server = faults()
    server.answer(503)
    created = hooks.endpoint(hooks.globex, url=server.url)
    pings = [_ping(hooks, created["id"]) for _ in range(4)]
    at = now()
    waits: list[list[float]] = []
    for attempt in range(1, 9):
        assert deliver(at) == 4
        rows = deliveries(created["id"])
        assert {d.attempts for d in rows} == {attempt}
        if attempt == 8:
            break
        base = SCHEDULE[attempt - 1]
        found = [(d.next_attempt_at - at).total_seconds() for d in rows]
        for wait in found:
            assert base * 0.8 <= wait <= base * 1.2, (attempt, wait)
        waits.append(found)
        # Not a moment before it is due.
        earliest = min(d.next_attempt_at for d in rows)
        assert deliver(earliest - timedelta(seconds=1)) == 0
        at = max(d.next_attempt_at for d in rows)
    assert any(len(set(found)) > 1 for found in waits)  # jittered, not in lockstep

    rows = deliveries(created["id"])
    assert {(d.status, d.attempts, d.next_attempt_at) for d in rows} == {("failed", 8, None)}
    assert deliver(at + timedelta(days=1)) == 0
    assert len(server.captured) == 4 * 8
    detail = hooks.globex.api.get(f"{BASE}/deliveries/{pings[0]['id']}").json
    assert detail["status"] == "failed"
    assert detail["next_attempt_at"] is None
    log = detail["attempt_log"]
    assert len(log) == 8
    assert all(a["status_code"] == 503 and a["error_class"] == "http_5xx" for a in log)
    assert [a["next_attempt_at"] is None for a in log] == [False] * 7 + [True]
    failed = hooks.globex.api.get(f"{BASE}/endpoints/{created['id']}/deliveries?status=failed")
    assert len(failed.json["items"]) == 4


def test_a_configured_retry_schedule_replaces_the_built_in_one(hooks, faults, config_value):
    config_value("WEBHOOK_RETRY_SCHEDULE", [2, 60])
    server = faults()
    server.answer(500)
    created = hooks.endpoint(hooks.globex, url=server.url)
    _ping(hooks, created["id"])
    at = now()
    for attempt, base in enumerate([2, 60], start=1):
        assert deliver(at) == 1
        [row] = deliveries(created["id"])
        wait = (row.next_attempt_at - at).total_seconds()
        assert base * 0.8 <= wait <= base * 1.2, (attempt, wait)
        at = row.next_attempt_at
    assert deliver(at) == 1  # the third failure is the last: two retries configured
    [row] = deliveries(created["id"])
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 3, None)


# -- ordering -------------------------------------------------------------------------


def _case_and_sequence(message: dict) -> tuple[int, int] | None:
    if not message["type"].startswith("case."):
        return None
    return message["data"]["case"]["id"], message["data"]["event"]["sequence"]


def test_a_failing_event_holds_back_later_events_of_its_case_only(hooks, faults, receivers):
    acme = hooks.acme.api
    server = faults()
    stuck = hooks.endpoint(hooks.globex, url=server.url)
    other = receivers()  # acme's own tracker is not held back by globex's trouble
    hooks.endpoint(hooks.acme, other, exclude_own_changes=False)
    case_a = hooks.open_case()["id"]
    case_b = hooks.open_case(summary="Another case")["id"]
    hooks.act(acme, case_a, "escalate")
    hooks.act(acme, case_b, "escalate")
    hooks.note(acme, case_a, "More logs attached.")
    failing = {"on": True}
    server.decide = lambda m: (
        503 if failing["on"] and _case_and_sequence(m) == (case_a, 2) else None
    )

    def arrived(case_id):
        order = [_case_and_sequence(json.loads(r.body)) for r in server.captured]
        return [seq for case, seq in filter(None, order) if case == case_id]

    drain()
    assert arrived(case_a) == [1, 2]  # 2 failed; 3 waits
    assert arrived(case_b) == [1, 2]
    (held,) = [d for d in deliveries(stuck["id"], case_id=case_a) if d.sequence == 2]
    assert held.status == "pending" and held.attempts == 1
    assert deliver(held.next_attempt_at - timedelta(seconds=1)) == 0
    # Case B goes on while case A waits.
    hooks.act(acme, case_b, "change-severity")
    drain()
    assert arrived(case_b) == [1, 2, 3]
    assert arrived(case_a) == [1, 2]
    assert [d.status for d in deliveries(stuck["id"], case_id=case_a)] == [
        "succeeded",
        "pending",
        "pending",
    ]
    # Acme's tracker got all of case A in order meanwhile.
    assert [e["sequence"] for e in other.store.case_events(case_a)] == [1, 2, 3]

    failing["on"] = False
    at = held.next_attempt_at
    assert deliver(at) == 1  # only 2: 3 still waits for it
    assert arrived(case_a) == [1, 2, 2]
    assert deliver(at) == 1
    assert arrived(case_a) == [1, 2, 2, 3]
    assert {d.status for d in deliveries(stuck["id"])} == {"succeeded"}


# -- replay ---------------------------------------------------------------------------


def test_a_stopped_tracker_catches_up_once_in_order_after_a_retry(hooks, receivers, tmp_path):
    acme, globex = hooks.acme.api, hooks.globex.api
    log_path = tmp_path / "tracker-events.jsonl"
    tracker = receivers(log_path=log_path)
    created = hooks.endpoint(hooks.acme, tracker, exclude_own_changes=False)
    case_id = hooks.open_case()["id"]
    hooks.act(globex, case_id, "accept")
    drain()
    assert [e["sequence"] for e in tracker.store.case_events(case_id)] == [1, 2]

    # The tracker goes down; the case is worked on.
    port = tracker.server_port
    tracker.stop()
    hooks.note(globex, case_id, "Found it in the driver.")
    hooks.act(globex, case_id, "resolve")
    hooks.act(acme, case_id, "close")
    drain()
    rows = deliveries(created["id"])
    assert [(d.sequence, d.status) for d in rows] == [
        (1, "succeeded"),
        (2, "succeeded"),
        (3, "pending"),
        (4, "pending"),
        (5, "pending"),
    ]
    assert rows[2].last_error == "connection_refused"
    assert rows[3].attempts == rows[4].attempts == 0  # held back behind 3

    # Back up (same port, same event log); the admin retries the first one by hand.
    restarted = receivers(secret=created["secret"], log_path=log_path, port=port)
    retried = acme.post(f"{BASE}/deliveries/{rows[2].id}/retry")
    assert retried.status_code == 202, retried.get_data(as_text=True)
    assert retried.json["status"] == "pending"
    drain()
    events = restarted.store.case_events(case_id)
    assert [e["sequence"] for e in events] == [1, 2, 3, 4, 5]
    assert [e["type"] for e in events] == [
        "case.opened",
        "case.accepted",
        "case.note_added",
        "case.resolved",
        "case.closed",
    ]
    assert {d.status for d in deliveries(created["id"])} == {"succeeded"}

    # Retrying a delivered message sends the same webhook-id; the tracker ignores it.
    acme.post(f"{BASE}/deliveries/{rows[0].id}/retry")
    drain()
    assert restarted.captured[-1].id == rows[0].message_id
    assert len(restarted.store.messages) == 5
    assert [e["sequence"] for e in restarted.store.case_events(case_id)] == [1, 2, 3, 4, 5]


def test_recover_requeues_what_failed_since_then(hooks, receivers):
    acme, globex = hooks.acme.api, hooks.globex.api
    tracker = receivers()
    created = hooks.endpoint(hooks.acme, tracker, exclude_own_changes=False)
    before = now() - timedelta(seconds=1)
    case_id = hooks.open_case()["id"]
    drain()
    tracker.forced_status = 503
    hooks.act(globex, case_id, "request-information")
    hooks.act(globex, case_id, "change-severity")
    hooks.note(globex, case_id, "Please send the HBA firmware.")
    settle(now())  # every retry, on a simulated clock, until they give up
    rows = deliveries(created["id"])
    assert [(d.sequence, d.status) for d in rows] == [
        (1, "succeeded"),
        (2, "failed"),
        (3, "failed"),
        (4, "failed"),
    ]
    assert {d.attempts for d in rows[1:]} == {8}
    assert endpoint_row(created["id"]).enabled is True

    tracker.forced_status = None
    url = f"{BASE}/endpoints/{created['id']}/recover"
    later = (now() + timedelta(minutes=1)).isoformat()
    assert acme.post(url, json={"since": later}).json == {"requeued": 0}
    response = acme.post(url, json={"since": before.isoformat()})
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.json == {"requeued": 3}
    drain()
    events = tracker.store.case_events(case_id)
    assert [e["sequence"] for e in events] == [1, 2, 3, 4]
    assert len(tracker.store.messages) == 4
    assert {d.status for d in deliveries(created["id"])} == {"succeeded"}
    # Nothing left to recover; succeeded ones are not sent again.
    assert acme.post(url, json={"since": before.isoformat()}).json == {"requeued": 0}
    assert deliver() == 0


def test_recover_needs_an_aware_since(hooks, receivers):
    created = hooks.endpoint(hooks.acme, receivers())
    url = f"{BASE}/endpoints/{created['id']}/recover"
    for body in ({}, {"since": "yesterday"}, {"since": "2024-01-01T00:00:00"}):
        response = hooks.acme.api.post(url, json=body)
        assert response.status_code == 422, (body, response.get_data(as_text=True))


def test_re_enabling_a_disabled_endpoint_resumes_what_is_pending(hooks, receivers):
    acme, globex = hooks.acme.api, hooks.globex.api
    tracker = receivers()
    created = hooks.endpoint(hooks.acme, tracker, exclude_own_changes=False)
    before = now() - timedelta(seconds=1)
    case_id = hooks.open_case()["id"]
    hooks.act(globex, case_id, "request-information")
    hooks.act(globex, case_id, "escalate")
    tracker.forced_status = 410
    drain()
    row = endpoint_row(created["id"])
    assert row.enabled is False and "410" in row.disabled_reason
    rows = deliveries(created["id"])
    assert [(d.sequence, d.status) for d in rows] == [
        (1, "failed"),
        (2, "pending"),
        (3, "pending"),
    ]
    assert deliver(now() + timedelta(hours=1)) == 0  # disabled: nothing goes out

    tracker.forced_status = None
    # Recover the one that met the 410 first, so the case stays in order.
    url = f"{BASE}/endpoints/{created['id']}"
    assert acme.post(f"{url}/recover", json={"since": before.isoformat()}).json == {"requeued": 1}
    assert deliver() == 0  # still disabled
    enabled = acme.patch(url, json={"enabled": True})
    assert enabled.status_code == 200
    assert enabled.json["enabled"] is True
    assert enabled.json["disabled_at"] is None and enabled.json["disabled_reason"] is None
    drain()
    assert [e["sequence"] for e in tracker.store.case_events(case_id)] == [1, 2, 3]
    assert {d.status for d in deliveries(created["id"])} == {"succeeded"}


# -- leases ---------------------------------------------------------------------------


def test_two_workers_never_claim_the_same_delivery_while_its_lease_runs(hooks, faults):
    created = hooks.endpoint(hooks.globex, url=faults().url)
    made = {_ping(hooks, created["id"])["id"] for _ in range(5)}
    lease = timedelta(minutes=5)
    at = now()
    first = dispatch.claim(now=at, limit=2, lease=lease)
    second = dispatch.claim(now=at, limit=10, lease=lease)
    assert len(first) == 2 and len(second) == 3
    assert set(first).isdisjoint(second)
    assert set(first) | set(second) == made
    assert dispatch.claim(now=at + timedelta(minutes=4), limit=10, lease=lease) == []
    assert deliver(at + timedelta(minutes=4)) == 0
    # The workers died mid-delivery: once the leases run out another worker sends them.
    third = dispatch.claim(now=at + lease + timedelta(seconds=1), limit=10, lease=lease)
    assert set(third) == made
    assert deliver(at + 2 * lease + timedelta(seconds=2)) == 5
    rows = deliveries(created["id"])
    assert {(d.status, d.lease_until) for d in rows} == {("succeeded", None)}
    assert all(len(attempts(d)) == 1 for d in rows)


def test_a_leased_event_holds_back_the_next_one_of_its_case(hooks, faults):
    created = hooks.endpoint(hooks.globex, url=faults().url)
    case_id = hooks.open_case()["id"]
    hooks.act(hooks.acme.api, case_id, "escalate")
    lease = timedelta(minutes=5)
    at = now()
    (first,) = dispatch.claim(now=at, limit=10, lease=lease)
    assert dispatch.claim(now=at, limit=10, lease=lease) == []
    assert [d.sequence for d in deliveries(created["id"]) if d.id == first] == [1]


def test_the_claim_and_jitter_use_the_injected_clock_and_randomness(hooks, faults):
    server = faults()
    server.answer(500)
    created = hooks.endpoint(hooks.globex, url=server.url)
    _ping(hooks, created["id"])
    at = now()
    ids = dispatch.claim(now=at, limit=10, lease=timedelta(minutes=1))
    (delivery,) = deliveries(created["id"])
    assert ids == [delivery.id]
    from exchange.webhooks.sender import Result

    dispatch.record(delivery, Result(500, 3, "http_5xx", ""), at, rng=random.Random(7))
    expected = timedelta(seconds=5) * random.Random(7).uniform(0.8, 1.2)
    assert delivery.next_attempt_at == at + expected
    assert delivery.lease_until is None


def test_recover_is_capped_oldest_first(hooks, faults, monkeypatch):
    from exchange.webhooks import service

    server = faults()
    server.answer(410)
    created = hooks.endpoint(hooks.globex, url=server.url)
    before = now() - timedelta(seconds=1)
    made = [_ping(hooks, created["id"])["id"] for _ in range(5)]
    deliver()
    assert {d.status for d in deliveries(created["id"])} == {"failed"}
    monkeypatch.setattr(service, "RECOVER_CAP", 3)
    url = f"{BASE}/endpoints/{created['id']}/recover"
    assert hooks.globex.api.post(url, json={"since": before.isoformat()}).json == {"requeued": 3}
    pending = [d.id for d in deliveries(created["id"], status="pending")]
    assert pending == made[:3]
