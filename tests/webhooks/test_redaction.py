"""A redaction reaches every copy of the note the exchange keeps or can send again:
the delivery log, a manual retry, a recovery, a retry still pending, and the
``case.note_redacted`` message that tells trackers to drop their copy."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.webhooks.conftest import deliveries, drain, now, settle, verify_both

pytestmark = pytest.mark.usefixtures("private_networks")

SECRET_TEXT = "Customer's admin password is hunter2, use it on host 10.1.2.3"
BASE = "/api/v1/webhooks"


def _redact(hooks, case_id: int, note_id: int) -> None:
    admin = hooks.sign_in(hooks.acme.users["admin"])
    response = admin.post(f"/api/v1/cases/{case_id}/notes/{note_id}/redact")
    assert response.status_code == 200, response.get_data(as_text=True)


def _note_message(delivery) -> dict:
    return json.loads(delivery.payload)["data"]["event"]["data"]["note"]


def test_a_retry_after_a_redaction_posts_the_redacted_note(hooks, receivers, tmp_path):
    log_path = tmp_path / "tracker-events.jsonl"
    tracker = receivers(log_path=log_path)
    endpoint = hooks.endpoint(hooks.globex, tracker)
    case_id = hooks.open_case()["id"]
    note = hooks.note(hooks.acme.api, case_id, SECRET_TEXT)
    drain()
    added = deliveries(endpoint["id"], event_type="case.note_added")[0]
    assert SECRET_TEXT in tracker.captured[-1].body.decode()

    _redact(hooks, case_id, note["id"])

    # The delivery log holds the redacted note only.
    api = hooks.globex.api
    detail = api.get(f"{BASE}/deliveries/{added.id}").json
    assert SECRET_TEXT not in detail["payload"]
    kept = json.loads(detail["payload"])
    assert kept["id"] == added.message_id
    assert kept["data"]["event"]["data"]["note"]["id"] == note["id"]
    assert kept["data"]["event"]["data"]["note"]["body"] == "[redacted]"
    assert kept["data"]["event"]["data"]["note"]["redacted_at"] is not None

    # The tracker is told to drop its copy.
    drain()
    redacted = json.loads(tracker.captured[-1].body)
    assert redacted["type"] == "case.note_redacted"
    assert redacted["data"]["event"]["data"]["note"]["id"] == note["id"]
    assert redacted["data"]["event"]["data"]["note"]["body"] == "[redacted]"
    # The example tracker follows the guide: its copy loses the text as well.
    assert SECRET_TEXT not in json.dumps(tracker.store.messages)
    kept = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert kept == tracker.store.messages and SECRET_TEXT not in log_path.read_text()

    # A manual retry sends the same message (same webhook-id), without the text.
    response = api.post(f"{BASE}/deliveries/{added.id}/retry")
    assert response.status_code == 202, response.get_data(as_text=True)
    sent_before = len(tracker.captured)
    drain()
    assert len(tracker.captured) == sent_before + 1
    again = tracker.captured[-1]
    assert again.id == added.message_id
    message = verify_both(endpoint["secret"], again)
    assert SECRET_TEXT not in again.body.decode()
    assert message["data"]["event"]["data"]["note"]["body"] == "[redacted]"


def test_a_retry_still_pending_sends_the_redacted_note(hooks, receivers):
    tracker = receivers()
    endpoint = hooks.endpoint(hooks.globex, tracker)
    case_id = hooks.open_case()["id"]
    drain()
    tracker.forced_status = 503
    note = hooks.note(hooks.acme.api, case_id, SECRET_TEXT)
    drain()
    pending = [d for d in deliveries(endpoint["id"]) if d.event_type == "case.note_added"]
    assert [(d.status, d.attempts) for d in pending] == [("pending", 1)]
    assert SECRET_TEXT in tracker.captured[-1].body.decode()

    _redact(hooks, case_id, note["id"])
    assert SECRET_TEXT not in deliveries(endpoint["id"], id=pending[0].id)[0].payload

    tracker.forced_status = None
    settle(now() + timedelta(seconds=10))
    retried = [r for r in tracker.captured if r.id == pending[0].message_id][-1]
    message = verify_both(endpoint["secret"], retried)
    assert SECRET_TEXT not in retried.body.decode()
    assert message["data"]["event"]["data"]["note"]["body"] == "[redacted]"
    assert [m["type"] for m in tracker.store.messages][-2:] == [
        "case.note_added",
        "case.note_redacted",
    ]


def test_a_recovery_of_failed_deliveries_sends_the_redacted_note(hooks, receivers, config_value):
    config_value("WEBHOOK_RETRY_SCHEDULE", [])  # the first failure is final
    tracker = receivers()
    endpoint = hooks.endpoint(hooks.globex, tracker)
    case_id = hooks.open_case()["id"]
    drain()
    start = now()
    tracker.forced_status = 503
    note = hooks.note(hooks.acme.api, case_id, SECRET_TEXT)
    drain()
    failed = deliveries(endpoint["id"], event_type="case.note_added")[0]
    assert failed.status == "failed"

    _redact(hooks, case_id, note["id"])
    assert SECRET_TEXT not in deliveries(endpoint["id"], id=failed.id)[0].payload
    assert _note_message(deliveries(endpoint["id"], id=failed.id)[0])["body"] == "[redacted]"

    tracker.forced_status = None
    response = hooks.globex.api.post(
        f"{BASE}/endpoints/{endpoint['id']}/recover",
        json={"since": (start - timedelta(minutes=1)).isoformat()},
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.json["requeued"] == 1
    drain()
    replayed = [r for r in tracker.captured if r.id == failed.message_id]
    assert len(replayed) == 2  # the failed attempt, then the replay
    message = verify_both(endpoint["secret"], replayed[-1])
    assert SECRET_TEXT not in replayed[-1].body.decode()
    assert message["data"]["event"]["data"]["note"]["body"] == "[redacted]"


def test_a_receiver_that_echoed_the_note_has_it_taken_out_of_the_attempt_log(hooks, faults):
    server = faults()
    endpoint = hooks.endpoint(hooks.globex, url=server.url)
    case_id = hooks.open_case()["id"]
    drain()
    server.answer(400, f'{{"error": "bad note", "got": "{SECRET_TEXT}"}}'.encode())
    note = hooks.note(hooks.acme.api, case_id, SECRET_TEXT)
    drain()
    added = deliveries(endpoint["id"], event_type="case.note_added")[0]
    api = hooks.globex.api
    assert SECRET_TEXT in api.get(f"{BASE}/deliveries/{added.id}").get_data(as_text=True)

    _redact(hooks, case_id, note["id"])
    detail = api.get(f"{BASE}/deliveries/{added.id}")
    assert SECRET_TEXT not in detail.get_data(as_text=True)
    assert detail.json["attempt_log"][0]["response_excerpt"] == (
        '{"error": "bad note", "got": "[redacted]"}'
    )
