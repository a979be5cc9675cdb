"""Delivery end to end: both parties' trackers get every event of a case, once, in
order, with the full case as GET showed it; nothing before the commit; receivers that
fail in every way; 410 and five days of failure disable; the delivery log."""

from __future__ import annotations

import json
from datetime import timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import func, select
from svix.webhooks import Webhook as SvixWebhook

from exchange.auth.actor import actor_for_user
from exchange.db import db, transaction
from exchange.processes import service as processes
from exchange.webhooks.models import Delivery
from exchange.webhooks.signals import endpoint_disabled, endpoint_failing
from tests.webhooks.conftest import (
    attempts,
    deliver,
    deliveries,
    drain,
    endpoint_row,
    now,
    verify_both,
)

pytestmark = pytest.mark.usefixtures("private_networks")

BASE = "/api/v1/webhooks"
ENVELOPE_KEYS = {"id", "type", "timestamp", "data"}
EVENT_KEYS = {"sequence", "type", "actor", "side", "origin", "changes"}


def _timeless(document):
    """The document without countdowns (seconds left "now"), which differ between the
    event's moment and the moment of the GET."""
    if isinstance(document, dict):
        return {k: _timeless(v) for k, v in document.items() if k != "remaining_seconds"}
    if isinstance(document, list):
        return [_timeless(v) for v in document]
    return document


def _case_of(caller, case_id: int) -> dict:
    response = caller.get(f"/api/v1/cases/{case_id}")
    assert response.status_code == 200
    return response.json


