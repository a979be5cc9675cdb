"""Two-way sync: trackers change cases with their OAuth client, every event says where
it came from, an endpoint is not told its own member's programs' changes (unless it
asks), and each side's tracker reference travels in every payload."""

from __future__ import annotations

import pytest

from tests.webhooks.conftest import deliveries, drain

pytestmark = pytest.mark.usefixtures("private_networks")


def _seen(receiver, case_id: int) -> list[tuple[str, str]]:
    return [(e["type"], e["origin"]) for e in receiver.store.case_events(case_id)]


def test_own_programs_changes_are_left_out_people_and_partners_are_not(hooks, receivers):
    acme_tracker, globex_tracker = receivers(), receivers()
    hooks.endpoint(hooks.acme, acme_tracker)  # exclude_own_changes by default
    hooks.endpoint(hooks.globex, globex_tracker)
    acme_program = f"client:{hooks.acme.client_id}"
    globex_program = f"client:{hooks.globex.client_id}"
    chatbot, chatbot_id = hooks.program(hooks.acme, name="acme chat bot")

    case_id = hooks.open_case()["id"]  # acme's tracker
    hooks.act(hooks.globex.api, case_id, "accept")  # globex's tracker
    engineer = hooks.sign_in(hooks.acme.users["ed"])
    response = engineer.post(f"/api/v1/cases/{case_id}/notes", json={"body": "Called them."})
    assert response.status_code == 201, response.get_data(as_text=True)
    hooks.note(chatbot, case_id, "Automated log upload done.")  # another acme program
    greta = hooks.sign_in(hooks.globex.users["gustav"])
    response = greta.post(f"/api/v1/cases/{case_id}/escalate", json={"reason": "Urgent."})
    assert response.status_code == 200, response.get_data(as_text=True)
    drain()

    assert _seen(acme_tracker, case_id) == [
        ("case.accepted", globex_program),
        ("case.note_added", "web"),  # a person of acme: sent to acme's tracker
        ("case.escalated", "web"),
    ]
    assert _seen(globex_tracker, case_id) == [
        ("case.opened", acme_program),
        ("case.note_added", "web"),
        ("case.note_added", f"client:{chatbot_id}"),
        ("case.escalated", "web"),
    ]
    # Sequences still say where each event stands in the case's history.
    assert [e["sequence"] for e in acme_tracker.store.case_events(case_id)] == [2, 3, 5]
    assert [e["sequence"] for e in globex_tracker.store.case_events(case_id)] == [1, 3, 4, 5]


def test_with_exclude_own_changes_off_everything_is_sent(hooks, receivers):
    tracker = receivers()
    created = hooks.endpoint(hooks.acme, tracker, exclude_own_changes=False)
    assert created["exclude_own_changes"] is False
    case_id = hooks.open_case()["id"]
    hooks.act(hooks.acme.api, case_id, "escalate")
    hooks.act(hooks.globex.api, case_id, "accept")
    drain()
    program = f"client:{hooks.acme.client_id}"
    assert _seen(tracker, case_id) == [
        ("case.opened", program),
        ("case.escalated", program),
        ("case.accepted", f"client:{hooks.globex.client_id}"),
    ]
    # Switched on later: from then on its own changes stay out.
    response = hooks.acme.api.patch(
        f"/api/v1/webhooks/endpoints/{created['id']}", json={"exclude_own_changes": True}
    )
    assert response.json["exclude_own_changes"] is True
    hooks.act(hooks.acme.api, case_id, "change-severity")
    hooks.act(hooks.globex.api, case_id, "resolve")
    drain()
    assert [t for t, _ in _seen(tracker, case_id)][3:] == ["case.resolved"]


