"""What a partner receiver got, checked against what the exchange recorded.

Every request a receiver captured is verified with the ``standardwebhooks`` library
(the signature over ``webhook-id``, ``webhook-timestamp`` and the exact body bytes);
requests are then counted by ``webhook-id``, so duplicates (at-least-once) show, and
the case events they carry are compared with each case's history from the API and with
the endpoint's delivery log.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import create_engine, text
from standardwebhooks.webhooks import Webhook

from tests.live.deployment import Program
from tests.receivers import Request


@dataclass
class Ledger:
    requests: list[Request]
    messages: list[dict]  # the verified body of each request, in arrival order

    @property
    def counts(self) -> Counter:
        return Counter(r.id for r in self.requests)

    @property
    def duplicates(self) -> dict[str, int]:
        """``webhook-id`` -> how many extra copies arrived."""
        return {mid: n - 1 for mid, n in self.counts.items() if n > 1}

    def acknowledged(self) -> set[tuple[int, int]]:
        """(case, sequence) of every case event the receiver answered with a 2xx."""
        return {
            _case_event(m)
            for r, m in zip(self.requests, self.messages, strict=True)
            if r.mode == "status" and r.status is not None and 200 <= r.status < 300
        }

    def arrivals(self) -> dict[int, list[int]]:
        """Case id -> the sequence of every request about it, in arrival order."""
        order: dict[int, list[int]] = defaultdict(list)
        for message in self.messages:
            case_id, sequence = _case_event(message)
            order[case_id].append(sequence)
        return order


def _case_event(message: dict) -> tuple[int, int]:
    return message["data"]["case"]["id"], message["data"]["event"]["sequence"]


def verified(requests: list[Request], secret: str) -> Ledger:
    """Every request verified with standardwebhooks (a forged or altered one fails the
    test); the body's ``id`` is the ``webhook-id`` header."""
    verifier = Webhook(secret)
    messages = []
    for request in requests:
        message = verifier.verify(request.body, request.headers)
        assert message == json.loads(request.body)
        assert message["id"] == request.id
        messages.append(message)
    return Ledger(list(requests), messages)


def history(program: Program, case_ids) -> set[tuple[int, int]]:
    """(case, sequence) of every event in the cases' histories, from the API."""
    return {(case_id, e["sequence"]) for case_id in case_ids for e in program.events(case_id)}


def all_delivered(program: Program, endpoint_id: int, expected: int) -> bool:
    """The endpoint's log holds ``expected`` deliveries and every one succeeded."""
    log = program.deliveries(endpoint_id)
    return len(log) == expected and all(d["status"] == "succeeded" for d in log)


def check_order(ledger: Ledger) -> None:
    """Per case, the sequences arrived 1, 2, 3... and never went back (a repeat of the
    message in flight is the only thing that may come twice)."""
    for case_id, sequences in ledger.arrivals().items():
        assert sequences == sorted(sequences), (case_id, sequences)
        assert sorted(set(sequences)) == list(range(1, len(set(sequences)) + 1)), case_id


def database_events(database_url: str) -> set[tuple[int, int]]:
    """(case, sequence) of every case event the database holds."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT case_id, sequence FROM case_events"))
            return {(case_id, sequence) for case_id, sequence in rows}
    finally:
        engine.dispose()


def database_deliveries(database_url: str) -> list[dict]:
    """Every delivery row: endpoint, message id, case, sequence, status."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT endpoint_id, message_id, case_id, sequence, status "
                    "FROM webhook_deliveries"
                )
            )
            return [dict(row._mapping) for row in rows]
    finally:
        engine.dispose()


def check_complete(ledger: Ledger, program: Program, endpoint_id: int, case_ids) -> dict:
    """Every event of the cases reached the endpoint's receiver and was acknowledged;
    the ids received are exactly the delivery log's; per case, nothing arrived before
    an earlier event (the arrival order of sequences never goes back). Returns figures."""
    events = history(program, case_ids)
    assert ledger.acknowledged() == events
    log = program.deliveries(endpoint_id)
    assert {d["status"] for d in log} == {"succeeded"}
    assert {d["message_id"] for d in log} == set(ledger.counts)
    assert {(d["case"], d["sequence"]) for d in log} == events
    check_order(ledger)
    return {
        "events": len(events),
        "requests": len(ledger.requests),
        "ids": len(ledger.counts),
        "duplicates": sum(ledger.duplicates.values()),
    }