def test_both_trackers_get_every_event_once_in_order_with_the_case_as_get_shows_it(
    hooks, receivers
):
    acme, globex = hooks.acme.api, hooks.globex.api
    trackers = {"acme": receivers(), "globex": receivers()}
    endpoints = {
        slug: hooks.endpoint(getattr(hooks, slug), trackers[slug], exclude_own_changes=False)
        for slug in trackers
    }
    callers = {"acme": acme, "globex": globex}
    seen: dict[str, dict[int, dict]] = {"acme": {}, "globex": {}}  # GET after each event
    expected: list[tuple[str, str, str]] = []  # (type, side, origin)

    def happened(event_type: str, side: str, origin: str) -> None:
        expected.append((event_type, side, origin))
        for slug, caller in callers.items():
            body = _case_of(caller, case_id)
            assert body["version"] == len(expected)
            seen[slug][body["version"]] = body

    by_program = {
        "submitter": f"client:{hooks.acme.client_id}",
        "receiver": f"client:{hooks.globex.client_id}",
    }
    case_id = hooks.open_case()["id"]
    happened("case.opened", "submitter", by_program["submitter"])
    steps = [
        (globex, "request-information", "case.information_requested", "receiver"),
        (acme, "provide-information", "case.information_provided", "submitter"),
        (globex, "accept", "case.accepted", "receiver"),
    ]
    for caller, action, event_type, side in steps:
        hooks.act(caller, case_id, action)
        happened(event_type, side, by_program[side])
    deliver()  # the worker runs while the case is worked
    note = hooks.note(acme, case_id, "Bundle uploaded to the portal.")
    happened("case.note_added", "submitter", by_program["submitter"])
    hooks.attach(globex, case_id, "host-logs.txt", b"vmkernel: path down\n" * 50)
    happened("case.attachment_added", "receiver", by_program["receiver"])
    steps = [
        (acme, "escalate", "case.escalated", "submitter"),
        (globex, "change-severity", "case.severity_changed", "receiver"),
        (acme, "assign", "case.engineer_assigned", "submitter"),
    ]
    for caller, action, event_type, side in steps:
        hooks.act(caller, case_id, action)
        happened(event_type, side, by_program[side])
    deliver()
    hooks.set_reference(globex, case_id, "GX-SN-0042")
    happened("case.reference_set", "receiver", by_program["receiver"])
    # A person of acme (its admin, signed in) redacts acme's note: origin "web".
    admin = hooks.sign_in(hooks.acme.users["admin"])
    response = admin.post(f"/api/v1/cases/{case_id}/notes/{note['id']}/redact")
    assert response.status_code == 200, response.get_data(as_text=True)
    happened("case.note_redacted", "submitter", "web")
    steps = [
        (globex, "resolve", "case.resolved", "receiver"),
        (acme, "close", "case.closed", "submitter"),
        (acme, "reopen", "case.reopened", "submitter"),
        (globex, "resolve", "case.resolved", "receiver"),
        (acme, "close", "case.closed", "submitter"),
    ]
    for caller, action, event_type, side in steps:
        hooks.act(caller, case_id, action)
        happened(event_type, side, by_program[side])
    drain()

    count = len(expected)
    assert count == 16
    for slug, receiver in trackers.items():
        endpoint = endpoints[slug]
        # Every request verified (the example tracker uses standardwebhooks; svix too),
        # none was sent twice, and the tracker has each event once, in order.
        assert len(receiver.captured) == count
        assert len({r.id for r in receiver.captured}) == count
        for request in receiver.captured:
            verify_both(endpoint["secret"], request)
        events = receiver.store.case_events(case_id)
        assert [e["sequence"] for e in events] == list(range(1, count + 1))
        assert [(e["type"], e["side"], e["origin"]) for e in events] == expected
        for request, message in zip(receiver.captured, receiver.store.messages, strict=True):
            sent = json.loads(request.body)
            if message["type"] == "case.note_added":
                # Each round sends one event per case, so the note was still waiting when
                # it was redacted: it went out as the tombstone, never with its text.
                assert note["body"] not in request.body.decode()
                assert message["data"]["event"]["data"]["note"]["body"] == "[redacted]"
            assert sent == message
            assert set(message) == ENVELOPE_KEYS
            assert set(message["data"]) == {"case", "event"}
            event = message["data"]["event"]
            assert set(event) >= EVENT_KEYS
            assert message["type"] == event["type"]
            assert message["id"] == request.id
            assert isinstance(event["actor"], str) and event["actor"]
            # The full case, exactly as GET showed it to this member at that moment.
            case = message["data"]["case"]
            got = seen[slug][event["sequence"]]
            for name in ("id", "number", "status", "side", "version"):
                assert case[name] == got[name]
            assert _timeless(case) == _timeless(got)
            assert case["side"] == ("submitter" if slug == "acme" else "receiver")
            assert case["id"] == case_id and case["number"] == f"CX-{case_id:06d}"
            assert case["version"] == event["sequence"]
        rows = deliveries(endpoint["id"])
        assert [(d.status, d.attempts) for d in rows] == [("succeeded", 1)] * count
        assert [d.sequence for d in rows] == list(range(1, count + 1))

    messages = trackers["acme"].store.messages
    accepted = next(m for m in messages if m["type"] == "case.accepted")["data"]["event"]
    assert accepted["changes"]["status"] == {"from": "open", "to": "accepted"}
    assert accepted["actor"] == "Globex Virtualization tracker (program)"
    last = messages[-1]["data"]["case"]
    assert last["status"] == "closed"
    assert last["receiver"]["reference"] == "GX-SN-0042"
    assert last["submitter"]["reference"] == "ACME-1001"


def test_nothing_is_written_or_sent_before_the_commit(hooks, receivers):
    receiver = receivers()
    hooks.endpoint(hooks.globex, receiver)
    case_id = hooks.open_case()["id"]
    assert len(deliveries()) == 1
    from exchange.cases import service as cases

    actor = actor_for_user(hooks.acme.users["ed"])
    with pytest.raises(RuntimeError), transaction():
        cases.add_note(actor=actor, case_id=case_id, body="Never committed.")
        # The delivery row exists only inside the transaction, and nothing is sent.
        assert len(deliveries()) == 2
        assert receiver.captured == []
        raise RuntimeError("the request failed after the change")
    assert len(deliveries()) == 1
    drain()
    assert [m["type"] for m in receiver.store.messages] == ["case.opened"]
    assert [e["sequence"] for e in receiver.store.case_events(case_id)] == [1]


