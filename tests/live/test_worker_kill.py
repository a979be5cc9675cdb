"""A worker killed with SIGKILL in the middle of a batch (its deliveries leased and in
flight to a slow receiver): another worker takes them over when the leases run out;
nothing is lost, and the only duplicates are the messages that were in flight."""

from __future__ import annotations

import signal

import pytest

from tests.live.deployment import wait_for
from tests.live.ledger import all_delivered, check_complete, history, verified

pytestmark = pytest.mark.slow

CASES = 12


def test_a_worker_killed_mid_batch_loses_nothing(deploy, receiver):
    # The receiver holds requests far longer than the lease, which is short so the test
    # need not wait long for the takeover.
    exchange = deploy(WORKER_LEASE_SECONDS=3, WEBHOOK_TIMEOUT_SECONDS=60, WORKER_THREADS=8)
    exchange.serve()
    acme, globex = exchange.programs["acme"], exchange.programs["globex"]
    tracker = receiver()
    tracker.mode = "hang"
    endpoint = globex.endpoint(tracker.url)
    case_ids = [acme.open_case(summary=f"Case {n}")["id"] for n in range(CASES)]
    for case_id in case_ids:
        acme.note(case_id, "Logs from the controller.")
        acme.act(case_id, "escalate")

    first = exchange.worker()
    # A full thread pool of posts in flight, each leased, none answered.
    wait_for(lambda: len(tracker.received()) >= 8, "eight deliveries in flight")
    first.kill(signal.SIGKILL)
    in_flight = {r.id for r in tracker.received()}
    tracker.answer(204)
    tracker.release.set()
    exchange.worker()

    expected = len(history(globex, case_ids))
    wait_for(lambda: all_delivered(globex, endpoint["id"], expected), "every delivery to succeed")
    ledger = verified(tracker.received(), endpoint["secret"])
    figures = check_complete(ledger, globex, endpoint["id"], case_ids)
    print(f"\nworker SIGKILL: {figures}, in flight at the kill: {len(in_flight)}")
    assert figures["ids"] == figures["events"] == expected == CASES * 3
    # At least once: what was in flight came again; nothing else did.
    assert set(ledger.duplicates) <= in_flight
    assert all(ledger.counts[mid] >= 2 for mid in in_flight)
