"""Case lists (filters, cursor pagination newest activity first, counts by status) and a
case's history (events in sequence, ``after``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote

import pytest

from exchange import clock
from exchange.cases import service
from exchange.db import transaction
from tests.cases.conftest import acme_case, assert_problem, globex_case


def ids(response) -> list[int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [c["id"] for c in response.json["items"]]


@pytest.fixture()
def listed(case_world):
    """acme's cases: three outbound to globex, two inbound from globex, one inbound from
    initech (acme's only case with initech); globex sees five of them."""
    acme, globex, initech = case_world.acme.api, case_world.globex.api, case_world.initech.api
    made = {
        "out_open": case_world.open_case(summary="Datastore latency", submitter_reference="A-1"),
        "out_sev3": case_world.open_case(severity="3", summary="vMotion slow"),
        "out_accepted": case_world.open_case(summary="Snapshot failure"),
        "in_open": case_world.open_case(globex, **acme_case(summary="Reservation conflict")),
        "in_resolved": case_world.open_case(globex, **acme_case(summary="Path flapping")),
        "from_initech": case_world.open_case(
            initech,
            **acme_case(summary="Redo log on array stalls", engineer="indira@initech.example"),
        ),
    }
    case_world.act(globex, made["out_accepted"]["id"], "accept", receiver_reference="GLX-REF-9")
    case_world.act(acme, made["in_resolved"]["id"], "accept", engineer="erin@acme.example")
    case_world.act(acme, made["in_resolved"]["id"], "resolve")
    return {name: body["id"] for name, body in made.items()}


def test_direction_filters_inbound_and_outbound(case_world, listed):
    acme = case_world.acme.api
    outbound = {listed["out_open"], listed["out_sev3"], listed["out_accepted"]}
    inbound = {listed["in_open"], listed["in_resolved"], listed["from_initech"]}
    assert set(ids(acme.get("/api/v1/cases?direction=outbound"))) == outbound
    assert set(ids(acme.get("/api/v1/cases?direction=inbound"))) == inbound
    assert set(ids(acme.get("/api/v1/cases"))) == outbound | inbound
    globex_inbound = ids(case_world.globex.api.get("/api/v1/cases?direction=inbound"))
    assert set(globex_inbound) == outbound
    for item in case_world.globex.api.get("/api/v1/cases?direction=inbound").json["items"]:
        assert item["side"] == "receiver"


def test_status_filter_is_repeatable(case_world, listed):
    acme = case_world.acme.api
    assert set(ids(acme.get("/api/v1/cases?status=accepted"))) == {listed["out_accepted"]}
    both = ids(acme.get("/api/v1/cases?status=accepted&status=resolved"))
    assert set(both) == {listed["out_accepted"], listed["in_resolved"]}
    assert ids(acme.get("/api/v1/cases?status=closed")) == []


def test_severity_partner_and_combined_filters(case_world, listed):
    acme = case_world.acme.api
    assert ids(acme.get("/api/v1/cases?severity=3")) == [listed["out_sev3"]]
    assert ids(acme.get("/api/v1/cases?partner=initech")) == [listed["from_initech"]]
    with_globex = set(ids(acme.get("/api/v1/cases?partner=globex")))
    assert listed["from_initech"] not in with_globex and len(with_globex) == 5
    combined = ids(acme.get("/api/v1/cases?partner=globex&direction=inbound&status=open"))
    assert combined == [listed["in_open"]]


def test_updated_after(case_world, listed):
    acme = case_world.acme.api
    everything = acme.get("/api/v1/cases").json["items"]
    newest = max(datetime.fromisoformat(c["updated_at"]) for c in everything)
    assert ids(acme.get(f"/api/v1/cases?updated_after={quote(newest.isoformat())}")) == []
    cut = newest - timedelta(microseconds=1)
    assert ids(acme.get(f"/api/v1/cases?updated_after={quote(cut.isoformat())}")) == [
        listed["in_resolved"]
    ]
    # Activity brings a case back into "changed since".
    case_world.act(acme, listed["out_open"], "escalate")
    assert ids(acme.get(f"/api/v1/cases?updated_after={quote(newest.isoformat())}")) == [
        listed["out_open"]
    ]
    long_ago = quote("2000-01-01T00:00:00+00:00")
    assert len(ids(acme.get(f"/api/v1/cases?updated_after={long_ago}"))) == 6


def test_q_searches_summary_references_and_number(case_world, listed):
    acme = case_world.acme.api
    assert ids(acme.get("/api/v1/cases?q=latency")) == [listed["out_open"]]
    assert ids(acme.get("/api/v1/cases?q=DATASTORE")) == [listed["out_open"]]
    assert ids(acme.get("/api/v1/cases?q=a-1")) == [listed["out_open"]]  # submitter reference
    assert ids(acme.get("/api/v1/cases?q=GLX-REF")) == [listed["out_accepted"]]  # receiver's
    number = f"CX-{listed['out_sev3']:06d}"
    assert ids(acme.get(f"/api/v1/cases?q={number}")) == [listed["out_sev3"]]
    assert ids(acme.get(f"/api/v1/cases?q={number.lower()}")) == [listed["out_sev3"]]
    assert ids(acme.get("/api/v1/cases?q=100%25")) == []  # LIKE wildcards are literal
    assert ids(acme.get("/api/v1/cases?q=_")) == []
    # Another member's cases never match, not even by number.
    assert ids(case_world.globex.api.get(f"/api/v1/cases?q=CX-{listed['from_initech']:06d}")) == []


def test_newest_activity_first_and_pagination_visits_each_case_once(case_world, listed):
    acme = case_world.acme.api
    case_world.act(acme, listed["out_sev3"], "escalate")  # the latest activity
    first = acme.get("/api/v1/cases").json["items"]
    assert first[0]["id"] == listed["out_sev3"]
    stamps = [c["updated_at"] for c in first]
    assert stamps == sorted(stamps, reverse=True)

    seen, url, pages = [], "/api/v1/cases?limit=2", 0
    while url:
        page = acme.get(url).json
        assert len(page["items"]) <= 2
        seen += [c["id"] for c in page["items"]]
        url = page["next"]
        pages += 1
        if page["next_cursor"]:
            assert "cursor=" in url and "limit=2" in url
    assert pages == 3
    assert seen == [c["id"] for c in first]
    assert sorted(seen) == sorted(listed.values())


def test_pagination_is_stable_when_cases_share_a_timestamp(case_world):
    when = clock.now() + timedelta(minutes=5)
    made = []
    with transaction():
        for i in range(7):
            case = service.open_case(
                actor=case_world.acme.actor("ed"), now=when, **globex_case(summary=f"Twin {i}")
            )
            made.append(case.id)
    acme = case_world.acme.api
    seen, cursor = [], None
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        page = acme.get(f"/api/v1/cases?limit=3&direction=outbound{suffix}").json
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(made, reverse=True)


def test_filters_carry_over_to_the_next_page(case_world, listed):
    acme = case_world.acme.api
    page = acme.get("/api/v1/cases?limit=1&direction=outbound").json
    seen = [c["id"] for c in page["items"]]
    while page["next"]:
        assert "direction=outbound" in page["next"]
        page = acme.get(page["next"]).json
        seen += [c["id"] for c in page["items"]]
    assert sorted(seen) == sorted([listed["out_open"], listed["out_sev3"], listed["out_accepted"]])


def test_a_withdrawn_case_is_listed_and_counted_as_withdrawn_not_closed(case_world, listed):
    acme = case_world.acme.api
    case_world.act(acme, listed["out_open"], "withdraw")
    finished = case_world.open_case(summary="Fixed")
    case_world.bring_to(finished["id"], "closed")
    body = acme.get(f"/api/v1/cases/{listed['out_open']}").json
    assert body["status"] == "withdrawn" and body["closed_at"] is not None
    assert ids(acme.get("/api/v1/cases?status=withdrawn")) == [listed["out_open"]]
    assert ids(acme.get("/api/v1/cases?status=closed")) == [finished["id"]]
    counts = acme.get("/api/v1/cases").json["counts"]
    assert (counts["withdrawn"], counts["closed"]) == (1, 1)
    # The receiver's list and the case list page say the same.
    globex = case_world.globex.api.get("/api/v1/cases?status=withdrawn").json
    assert [c["id"] for c in globex["items"]] == [listed["out_open"]]
    page = case_world.sign_in(case_world.acme.users["ed"]).get("/cases?status=withdrawn")
    assert page.status_code == 200
    assert "Datastore latency" in page.get_data(as_text=True)
    assert "Fixed" not in page.get_data(as_text=True)


def test_counts_by_status(case_world, listed):
    page = case_world.acme.api.get("/api/v1/cases").json
    assert page["counts"] == {
        "open": 4,
        "information_requested": 0,
        "accepted": 1,
        "rejected": 0,
        "resolved": 1,
        "closed": 0,
        "withdrawn": 0,
    }
    # Counts follow the other filters but not the status filter or the page size.
    filtered = case_world.acme.api.get("/api/v1/cases?direction=inbound&status=resolved&limit=1")
    assert filtered.json["counts"]["open"] == 2
    assert filtered.json["counts"]["resolved"] == 1
    assert len(filtered.json["items"]) == 1
    assert case_world.globex.api.get("/api/v1/cases").json["counts"]["open"] == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("direction=sideways", "direction"),
        ("status=pending", "status"),
        ("status=open&status=bogus", "status"),
        ("updated_after=yesterday", "updated_after"),
        ("updated_after=2026-01-01T00:00:00", "updated_after"),  # no time zone
        ("partner=nobody", "partner"),
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=WzEsMl0", "cursor"),  # [1,2]: wrong types
        ("test=maybe", "test"),
        ("q=" + "x" * 201, "q"),
    ],
)
def test_invalid_filter_values_are_422(api, make_member, query, field):
    # Refused before any case is looked at: any member's reader will do.
    response = api(make_member(), ("cases:read",)).get(f"/api/v1/cases?{query}")
    errors = assert_problem(response, 422, "validation_failed")["errors"]
    assert [name.split(".")[0] for name in errors] == [field]


