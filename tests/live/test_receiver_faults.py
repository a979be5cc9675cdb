"""A partner receiver that refuses connections, then answers 500, then hangs past the
webhook timeout, then recovers: every event arrives, each case's events in order, each
message verified with the standardwebhooks library. Real processes: the web server,
one ``exchange worker``, and the receiver on loopback."""

from __future__ import annotations

import pytest

from tests.live.deployment import wait_for
from tests.live.ledger import all_delivered, check_complete, history, verified

pytestmark = pytest.mark.slow


def test_every_event_arrives_in_order_after_refusals_errors_and_hangs(deploy, receiver):
    exchange = deploy(WEBHOOK_TIMEOUT_SECONDS=1)
    exchange.serve()
    exchange.worker()
    acme, globex = exchange.programs["acme"], exchange.programs["globex"]
    tracker = receiver()
    port, captured = tracker.server_port, tracker.captured
    endpoint = globex.endpoint(tracker.url)
    case_ids: list[int] = []

    def activity(phase: str) -> None:
        """A new case, and a note on every case so far: events in every phase."""
        case_ids.append(acme.open_case(summary=f"Opened while the receiver {phase}")["id"])
        for case_id in case_ids:
            acme.note(case_id, f"Written while the receiver {phase}.")

    def failures(error: str) -> int:
        log = globex.deliveries(endpoint["id"])
        return max((d["attempts"] for d in log if d["last_error"] == error), default=0)

    activity("answered")
    # 1. Nothing listens on the port: connections are refused.
    tracker.stop()
    activity("refused connections")
    wait_for(lambda: failures("connection_refused") >= 3, "three refused attempts")
    # 2. Back on the same port, answering 500 to everything.
    tracker = receiver(port, captured)
    tracker.answer(500)
    activity("answered 500")
    wait_for(
        lambda: sum(r.mode == "status" and r.status == 500 for r in tracker.received()) >= 4,
        "four 500 answers",
    )
    # 3. Reading each request and never answering: past WEBHOOK_TIMEOUT_SECONDS.
    tracker.mode = "hang"
    activity("hung")
    wait_for(lambda: failures("timeout") >= 2, "two attempts timed out")
    # 4. Recovered.
    tracker.answer(204)
    tracker.release.set()
    activity("recovered")

    expected = len(history(globex, case_ids))
    wait_for(lambda: all_delivered(globex, endpoint["id"], expected), "every delivery to succeed")
    ledger = verified(tracker.received(), endpoint["secret"])
    figures = check_complete(ledger, globex, endpoint["id"], case_ids)
    attempts = sum(d["attempts"] for d in globex.deliveries(endpoint["id"]))
    answered_500 = sum(r.mode == "status" and r.status == 500 for r in ledger.requests)
    hung = sum(r.mode == "hang" for r in ledger.requests)
    refused = attempts - figures["requests"]
    print(f"\nreceiver faults: {figures}; attempts {attempts}: refused {refused}, ")
    print(f"answered 500 {answered_500}, hung past the timeout {hung}")
    assert figures["ids"] == figures["events"] == expected
    # Refused and failed attempts were retried: the receiver saw more requests than ids.
    assert figures["requests"] > figures["ids"]