def test_filters_event_types_and_partners(hooks, receivers):
    everything = receivers()
    closing = receivers()
    initech_only = receivers()
    hooks.endpoint(hooks.globex, everything)
    hooks.endpoint(hooks.globex, closing, event_types=["case.accepted", "case.closed"])
    hooks.endpoint(hooks.globex, initech_only, event_types=["case.*"], partners=["initech"])
    case_id = hooks.open_case()["id"]
    hooks.act(hooks.acme.api, case_id, "escalate")
    hooks.act(hooks.globex.api, case_id, "accept")  # globex's own program: left out
    admin = hooks.sign_in(hooks.globex.users["admin"])
    response = admin.post(f"/api/v1/cases/{case_id}/resolve", json={"resolution": "Fixed."})
    assert response.status_code == 200, response.get_data(as_text=True)
    hooks.act(hooks.acme.api, case_id, "close")
    drain()
    assert [m["type"] for m in everything.store.messages] == [
        "case.opened",
        "case.escalated",
        "case.resolved",
        "case.closed",
    ]
    assert [m["type"] for m in closing.store.messages] == ["case.closed"]
    assert initech_only.captured == []


def test_process_published_goes_only_to_members_who_may_see_the_process(hooks, receivers):
    trackers = {slug: receivers() for slug in ("acme", "globex", "initech")}
    for slug, receiver in trackers.items():
        hooks.endpoint(getattr(hooks, slug), receiver, event_types=["process.published"])
    initech_admin = actor_for_user(hooks.initech.users["admin"])
    fast_lane = next(
        p
        for p in processes.processes_of(hooks.initech.member)
        if p.name == "Initech partner fast lane"
    )
    with transaction():
        processes.start_draft(actor=initech_admin, process=fast_lane)
        version = processes.publish(actor=initech_admin, process=fast_lane)
    drain()
    # Community-restricted: initech (owner) and globex (in the community), not acme.
    assert trackers["acme"].captured == []
    for slug in ("globex", "initech"):
        (message,) = trackers[slug].store.messages
        assert message["type"] == "process.published"
        assert message["data"]["process"] == {
            "id": fast_lane.id,
            "member": "initech",
            "name": "Initech partner fast lane",
            "version": version.number,
            "effective_at": version.effective_at.isoformat(),
        }

    # A process open to all reaches everyone subscribed.
    acme_admin = actor_for_user(hooks.acme.users["admin"])
    (acme_process,) = processes.processes_of(hooks.acme.member)
    with transaction():
        processes.start_draft(actor=acme_admin, process=acme_process)
        processes.publish(actor=acme_admin, process=acme_process)
    drain()
    for receiver in trackers.values():
        assert receiver.store.messages[-1]["data"]["process"]["member"] == "acme"


# -- faults ---------------------------------------------------------------------------