# -- history ----------------------------------------------------------------------------


def test_events_carry_actor_side_origin_and_changes(case_world):
    case_id = case_world.open_case()["id"]
    gustav = case_world.sign_in(case_world.globex.users["gustav"])
    case_world.act(gustav, case_id, "accept")
    events = case_world.acme.api.get(f"/api/v1/cases/{case_id}/events").json
    opened, accepted = events
    assert opened["actor"] == "Acme Storage tracker (program)"
    assert opened["origin"].startswith("client:cx_")
    assert opened["data"]["process_version"] == 1
    assert accepted["actor"] == "gustav@globex.example"
    assert accepted["origin"] == "web"
    assert accepted["side"] == "receiver"
    changes = accepted["data"]["changes"]
    assert changes["status"] == {"from": "open", "to": "accepted"}
    assert changes["receiver_engineer"] == {"from": None, "to": "gustav@globex.example"}
    assert changes["receiver_reference"] == {"from": None, "to": "GX-4711"}
    assert set(changes) >= {"accepted_at", "next_steps"}
    assert datetime.fromisoformat(accepted["created_at"]) >= datetime.fromisoformat(
        opened["created_at"]
    )


def test_events_after_a_sequence(case_world):
    case_id = case_world.open_case()["id"]
    for _ in range(3):
        case_world.act(case_world.acme.api, case_id, "escalate")
    url = f"/api/v1/cases/{case_id}/events"
    acme = case_world.acme.api
    assert [e["sequence"] for e in acme.get(url).json] == [1, 2, 3, 4]
    assert [e["sequence"] for e in acme.get(f"{url}?after=2").json] == [3, 4]
    assert [e["sequence"] for e in acme.get(f"{url}?after=0").json] == [1, 2, 3, 4]
    assert acme.get(f"{url}?after=4").json == []
    for bad in ("-1", "x", str(2**64)):
        assert (
            "after"
            in assert_problem(acme.get(f"{url}?after={bad}"), 422, "validation_failed")["errors"]
        )


