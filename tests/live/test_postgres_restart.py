"""PostgreSQL stopped and started again under a running web server and worker: both
carry on without a restart of their own; requests during the outage get a prompt 503
problem (never a hang), requests afterwards succeed, and every event is delivered.

The test starts a cluster of its own: the suite's cluster is shared by parallel test
workers and must stay up. PostgreSQL pass only (SQLite has no server to restart)."""

from __future__ import annotations

import os

import pytest
import requests

from tests.live.deployment import wait_for
from tests.live.ledger import all_delivered, check_complete, history, verified
from tests.live.postgres import Cluster, server_binaries

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("EXCHANGE_TEST_POSTGRES_URL"),
        reason="PostgreSQL pass only (scripts/with-postgres): SQLite has no server to restart",
    ),
]


@pytest.fixture()
def cluster():
    binaries = server_binaries()
    assert binaries is not None, "no PostgreSQL server binaries (set PGBIN)"
    own = Cluster(binaries)
    try:
        own.start()
        yield own
    finally:
        own.destroy()


def _assert_unavailable(response: requests.Response, retry_after: bool = True) -> None:
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "service_unavailable"
    if retry_after:  # an API client is told when to retry (a load balancer's probe is not)
        assert response.headers["Retry-After"] == "5"


def test_web_server_and_worker_ride_out_a_postgres_restart(deploy, receiver, cluster):
    exchange = deploy(database_url=cluster.database("exchange"), WORKER_LEASE_SECONDS=5)
    server = exchange.serve(web_workers=2)
    worker = exchange.worker()
    acme, globex = exchange.programs["acme"], exchange.programs["globex"]
    tracker = receiver()
    tracker.delay = 0.05  # deliveries are still under way when the database goes
    endpoint = globex.endpoint(tracker.url)
    case_ids = [acme.open_case(summary=f"Before the outage {n}")["id"] for n in range(10)]
    for case_id in case_ids:
        acme.note(case_id, "Written before the outage.")
    wait_for(lambda: len(tracker.received()) >= 5, "deliveries under way")

    cluster.stop()
    failed = 0
    for case_id in case_ids[:3]:
        _assert_unavailable(acme.call("GET", f"/cases/{case_id}"))
        _assert_unavailable(acme.call("POST", f"/cases/{case_id}/notes", json={"body": "lost?"}))
        failed += 2
    _assert_unavailable(requests.get(f"{exchange.base_url}/readyz", timeout=30), False)
    cluster.start()

    # The same processes, reconnected: calls succeed again.
    wait_for(lambda: requests.get(f"{exchange.base_url}/readyz", timeout=30).ok, "readiness")
    assert server.alive() and worker.alive()
    for case_id in case_ids:
        acme.note(case_id, "Written after the outage.")
    case_ids.append(acme.open_case(summary="After the outage")["id"])

    expected = len(history(globex, case_ids))
    wait_for(lambda: all_delivered(globex, endpoint["id"], expected), "every delivery to succeed")
    ledger = verified(tracker.received(), endpoint["secret"])
    figures = check_complete(ledger, globex, endpoint["id"], case_ids)
    # Nothing written during the outage: the refused notes are not in any history.
    notes = [n["body"] for case_id in case_ids for n in acme.ok("GET", f"/cases/{case_id}/notes")]
    assert "lost?" not in notes
    assert server.alive() and worker.alive()
    # The outage is reported once by the worker, its end too; the server had no 500s.
    assert worker.output().count("database unavailable") == 1
    assert "database reachable again" in worker.output()
    assert "unhandled error" not in server.output()
    print(f"\npostgres restart: {figures}, requests refused with 503 during the outage: {failed}")