FAULTS = {
    "500": (lambda s: s.answer(500, b"Internal error"), 500, "http_5xx"),
    "503": (lambda s: s.answer(503), 503, "http_5xx"),
    "400": (lambda s: s.answer(400, b'{"error": "bad"}'), 400, "http_4xx"),
    "401": (lambda s: s.answer(401), 401, "http_4xx"),
    "302": (lambda s: s.answer(302, Location=s.target), 302, "redirect_not_followed"),
    "307": (lambda s: s.answer(307, Location=s.target), 307, "redirect_not_followed"),
    "hang": (lambda s: setattr(s, "mode", "hang"), None, "timeout"),
    "drip": (lambda s: setattr(s, "mode", "drip"), None, "timeout"),
    "close": (lambda s: setattr(s, "mode", "close"), None, "connection_reset"),
    "reset": (lambda s: setattr(s, "mode", "reset"), None, "connection_reset"),
    "garbage": (lambda s: setattr(s, "mode", "garbage"), None, "BadStatusLine"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failing_receiver_neither_crashes_the_worker_nor_blocks_others(
    hooks, receivers, faults, config_value, fault
):
    config_value("WEBHOOK_TIMEOUT_SECONDS", 1)
    healthy = receivers()
    redirected_to = receivers()
    server = faults()
    server.target = redirected_to.url
    arrange, status_code, error_class = FAULTS[fault]
    arrange(server)
    bad = hooks.endpoint(hooks.globex, url=server.url)
    good = hooks.endpoint(hooks.initech, healthy)
    hooks.endpoint(hooks.acme, redirected_to)  # where a redirect would lead

    hooks.globex.api.post(f"{BASE}/endpoints/{bad['id']}/ping")
    hooks.initech.api.post(f"{BASE}/endpoints/{good['id']}/ping")
    opened = now()
    assert deliver() == 2  # in one round
    elapsed = (now() - opened).total_seconds()
    # Cut off after the 1 s timeout (the receiver would hold on for a minute), with
    # room for a slow machine: this checks a bound, not a speed.
    assert elapsed < 15

    assert [m["type"] for m in healthy.store.messages] == ["ping"]
    assert redirected_to.captured == []  # a redirect is never followed
    assert len(server.captured) == 1
    (delivery,) = deliveries(bad["id"])
    assert delivery.status == "pending"
    assert delivery.attempts == 1
    assert delivery.last_status_code == status_code
    assert delivery.last_error == error_class
    (attempt,) = attempts(delivery)
    assert (attempt.status_code, attempt.error_class) == (status_code, error_class)
    assert attempt.next_attempt_at == delivery.next_attempt_at
    assert timedelta(seconds=3) < delivery.next_attempt_at - attempt.attempted_at
    if fault in ("hang", "drip"):
        assert 900 <= attempt.duration_ms < 15000
    assert endpoint_row(bad["id"]).enabled is True
    # The next round goes on as usual once the receiver behaves.
    server.answer(204)
    assert deliver(delivery.next_attempt_at) == 1
    assert deliveries(bad["id"])[0].status == "succeeded"


def test_the_delivery_log_records_every_attempt(hooks, faults):
    server = faults()
    server.answer(500, b"x" * (50 * 1024), Retry_After="1")
    created = hooks.endpoint(hooks.globex, url=server.url)
    api = hooks.globex.api
    ping = api.post(f"{BASE}/endpoints/{created['id']}/ping").json
    first = now()
    deliver(first)
    server.answer(200, "Danke schön".encode())
    second = first + timedelta(seconds=10)
    deliver(second)

    log = api.get(f"{BASE}/endpoints/{created['id']}/deliveries?status=succeeded").json
    assert [d["id"] for d in log["items"]] == [ping["id"]]
    assert (
        api.get(f"{BASE}/endpoints/{created['id']}/deliveries?status=pending").json["items"] == []
    )
    detail = api.get(f"{BASE}/deliveries/{ping['id']}").json
    assert detail["status"] == "succeeded"
    assert detail["attempts"] == 2
    assert detail["last_status_code"] == 200
    assert detail["last_error"] is None
    assert detail["message_id"] == ping["message_id"]
    assert json.loads(detail["payload"])["type"] == "ping"
    failed, succeeded = detail["attempt_log"]
    assert failed["status_code"] == 500
    assert failed["error_class"] == "http_5xx"
    assert failed["response_excerpt"] == "x" * (20 * 1024)  # cut to 20 KB
    assert failed["duration_ms"] >= 0
    assert failed["next_attempt_at"] is not None
    assert failed["attempted_at"].startswith(first.isoformat()[:19])
    assert succeeded["status_code"] == 200
    assert succeeded["error_class"] is None
    assert succeeded["response_excerpt"] == "Danke schön"
    assert succeeded["next_attempt_at"] is None


def test_the_log_is_newest_first_and_paginated(hooks, faults):
    created = hooks.endpoint(hooks.globex, url=faults().url)
    api = hooks.globex.api
    made = [api.post(f"{BASE}/endpoints/{created['id']}/ping").json["id"] for _ in range(5)]
    page = api.get(f"{BASE}/endpoints/{created['id']}/deliveries?limit=2").json
    assert [d["id"] for d in page["items"]] == made[::-1][:2]
    seen = [d["id"] for d in page["items"]]
    while page.get("next"):
        page = api.get(page["next"]).json
        seen += [d["id"] for d in page["items"]]
    assert seen == made[::-1]


def test_410_gone_disables_the_endpoint_and_tells_the_members_other_endpoints(
    hooks, receivers, faults
):
    server = faults()
    server.answer(410)
    watcher = receivers()
    cases_only = receivers()
    gone = hooks.endpoint(hooks.globex, url=server.url)
    hooks.endpoint(hooks.globex, watcher, event_types=["endpoint.disabled"])
    hooks.endpoint(hooks.globex, cases_only, event_types=["case.*"])
    other_member = receivers()
    hooks.endpoint(hooks.acme, other_member, event_types=["endpoint.disabled"])
    told = []

    def on_disabled(endpoint, reason):
        told.append((endpoint.id, reason))

    endpoint_disabled.connect(on_disabled)
    try:
        hooks.globex.api.post(f"{BASE}/endpoints/{gone['id']}/ping")
        hooks.globex.api.post(f"{BASE}/endpoints/{gone['id']}/ping")
        deliver()
    finally:
        endpoint_disabled.disconnect(on_disabled)

    row = endpoint_row(gone["id"])
    assert row.enabled is False
    assert "410" in row.disabled_reason
    shown = hooks.globex.api.get(f"{BASE}/endpoints/{gone['id']}").json
    assert shown["enabled"] is False and "410" in shown["disabled_reason"]
    assert shown["disabled_at"] is not None
    assert told == [(gone["id"], row.disabled_reason)]
    statuses = sorted(d.status for d in deliveries(gone["id"]))
    assert "failed" in statuses
    drain()
    (message,) = watcher.store.messages
    assert message["type"] == "endpoint.disabled"
    assert message["data"]["endpoint"]["id"] == gone["id"]
    assert message["data"]["endpoint"]["url"] == server.url
    assert cases_only.captured == [] and other_member.captured == []
    # A disabled endpoint is sent nothing more, however long we wait.
    sent = len(server.captured)
    deliver(now() + timedelta(days=2))
    assert len(server.captured) == sent


def test_five_days_without_success_disables_and_a_day_warns(hooks, faults):
    server = faults()
    server.answer(503)
    watcher = faults()  # answers 204 without checking the (simulated, future) time
    failing = hooks.endpoint(hooks.globex, url=server.url)
    hooks.endpoint(hooks.globex, url=watcher.url, event_types=["endpoint.disabled"])
    warned, disabled = [], []

    def on_failing(endpoint, since):
        warned.append((endpoint.id, since))

    def on_disabled(endpoint, reason):
        disabled.append(endpoint.id)

    endpoint_failing.connect(on_failing)
    endpoint_disabled.connect(on_disabled)
    try:
        api = hooks.globex.api
        api.post(f"{BASE}/endpoints/{failing['id']}/ping")
        start = now()
        deliver(start)
        assert endpoint_row(failing["id"]).failing_since == start
        api.post(f"{BASE}/endpoints/{failing['id']}/ping")
        deliver(start + timedelta(hours=23))
        assert warned == []
        api.post(f"{BASE}/endpoints/{failing['id']}/ping")
        deliver(start + timedelta(hours=25))
        assert warned == [(failing["id"], start)]
        deliver(start + timedelta(days=3))
        assert len(warned) == 1  # once per failing spell
        assert endpoint_row(failing["id"]).enabled is True
        api.post(f"{BASE}/endpoints/{failing['id']}/ping")
        deliver(start + timedelta(days=5, seconds=1))
    finally:
        endpoint_failing.disconnect(on_failing)
        endpoint_disabled.disconnect(on_disabled)
    row = endpoint_row(failing["id"])
    assert row.enabled is False
    assert "5 days" in row.disabled_reason
    assert disabled == [failing["id"]]
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.event_type == "endpoint.disabled")
        )
        == 1
    )
    drain(start + timedelta(days=5, seconds=2))
    (request,) = watcher.captured
    message = json.loads(request.body)
    assert message["type"] == "endpoint.disabled"
    assert message["data"]["endpoint"] == {
        "id": failing["id"],
        "url": server.url,
        "reason": row.disabled_reason,
    }