def test_sequences_are_per_case_and_without_gaps(case_world):
    first = case_world.open_case()["id"]
    second = case_world.open_case()["id"]
    acme, globex = case_world.acme.api, case_world.globex.api
    case_world.act(globex, first, "request-information")
    case_world.act(globex, second, "accept")
    case_world.act(acme, first, "provide-information")
    acme.post(f"/api/v1/cases/{second}/notes", json={"body": "n"})
    # A refused action leaves no trace in the history.
    acme.post(f"/api/v1/cases/{first}/close", json={})
    for case_id in (first, second):
        events = acme.get(f"/api/v1/cases/{case_id}/events").json
        assert [e["sequence"] for e in events] == [1, 2, 3]
        assert acme.get(f"/api/v1/cases/{case_id}").json["version"] == 3


# -- signals ----------------------------------------------------------------------------

ACTION_EVENT_TYPES = {
    "case.opened",
    "case.information_requested",
    "case.information_provided",
    "case.accepted",
    "case.rejected",
    "case.withdrawn",
    "case.engineer_assigned",
    "case.escalated",
    "case.severity_changed",
    "case.note_added",
    "case.note_redacted",
    "case.attachment_added",
    "case.resolved",
    "case.closed",
    "case.reopened",
    "case.reference_set",
}


@pytest.fixture()
def fired():
    """Every case signal sent while the test runs, as (signal, case id, event type, sequence,
    actor label)."""
    from contextlib import ExitStack

    from exchange.cases.signals import SIGNALS, case_event

    log: list[tuple] = []
    signals = [*SIGNALS.items(), ("case.event", case_event)]
    receivers_before = {name: len(signal.receivers) for name, signal in signals}

    def receiver_for(name):
        def receive(sender, **kwargs):
            event = kwargs["event"]
            log.append((name, sender.id, event.type, event.sequence, kwargs["actor"].label))

        return receive

    with ExitStack() as stack:
        for name, signal in signals:
            stack.enter_context(signal.connected_to(receiver_for(name)))
        yield log
    # Disconnected again.
    assert {name: len(signal.receivers) for name, signal in signals} == receivers_before


