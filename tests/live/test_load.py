"""Bounded mixed load on loopback against PostgreSQL: the web server with several
workers, two ``exchange worker`` processes, and both members' trackers subscribed (real
receivers). For at most ``DURATION`` seconds and ``MAX_REQUESTS`` requests, client
threads open cases, add notes, accept, read cases and list the inbox. No request may
fail with a 5xx (or not be answered); after a bounded drain, every case event recorded
in the database has reached each endpoint, acknowledged, in order per case, under the
``webhook-id`` the database holds for it. Figures are printed (``pytest -s``).

PostgreSQL pass only: several web and delivery workers are a PostgreSQL deployment."""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter, deque

import pytest
import requests

from tests.live.deployment import Deployment, Program, wait_for
from tests.live.ledger import check_order, database_deliveries, database_events, verified
from tests.webhooks.conftest import globex_case

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("EXCHANGE_TEST_POSTGRES_URL"),
        reason="PostgreSQL pass only (scripts/with-postgres): two delivery workers and "
        "several web workers are a PostgreSQL deployment",
    ),
]

DURATION = 60.0  # seconds of load, at most
MAX_REQUESTS = 6000  # requests, at most
THREADS = 6
MIX = {"open": 3, "note": 6, "accept": 2, "read": 5, "list": 4}
EXPECTED = {"open": 201, "note": 201, "accept": 200, "read": 200, "list": 200}


class Load:
    """The shared state of the client threads: the budget, the cases, the answers."""

    def __init__(self, exchange: Deployment):
        self.exchange = exchange
        self.lock = threading.Lock()
        self.unaccepted: deque[int] = deque()
        self.cases: list[int] = []
        self.answers: Counter = Counter()  # (kind, status) -> count
        self.errors: list[str] = []
        self.sent = 0
        self.deadline = 0.0

    def take(self) -> bool:
        """One more request, while the budget (count and time) lasts."""
        with self.lock:
            if self.sent >= MAX_REQUESTS or time.monotonic() >= self.deadline:
                return False
            self.sent += 1
            return True

    def run(self, index: int) -> None:
        rng = random.Random(index)
        acme = self.exchange.programs["acme"].clone()
        globex = self.exchange.programs["globex"].clone()
        kinds, weights = list(MIX), list(MIX.values())
        while self.take():
            kind = rng.choices(kinds, weights)[0]
            try:
                self._one(kind, rng, acme, globex)
            except requests.RequestException as exc:  # no answer at all: a failure too
                with self.lock:
                    self.errors.append(f"{kind}: {exc!r}")

    def _one(self, kind: str, rng: random.Random, acme: Program, globex: Program) -> None:
        with self.lock:
            case_id = rng.choice(self.cases) if self.cases else None
            if kind == "accept":
                case_id = self.unaccepted.popleft() if self.unaccepted else None
        if case_id is None and kind != "list":
            kind = "open"
        party = rng.choice([acme, globex])
        if kind == "open":
            response = acme.call("POST", "/cases", json=_case_body(rng))
        elif kind == "note":
            response = party.call(
                "POST", f"/cases/{case_id}/notes", json={"body": f"Update {rng.random()}"}
            )
        elif kind == "accept":
            body = {"receiver_reference": f"GX-{case_id}", "engineer": "gustav@globex.example"}
            response = globex.call("POST", f"/cases/{case_id}/accept", json=body)
        elif kind == "read":
            response = party.call("GET", f"/cases/{case_id}")
        else:
            response = globex.call("GET", "/cases?direction=inbound&status=open&limit=20")
        with self.lock:
            self.answers[kind, response.status_code] += 1
            if kind == "open" and response.status_code == 201:
                self.cases.append(response.json()["id"])
                self.unaccepted.append(response.json()["id"])


def _case_body(rng: random.Random) -> dict:
    return globex_case(summary=f"Load case {rng.randrange(10**6)}")


def test_bounded_mixed_load_loses_no_event(deploy, receiver):
    exchange = deploy(WORKER_LEASE_SECONDS=30, WEBHOOK_TIMEOUT_SECONDS=10)
    exchange.serve(web_workers=3)
    exchange.worker()
    exchange.worker()
    trackers = {member: receiver() for member in ("acme", "globex")}
    endpoints = {
        member: exchange.programs[member].endpoint(trackers[member].url) for member in trackers
    }

    load = Load(exchange)
    threads = [threading.Thread(target=load.run, args=(n,)) for n in range(THREADS)]
    load.deadline = time.monotonic() + DURATION
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DURATION + 120)
    assert not any(t.is_alive() for t in threads), "a client thread hung"

    url = exchange.settings["DATABASE_URL"]
    events = database_events(url)
    per_endpoint = len(events)

    def drained() -> bool:
        rows = database_deliveries(url)
        return len(rows) == 2 * per_endpoint and all(r["status"] == "succeeded" for r in rows)

    wait_for(drained, "every delivery to succeed", timeout=240, every=0.5)
    rows = database_deliveries(url)
    figures = {}
    for member, tracker in trackers.items():
        endpoint = endpoints[member]
        ledger = verified(tracker.received(), endpoint["secret"])
        mine = [r for r in rows if r["endpoint_id"] == endpoint["id"]]
        assert ledger.acknowledged() == events
        assert {r["message_id"] for r in mine} == set(ledger.counts)
        assert {(r["case_id"], r["sequence"]) for r in mine} == events
        check_order(ledger)
        figures[member] = {
            "received": len(ledger.requests),
            "ids": len(ledger.counts),
            "duplicates": sum(ledger.duplicates.values()),
        }

    by_kind = {kind: dict(sorted((s, n) for (k, s), n in load.answers.items() if k == kind))
               for kind in MIX}  # fmt: skip
    print(
        f"\nload: {load.sent} requests in at most {DURATION:.0f} s by {THREADS} threads; "
        f"by kind and status {by_kind}; cases {len(load.cases)}, events {len(events)}, "
        f"deliveries {len(rows)}; receivers {figures}"
    )
    assert load.errors == []
    assert not [key for key in load.answers if key[1] >= 500]
    assert {key for key in load.answers if key[1] != EXPECTED[key[0]]} == set()
    assert len(load.cases) > 0 and per_endpoint > len(load.cases)