def test_a_success_ends_the_failing_spell(hooks, faults):
    server = faults()
    server.answer(503)
    created = hooks.endpoint(hooks.globex, url=server.url)
    hooks.globex.api.post(f"{BASE}/endpoints/{created['id']}/ping")
    start = now()
    deliver(start)
    assert endpoint_row(created["id"]).failing_since == start
    server.answer(204)
    deliver(start + timedelta(seconds=10))
    row = endpoint_row(created["id"])
    assert row.failing_since is None
    assert row.last_success_at == start + timedelta(seconds=10)


@pytest.mark.parametrize(
    "value, low, high",
    [
        ("600", 600, 600),
        ("3600", 3600, 3600),
        ("99999999", 36000, 36000),  # capped at ten hours
        ("soon", 4, 6),  # unreadable: the schedule
        ("0", 4, 6),  # never earlier than the schedule
    ],
)
def test_retry_after_is_honoured_and_capped(hooks, faults, value, low, high):
    server = faults()
    server.answer(503, Retry_After=value)
    created = hooks.endpoint(hooks.globex, url=server.url)
    hooks.globex.api.post(f"{BASE}/endpoints/{created['id']}/ping")
    at = now()
    deliver(at)
    (delivery,) = deliveries(created["id"])
    wait = (delivery.next_attempt_at - at).total_seconds()
    assert low <= wait <= high


