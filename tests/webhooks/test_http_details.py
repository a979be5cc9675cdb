"""HTTP details of the webhooks API: ping and retry refuse fields they do not take (422,
as every endpoint does), a new endpoint's answer names its URL in ``Location``, a manual
retry keeps counting attempts (with a fresh schedule), and a 410 Gone that disables an
endpoint records since when it fails."""

from __future__ import annotations

from datetime import timedelta

import pytest

from exchange.webhooks.dispatch import retry_schedule
from tests.webhooks.conftest import deliver, deliveries, endpoint_row, now

pytestmark = pytest.mark.usefixtures("private_networks")

BASE = "/api/v1/webhooks"


def test_a_new_endpoint_answers_its_location(hooks, receivers):
    response = hooks.acme.api.post(
        f"{BASE}/endpoints", json={"url": receivers().url, "event_types": ["ping"]}
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.endswith(f"{BASE}/endpoints/{response.json['id']}")
    shown = hooks.acme.api.get(location)
    assert shown.status_code == 200
    assert shown.json["id"] == response.json["id"]


@pytest.fixture()
def pinged(hooks, faults):
    server = faults()
    endpoint = hooks.endpoint(hooks.acme, url=server.url)
    ping = hooks.acme.api.post(f"{BASE}/endpoints/{endpoint['id']}/ping")
    assert ping.status_code == 202, ping.get_data(as_text=True)
    return server, endpoint, ping.json


@pytest.mark.parametrize("body", [{"force": True}, {"event_type": "case.opened"}])
def test_ping_refuses_unknown_fields(hooks, pinged, body):
    _, endpoint, _ = pinged
    before = len(deliveries(endpoint["id"]))

    response = hooks.acme.api.post(f"{BASE}/endpoints/{endpoint['id']}/ping", json=body)

    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.json["code"] == "validation_failed"
    assert set(response.json["errors"]) == set(body)
    assert len(deliveries(endpoint["id"])) == before


def test_ping_takes_an_empty_object_or_no_body(hooks, pinged):
    _, endpoint, _ = pinged

    assert (
        hooks.acme.api.post(f"{BASE}/endpoints/{endpoint['id']}/ping", json={}).status_code == 202
    )
    assert hooks.acme.api.post(f"{BASE}/endpoints/{endpoint['id']}/ping").status_code == 202


def test_retry_refuses_unknown_fields_and_changes_nothing(hooks, pinged):
    server, _, ping = pinged
    server.answer(500)
    deliver()
    (row,) = deliveries(id=ping["id"])
    before = (row.status, row.attempts, row.next_attempt_at)

    response = hooks.acme.api.post(f"{BASE}/deliveries/{ping['id']}/retry", json={"now": True})

    assert response.status_code == 422, response.get_data(as_text=True)
    assert set(response.json["errors"]) == {"now"}
    (row,) = deliveries(id=ping["id"])
    assert (row.status, row.attempts, row.next_attempt_at) == before
    assert hooks.acme.api.post(f"{BASE}/deliveries/{ping['id']}/retry", json={}).status_code == 202


def test_a_manual_retry_keeps_counting_attempts_on_a_fresh_schedule(hooks, pinged, config_value):
    server, _, ping = pinged
    config_value("WEBHOOK_RETRY_SCHEDULE", [60, 120])
    server.answer(500)
    at = now()
    for seconds in (0, 1000, 5000):  # past each wait, jitter included
        deliver(at + timedelta(seconds=seconds))
    (row,) = deliveries(id=ping["id"])
    assert (row.status, row.attempts) == ("failed", 3)  # the schedule is used up

    retried = hooks.acme.api.post(f"{BASE}/deliveries/{ping['id']}/retry")

    assert retried.status_code == 202, retried.get_data(as_text=True)
    assert retried.json["attempts"] == 3
    assert retried.json["status"] == "pending"
    later = at + timedelta(seconds=9000)
    deliver(later)
    (row,) = deliveries(id=ping["id"])
    # A fourth attempt, and the fresh schedule's first wait follows it (not a give-up).
    assert (row.status, row.attempts) == ("pending", 4)
    first_wait = retry_schedule()[0]
    assert later + first_wait * 0.8 <= row.next_attempt_at <= later + first_wait * 1.2
    shown = hooks.acme.api.get(f"{BASE}/deliveries/{ping['id']}").json
    assert shown["attempts"] == 4
    assert len(shown["attempt_log"]) == 4


def test_a_410_that_disables_an_endpoint_sets_failing_since(hooks, pinged):
    server, endpoint, _ = pinged
    server.answer(410)
    at = now()

    deliver(at)

    row = endpoint_row(endpoint["id"])
    assert row.enabled is False
    assert row.failing_since == at
    shown = hooks.acme.api.get(f"{BASE}/endpoints/{endpoint['id']}").json
    assert shown["failing_since"] is not None


def test_recover_keeps_counting_attempts_too(hooks, pinged, config_value):
    server, endpoint, ping = pinged
    config_value("WEBHOOK_RETRY_SCHEDULE", [60])
    server.answer(500)
    at = now()
    for seconds in (0, 1000):
        deliver(at + timedelta(seconds=seconds))
    (row,) = deliveries(id=ping["id"])
    assert (row.status, row.attempts) == ("failed", 2)

    response = hooks.acme.api.post(
        f"{BASE}/endpoints/{endpoint['id']}/recover",
        json={"since": (at - timedelta(hours=1)).isoformat()},
    )

    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.json == {"requeued": 1}
    (row,) = deliveries(id=ping["id"])
    assert (row.status, row.attempts, row.attempts_since_requeue) == ("pending", 2, 0)