def test_each_event_type_sends_its_signal_once_per_action(case_world, fired):
    import io

    from exchange.cases.signals import EVENT_TYPES

    acme, globex = case_world.acme.api, case_world.globex.api
    admin = case_world.program(
        case_world.acme, ("cases:read", "cases:write", "members:admin"), "Acme admin tool"
    )
    seen_types = set()

    def expect(event_type, case_id, step):
        fired.clear()
        result = step()
        sequence = acme.get(f"/api/v1/cases/{case_id}").json["version"]
        assert [f[:4] for f in fired] == [
            (event_type, case_id, event_type, sequence),
            ("case.event", case_id, event_type, sequence),
        ], event_type
        seen_types.add(event_type)
        return result

    case_id = None

    def open_case():
        nonlocal case_id
        fired.clear()
        case_id = case_world.open_case()["id"]
        return case_id

    open_case()
    assert [f[:4] for f in fired] == [
        ("case.opened", case_id, "case.opened", 1),
        ("case.event", case_id, "case.opened", 1),
    ]
    assert fired[0][4] == "Acme Storage tracker (program)"
    seen_types.add("case.opened")

    def act(caller, action, **body):
        return lambda: case_world.act(caller, case_id, action, **body)

    url = lambda suffix="": f"/api/v1/cases/{case_id}{suffix}"  # noqa: E731
    expect("case.information_requested", case_id, act(globex, "request-information"))
    expect("case.information_provided", case_id, act(acme, "provide-information"))
    expect("case.accepted", case_id, act(globex, "accept"))
    expect("case.engineer_assigned", case_id, act(acme, "assign"))
    expect("case.escalated", case_id, act(acme, "escalate"))
    expect("case.severity_changed", case_id, act(globex, "change-severity"))
    note = expect(
        "case.note_added", case_id, lambda: acme.post(url("/notes"), json={"body": "n"}).json
    )
    expect("case.note_redacted", case_id, lambda: admin.post(url(f"/notes/{note['id']}/redact")))
    expect(
        "case.attachment_added",
        case_id,
        lambda: globex.post(
            url("/attachments"),
            data={"file": (io.BytesIO(b"log"), "log.txt")},
            content_type="multipart/form-data",
        ),
    )
    expect("case.reference_set", case_id, lambda: globex.patch(url(), json={"reference": "R-1"}))
    expect("case.resolved", case_id, act(globex, "resolve"))
    expect("case.closed", case_id, act(acme, "close"))
    expect("case.reopened", case_id, act(acme, "reopen"))

    open_case()
    expect("case.rejected", case_id, act(globex, "reject"))
    open_case()
    expect("case.withdrawn", case_id, act(acme, "withdraw"))
    # Every type a party's action causes (the clock's overdue events come from the worker).
    assert seen_types == ACTION_EVENT_TYPES
    assert set(EVENT_TYPES) >= ACTION_EVENT_TYPES

    # Refused or empty changes send nothing.
    fired.clear()
    case_world.act(acme, case_id, "reopen", expect=409)
    case_world.act(globex, case_id, "accept", expect=409)
    assert globex.patch(url(), json={"reference": None}).status_code == 200  # already None
    assert acme.post(url("/notes"), json={"body": ""}).status_code == 422
    assert fired == []


def test_counts_come_with_the_first_page_only(case_world):
    for _ in range(3):
        case_world.open_case()
    first = case_world.acme.api.get("/api/v1/cases?limit=2").json
    assert first["counts"]["open"] >= 3
    later = case_world.acme.api.get(first["next"]).json
    assert later["counts"] is None
    skipped = case_world.acme.api.get("/api/v1/cases?limit=2&counts=false").json
    assert skipped["counts"] is None and len(skipped["items"]) == 2


def test_events_after_a_number_past_the_sequence_column_is_a_422(case_world):
    """Found by fuzzing: `after` beyond a 32-bit integer was a 500 on PostgreSQL."""
    acme = case_world.acme.api
    case = case_world.open_case()
    largest = 2**31 - 1
    assert acme.get(f"/api/v1/cases/{case['id']}/events?after={largest}").json == []
    response = acme.get(f"/api/v1/cases/{case['id']}/events?after={largest + 1}")
    assert_problem(response, 422, "validation_failed")
    assert "after" in response.json["errors"]