def test_retry_after_as_an_http_date(hooks, faults):
    server = faults()
    created = hooks.endpoint(hooks.globex, url=server.url)
    hooks.globex.api.post(f"{BASE}/endpoints/{created['id']}/ping")
    at = (now() + timedelta(seconds=1)).replace(microsecond=0)
    server.answer(429, Retry_After=format_datetime(at + timedelta(hours=2), usegmt=True))
    deliver(at)
    (delivery,) = deliveries(created["id"])
    assert delivery.next_attempt_at - at == timedelta(hours=2)
    assert delivery.last_error == "http_4xx"


def test_svix_library_reads_the_standard_headers(hooks, receivers):
    """svix accepts the ``webhook-*`` header names (not only ``svix-*``)."""
    receiver = receivers()
    created = hooks.endpoint(hooks.globex, receiver)
    hooks.globex.api.post(f"{BASE}/endpoints/{created['id']}/ping")
    deliver()
    (request,) = receiver.captured
    assert not any(name.startswith("svix-") for name in request.headers)
    SvixWebhook(created["secret"]).verify(request.body, request.headers)


@pytest.mark.parametrize("status", [200, 500])
def test_a_response_with_nul_bytes_is_logged(hooks, faults, status):
    """PostgreSQL text cannot hold NUL; the excerpt must still be stored."""
    server = faults()
    server.answer(status, b"bad\x00byte")
    created = hooks.endpoint(hooks.globex, url=server.url)
    hooks.globex.api.post(f"{BASE}/endpoints/{created['id']}/ping")
    assert deliver() == 1
    (delivery,) = deliveries(created["id"])
    assert delivery.last_status_code == status
    assert attempts(delivery)[0].response_excerpt == "bad\ufffdbyte"