def test_references_are_stored_per_side_and_travel_in_every_payload(hooks, receivers):
    acme_tracker, globex_tracker = receivers(), receivers()
    hooks.endpoint(hooks.acme, acme_tracker)
    hooks.endpoint(hooks.globex, globex_tracker)
    case_id = hooks.open_case(submitter_reference="INC0012345")["id"]
    drain()
    # Globex's tracker got the new case and files its own ticket, then tells us its id,
    # as a real two-way integration does; its own change is not echoed back to it.
    (opened,) = globex_tracker.store.case_events(case_id)
    assert opened["type"] == "case.opened"
    body = hooks.set_reference(hooks.globex.api, case_id, "GX-4711")
    assert body["receiver"]["reference"] == "GX-4711"
    assert body["submitter"]["reference"] == "INC0012345"
    stored = hooks.globex.api.get(f"/api/v1/cases/{case_id}").json
    assert stored["receiver"]["reference"] == "GX-4711"
    # Acme's tracker renumbers its ticket.
    hooks.set_reference(hooks.acme.api, case_id, "INC0099999")
    # The same value again is no change and no event.
    hooks.set_reference(hooks.acme.api, case_id, "INC0099999")
    hooks.act(hooks.globex.api, case_id, "accept", receiver_reference=None)
    drain()

    assert [m["type"] for m in globex_tracker.store.messages] == [
        "case.opened",
        "case.reference_set",
    ]
    assert [m["type"] for m in acme_tracker.store.messages] == [
        "case.reference_set",
        "case.accepted",
    ]
    told = globex_tracker.store.messages[-1]["data"]
    assert told["event"]["changes"] == {
        "submitter_reference": {"from": "INC0012345", "to": "INC0099999"}
    }
    assert told["case"]["submitter"]["reference"] == "INC0099999"
    assert told["case"]["receiver"]["reference"] == "GX-4711"
    for message in acme_tracker.store.messages:
        case = message["data"]["case"]
        assert case["receiver"]["reference"] == "GX-4711"
        assert case["submitter"]["reference"] == (
            "INC0012345" if message["type"] == "case.reference_set" else "INC0099999"
        )
    assert acme_tracker.store.messages[0]["data"]["event"]["changes"] == {
        "receiver_reference": {"from": None, "to": "GX-4711"}
    }


def test_a_reference_is_only_set_for_ones_own_side_and_honours_if_match(hooks, receivers):
    tracker = receivers()
    hooks.endpoint(hooks.globex, tracker)
    case_id = hooks.open_case()["id"]
    api = hooks.acme.api
    stale = api.get(f"/api/v1/cases/{case_id}").headers["ETag"]
    hooks.act(hooks.globex.api, case_id, "accept")
    response = api.patch(
        f"/api/v1/cases/{case_id}", json={"reference": "INC1"}, headers={"If-Match": stale}
    )
    assert response.status_code == 412
    response = hooks.initech.api.patch(f"/api/v1/cases/{case_id}", json={"reference": "X"})
    assert response.status_code == 404
    body = hooks.set_reference(api, case_id, None)
    assert body["submitter"]["reference"] is None
    drain()
    changes = tracker.store.messages[-1]["data"]["event"]["changes"]
    assert changes == {"submitter_reference": {"from": "ACME-1001", "to": None}}


def test_every_events_origin_is_a_client_or_web(hooks, receivers):
    tracker = receivers()
    created = hooks.endpoint(hooks.initech, tracker, exclude_own_changes=False)
    initech, globex = hooks.initech.api, hooks.globex.api
    case_id = hooks.open_case(
        caller=initech,
        engineer="indira@initech.example",
        submitter_reference="IN-1",
    )["id"]
    hooks.act(globex, case_id, "request-information")
    person = hooks.sign_in(hooks.initech.users["ivan"])
    response = person.post(
        f"/api/v1/cases/{case_id}/provide-information", json={"answer": "Version 8.0."}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    drain()
    origins = [e["origin"] for e in tracker.store.case_events(case_id)]
    assert origins == [
        f"client:{hooks.initech.client_id}",
        f"client:{hooks.globex.client_id}",
        "web",
    ]
    actors = [e["actor"] for e in tracker.store.case_events(case_id)]
    assert actors[2] == "ivan@initech.example"
    assert all(d.status == "succeeded" for d in deliveries(created["id"]))
