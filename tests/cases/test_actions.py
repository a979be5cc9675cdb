"""The state machine, If-Match, pairing (assign, escalate), severity changes and the
tracker's own reference: every row of the issue's table for the right side, and every
other combination refused with the actions allowed now."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from exchange import clock
from exchange.cases import service
from exchange.db import transaction
from exchange.errors import InvalidTransition, ValidationFailed
from tests.cases.conftest import (
    ACTION_BODIES,
    ACTIONS,
    acme_case,
    assert_problem,
    event_count,
    globex_case,
)

# The table: (from, side, action, to).
TABLE = [
    ("open", "receiver", "accept", "accepted"),
    ("open", "receiver", "request-information", "information_requested"),
    ("information_requested", "submitter", "provide-information", "open"),
    ("open", "receiver", "reject", "rejected"),
    ("information_requested", "receiver", "reject", "rejected"),
    ("open", "submitter", "withdraw", "withdrawn"),
    ("information_requested", "submitter", "withdraw", "withdrawn"),
    ("accepted", "receiver", "resolve", "resolved"),
    ("accepted", "submitter", "close", "closed"),
    ("resolved", "submitter", "close", "closed"),
    ("resolved", "submitter", "reopen", "accepted"),
    ("closed", "submitter", "reopen", "accepted"),
    # Asking for information after accepting; the answer returns the case to accepted.
    ("accepted", "receiver", "request-information", "information_requested"),
    ("asked_after_accepting", "submitter", "provide-information", "accepted"),
    ("asked_after_accepting", "receiver", "resolve", "resolved"),
    ("asked_after_accepting", "submitter", "close", "closed"),
]
# Walks to a status by a path that matters ("withdrawn": closed by withdrawal).
STATUS_OF = {"asked_after_accepting": "information_requested"}

# What each side may do in each status.
WORK = {"assign", "escalate", "assign-escalation-manager", "change-severity"}
ALLOWED = {
    ("open", "receiver"): {"accept", "request-information", "reject"} | WORK,
    ("open", "submitter"): {"withdraw"} | WORK,
    ("information_requested", "receiver"): {"reject"} | WORK,
    ("information_requested", "submitter"): {"provide-information", "withdraw"} | WORK,
    ("accepted", "receiver"): {"resolve", "request-information"} | WORK,
    # Information requested after accepting: finished like an accepted case, never
    # rejected or withdrawn.
    ("asked_after_accepting", "receiver"): {"resolve"} | WORK,
    ("asked_after_accepting", "submitter"): {"provide-information", "close"} | WORK,
    ("accepted", "submitter"): {"close"} | WORK,
    ("rejected", "receiver"): set(),
    ("rejected", "submitter"): set(),
    ("resolved", "receiver"): {"assign", "assign-escalation-manager"},
    ("resolved", "submitter"): {"close", "reopen", "assign", "assign-escalation-manager"},
    ("closed", "receiver"): set(),
    ("closed", "submitter"): {"reopen"},
    ("withdrawn", "receiver"): set(),
    ("withdrawn", "submitter"): set(),
}
STATUSES = [
    "open",
    "information_requested",
    "accepted",
    "rejected",
    "resolved",
    "closed",
    "withdrawn",
]


def caller_for(world, side):
    return world.acme.api if side == "submitter" else world.globex.api


def body_for(side, action):
    body = dict(ACTION_BODIES[action])
    if action == "assign" and side == "receiver":
        body["engineer"] = "gina@globex.example"
    if action == "assign-escalation-manager" and side == "receiver":
        body["escalation_manager"] = "georg@globex.example"
    return body


@pytest.mark.parametrize(("source", "side", "action", "target"), TABLE)
def test_every_row_of_the_table_works_for_its_side(case_world, source, side, action, target):
    case = case_world.open_case()
    before = case_world.bring_to(case["id"], source)
    source = STATUS_OF.get(source, source)
    assert before["status"] == source
    response = caller_for(case_world, side).post(
        f"/api/v1/cases/{case['id']}/{action}", json=body_for(side, action)
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    after = response.json
    assert after["status"] == target
    assert after["version"] == before["version"] + 1
    assert response.headers["ETag"] == f'"{case["id"]}-{after["version"]}"'
    events = case_world.acme.api.get(f"/api/v1/cases/{case['id']}/events").json
    assert events[-1]["sequence"] == after["version"]
    assert events[-1]["side"] == side
    assert events[-1]["data"]["changes"]["status"] == {"from": source, "to": target}


def test_every_other_combination_is_409_with_the_actions_allowed_now(case_world):
    for status in [*STATUSES, "asked_after_accepting"]:
        case_id = case_world.open_case()["id"]
        case_world.bring_to(case_id, status)
        for side in ("submitter", "receiver"):
            caller = caller_for(case_world, side)
            view = caller.get(f"/api/v1/cases/{case_id}").json
            listed = view["allowed_actions"]
            assert set(listed) == ALLOWED[status, side], (status, side)
            for action in ACTIONS:
                if action in listed:
                    continue
                response = caller.post(
                    f"/api/v1/cases/{case_id}/{action}", json=body_for(side, action)
                )
                body = assert_problem(response, 409, "invalid_transition")
                assert body["allowed_actions"] == listed, (status, side, action)
            unchanged = caller.get(f"/api/v1/cases/{case_id}").json
            assert unchanged["version"] == view["version"]
            assert unchanged["status"] == view["status"]


def test_the_body_lists_actions_in_one_stable_order(case_world):
    case = case_world.open_case()
    view = case_world.globex.api.get(f"/api/v1/cases/{case['id']}").json
    assert view["allowed_actions"] == [
        "accept",
        "request-information",
        "reject",
        "assign",
        "escalate",
        "assign-escalation-manager",
        "change-severity",
    ]


# -- reopen, reject, accept details ---------------------------------------------------


def test_reopen_within_30_days_and_not_after(case_world):
    acme, globex = case_world.acme.actor("ed"), case_world.globex.actor("gustav")
    start = clock.now()
    with transaction():
        case = service.open_case(actor=acme, **globex_case())
        service.accept(actor=globex, case_id=case.id, now=start)
        service.close(actor=acme, case_id=case.id, now=start)
    late = start + timedelta(days=30, seconds=1)
    with pytest.raises(InvalidTransition) as caught:
        service.reopen(actor=acme, case_id=case.id, reason="Back again", now=late)
    assert caught.value.extra["allowed_actions"] == []
    with transaction():
        reopened = service.reopen(
            actor=acme, case_id=case.id, reason="Back again", now=start + timedelta(days=29)
        )
    assert reopened.status == "accepted"
    assert reopened.closed_at is None and reopened.resolved_at is None


def test_reopen_on_the_last_day_of_the_window(case_world):
    acme, globex = case_world.acme.actor("ed"), case_world.globex.actor("gustav")
    start = clock.now()
    with transaction():
        case = service.open_case(actor=acme, **globex_case())
        service.accept(actor=globex, case_id=case.id, now=start)
        service.resolve(actor=globex, case_id=case.id, resolution="Fixed", now=start)
        service.close(actor=acme, case_id=case.id, now=start)
        service.reopen(
            actor=acme, case_id=case.id, reason="Not fixed", now=start + timedelta(days=30)
        )
    assert case.status == "accepted"


def test_a_reopened_case_can_be_resolved_and_closed_again(case_world):
    case_id = case_world.open_case()["id"]
    case_world.bring_to(case_id, "closed")
    acme, globex = case_world.acme.api, case_world.globex.api
    assert case_world.act(acme, case_id, "reopen")["status"] == "accepted"
    assert case_world.act(globex, case_id, "resolve")["status"] == "resolved"
    assert case_world.act(acme, case_id, "close")["status"] == "closed"
    assert case_world.act(acme, case_id, "reopen")["status"] == "accepted"


def test_a_withdrawn_case_cannot_be_reopened(case_world):
    case_id = case_world.open_case()["id"]
    case_world.bring_to(case_id, "withdrawn")
    response = case_world.acme.api.post(f"/api/v1/cases/{case_id}/reopen", json={"reason": "Oops"})
    body = assert_problem(response, 409, "invalid_transition")
    assert body["allowed_actions"] == []
    # Not even within the window, by the service's own clock.
    with pytest.raises(InvalidTransition):
        service.reopen(
            actor=case_world.acme.actor("ed"),
            case_id=case_id,
            reason="Oops",
            now=clock.now() + timedelta(minutes=1),
        )


def test_reject_needs_a_reason_code_of_the_process(case_world):
    case_id = case_world.open_case()["id"]
    globex = case_world.globex.api
    for reason in ("not_a_code", "Other"):
        response = globex.post(
            f"/api/v1/cases/{case_id}/reject", json={"reason": reason, "explanation": "No."}
        )
        body = assert_problem(response, 422, "validation_failed")
        assert list(body["errors"]) == ["reason"]
        assert "no_entitlement" in body["errors"]["reason"][0]
    missing = globex.post(f"/api/v1/cases/{case_id}/reject", json={"reason": "other"})
    assert "explanation" in assert_problem(missing, 422, "validation_failed")["errors"]
    assert globex.get(f"/api/v1/cases/{case_id}").json["status"] == "open"

    body = case_world.act(
        globex, case_id, "reject", reason="no_entitlement", explanation="No contract."
    )
    assert body["status"] == "rejected"
    assert body["rejection"] == {"reason": "no_entitlement", "explanation": "No contract."}
    assert (
        case_world.acme.api.get(f"/api/v1/cases/{case_id}").json["rejection"] == (body["rejection"])
    )


def test_accept_records_reference_engineer_next_steps_and_first_response(case_world):
    case = case_world.open_case()
    body = case_world.act(case_world.globex.api, case["id"], "accept")
    assert body["receiver"]["reference"] == "GX-4711"
    assert body["receiver"]["engineer"]["email"] == "gustav@globex.example"
    assert body["next_steps"] == "Collecting hypervisor logs."
    assert body["accepted_at"] is not None
    assert body["responded_at"] == body["accepted_at"]
    assert body["submitter"]["engineer"]["email"] == "ed@acme.example"


def test_accept_with_an_engineer_not_of_the_receiver_is_422(case_world):
    case_id = case_world.open_case()["id"]
    for engineer in ["ed@acme.example", "admin@globex.example", "ghost@globex.example"]:
        response = case_world.globex.api.post(
            f"/api/v1/cases/{case_id}/accept", json={"engineer": engineer}
        )
        errors = assert_problem(response, 422, "validation_failed")["errors"]
        assert list(errors) == ["engineer"], engineer
    after = case_world.globex.api.get(f"/api/v1/cases/{case_id}").json
    assert (after["status"], after["version"]) == ("open", 1)


def test_a_program_accepting_must_name_the_engineer(case_world):
    case_id = case_world.open_case()["id"]
    response = case_world.globex.api.post(f"/api/v1/cases/{case_id}/accept", json={})
    assert list(assert_problem(response, 422, "validation_failed")["errors"]) == ["engineer"]
    # A signed-in engineer accepts as themselves.
    gina = case_world.sign_in(case_world.globex.users["gina"])
    response = gina.post(f"/api/v1/cases/{case_id}/accept", json={})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["receiver"]["engineer"]["email"] == "gina@globex.example"


# -- If-Match -------------------------------------------------------------------------


def test_if_match_stale_is_412_with_the_current_etag(case_world):
    case_id = case_world.open_case()["id"]
    globex = case_world.globex.api
    read = globex.get(f"/api/v1/cases/{case_id}")
    etag = read.headers["ETag"]
    assert etag == f'"{case_id}-1"'
    case_world.act(case_world.acme.api, case_id, "escalate")  # someone else changes it
    current = f'"{case_id}-2"'
    url = f"/api/v1/cases/{case_id}/accept"
    response = globex.post(url, json=ACTION_BODIES["accept"], headers={"If-Match": etag})
    assert_problem(response, 412, "precondition_failed")
    assert response.headers["ETag"] == current
    assert globex.get(f"/api/v1/cases/{case_id}").json["status"] == "open"

    ok = globex.post(url, json=ACTION_BODIES["accept"], headers={"If-Match": current})
    assert ok.status_code == 200
    assert ok.headers["ETag"] == f'"{case_id}-3"'


def test_if_match_star_and_lists_match(case_world):
    case_id = case_world.open_case()["id"]
    for version, tag in enumerate(["*", '"nope", "{id}-{v}"', '"{id}-{v}"'], 1):
        response = case_world.acme.api.post(
            f"/api/v1/cases/{case_id}/escalate",
            json=ACTION_BODIES["escalate"],
            headers={"If-Match": tag.format(id=case_id, v=version)},
        )
        assert response.status_code == 200, (tag, response.get_data(as_text=True))
        assert response.headers["ETag"] == f'"{case_id}-{version + 1}"'


@pytest.mark.parametrize("tag", ['W/"{id}-{v}"', 'W/"nope", W/"{id}-{v}"', 'w/"{id}-{v}"'])
def test_if_match_compares_strongly_so_a_weak_tag_never_matches(case_world, tag):
    """RFC 9110 §13.1.1: If-Match uses the strong comparison, under which a weak ETag
    matches nothing, not even the current one it names."""
    case_id = case_world.open_case()["id"]

    response = case_world.acme.api.post(
        f"/api/v1/cases/{case_id}/escalate",
        json=ACTION_BODIES["escalate"],
        headers={"If-Match": tag.format(id=case_id, v=1)},
    )

    assert_problem(response, 412, "precondition_failed")
    assert response.headers["ETag"] == f'"{case_id}-1"'
    assert case_world.acme.api.get(f"/api/v1/cases/{case_id}").json["version"] == 1


def test_if_match_is_honoured_on_patch_and_notes(case_world):
    case_id = case_world.open_case()["id"]
    acme = case_world.acme.api
    stale = {"If-Match": f'"{case_id}-0"'}
    url = f"/api/v1/cases/{case_id}"
    assert_problem(
        acme.patch(url, json={"reference": "A-9"}, headers=stale), 412, "precondition_failed"
    )
    assert_problem(
        acme.post(f"{url}/notes", json={"body": "hi"}, headers=stale), 412, "precondition_failed"
    )
    assert acme.get(f"{url}/notes").json == []
    fresh = {"If-Match": f'"{case_id}-1"'}
    assert acme.patch(url, json={"reference": "A-9"}, headers=fresh).status_code == 200
    assert acme.post(f"{url}/notes", json={"body": "hi"}, headers=fresh).status_code == 412
    assert acme.post(
        f"{url}/notes", json={"body": "hi"}, headers={"If-Match": "*"}
    ).status_code == (201)


# -- pairing ------------------------------------------------------------------------


def test_assign_changes_only_the_callers_own_side(case_world):
    case_id = case_world.open_case()["id"]
    case_world.act(case_world.globex.api, case_id, "accept")
    body = case_world.act(case_world.acme.api, case_id, "assign", engineer="erin@acme.example")
    assert body["submitter"]["engineer"]["email"] == "erin@acme.example"
    assert body["receiver"]["engineer"]["email"] == "gustav@globex.example"
    body = case_world.act(case_world.globex.api, case_id, "assign", engineer="gina@globex.example")
    assert body["receiver"]["engineer"]["email"] == "gina@globex.example"
    assert body["submitter"]["engineer"]["email"] == "erin@acme.example"
    # An escalation manager may work a case as its engineer.
    body = case_world.act(case_world.acme.api, case_id, "assign", engineer="max@acme.example")
    assert body["submitter"]["engineer"]["email"] == "max@acme.example"
    events = case_world.acme.api.get(f"/api/v1/cases/{case_id}/events").json
    assigned = [e for e in events if e["type"] == "case.engineer_assigned"]
    assert [e["side"] for e in assigned] == ["submitter", "receiver", "submitter"]
    assert assigned[0]["data"]["changes"] == {
        "submitter_engineer": {"from": "ed@acme.example", "to": "erin@acme.example"}
    }


def test_assign_to_a_user_not_an_engineer_of_ones_own_member_is_422(case_world):
    case = case_world.open_case()
    for side, engineer in [
        ("submitter", "gustav@globex.example"),  # the other side's engineer
        ("receiver", "ed@acme.example"),
        ("submitter", "indira@initech.example"),  # a third member's
        ("submitter", "admin@acme.example"),  # own member, not an engineer
        ("submitter", "nobody@acme.example"),
    ]:
        caller = caller_for(case_world, side)
        response = caller.post(f"/api/v1/cases/{case['id']}/assign", json={"engineer": engineer})
        errors = assert_problem(response, 422, "validation_failed")["errors"]
        assert list(errors) == ["engineer"], (side, engineer)
    after = case_world.acme.api.get(f"/api/v1/cases/{case['id']}").json
    assert after["version"] == 1
    assert after["submitter"]["engineer"]["email"] == "ed@acme.example"
    assert after["receiver"]["engineer"] is None


def test_an_inactive_user_cannot_be_assigned(case_world):
    from exchange.members import service as members

    erin = case_world.acme.users["erin"]
    with transaction():
        members.update_user(
            actor=case_world.acme.actor("admin"), user=erin, changes={"active": False}
        )
    case_id = case_world.open_case()["id"]
    response = case_world.acme.api.post(
        f"/api/v1/cases/{case_id}/assign", json={"engineer": "erin@acme.example"}
    )
    assert_problem(response, 422, "validation_failed")


def test_escalate_raises_the_level_and_pairs_both_escalation_managers(case_world):
    case_id = case_world.open_case()["id"]
    body = case_world.act(case_world.acme.api, case_id, "escalate")
    assert body["escalation_level"] == 1
    managers = (body["submitter"]["escalation_manager"], body["receiver"]["escalation_manager"])
    assert managers == (
        {"name": "Max Manager", "email": "max@acme.example", "phone": "+1 555 0101"},
        {"name": "Georg Manager", "email": "georg@globex.example", "phone": "+49 30 555 0201"},
    )
    body = case_world.act(case_world.globex.api, case_id, "escalate", reason="Still down")
    assert body["escalation_level"] == 2
    assert (body["submitter"]["escalation_manager"], body["receiver"]["escalation_manager"]) == (
        managers
    )
    for caller in (case_world.acme.api, case_world.globex.api):
        view = caller.get(f"/api/v1/cases/{case_id}").json
        assert view["escalation_level"] == 2
        assert view["submitter"]["escalation_manager"]["email"] == "max@acme.example"
        assert view["receiver"]["escalation_manager"]["email"] == "georg@globex.example"
    events = case_world.acme.api.get(f"/api/v1/cases/{case_id}/events").json
    escalations = [e for e in events if e["type"] == "case.escalated"]
    assert [(e["side"], e["data"]["reason"]) for e in escalations] == [
        ("submitter", "Customer production is at risk."),
        ("receiver", "Still down"),
    ]
    assert escalations[1]["data"]["changes"] == {"escalation_level": {"from": 1, "to": 2}}


def test_escalation_managers_come_from_users_when_no_path_names_one(
    case_world, make_member, make_user, programs
):
    # A submitter without any process: its escalation-manager user is paired.
    newcomer = make_member("newcomer", "Newcomer Networks")
    make_user(newcomer, roles=("engineer",), email="eve@newcomer.example")
    make_user(newcomer, roles=("escalation_manager",), email="mona@newcomer.example", name="Mona")
    caller = programs(newcomer, ("cases:read", "cases:write"), "Newcomer tracker")
    case = case_world.open_case(caller, engineer="eve@newcomer.example")
    body = case_world.act(caller, case["id"], "escalate")
    assert body["submitter"]["escalation_manager"]["email"] == "mona@newcomer.example"
    assert body["receiver"]["escalation_manager"]["email"] == "georg@globex.example"


def test_escalate_needs_a_reason(case_world):
    case_id = case_world.open_case()["id"]
    response = case_world.acme.api.post(f"/api/v1/cases/{case_id}/escalate", json={})
    assert "reason" in assert_problem(response, 422, "validation_failed")["errors"]


# -- severity changes ---------------------------------------------------------------


def test_change_severity_needs_a_business_impact(case_world):
    case_id = case_world.open_case()["id"]
    for body in ({"severity": "3"}, {"severity": "3", "business_impact": ""}):
        response = case_world.acme.api.post(f"/api/v1/cases/{case_id}/change-severity", json=body)
        errors = assert_problem(response, 422, "validation_failed")["errors"]
        assert list(errors) == ["business_impact"]
    assert case_world.acme.api.get(f"/api/v1/cases/{case_id}").json["version"] == 1


def test_change_severity_respects_declarable_by(case_world):
    case_id = case_world.open_case()["id"]
    raise_to_1 = {"severity": "1", "business_impact": "All production VMs are down."}
    url = f"/api/v1/cases/{case_id}/change-severity"
    response = case_world.acme.api.post(url, json=raise_to_1)
    errors = assert_problem(response, 422, "validation_failed")["errors"]
    assert list(errors) == ["severity"]
    assert case_world.acme.api.get(f"/api/v1/cases/{case_id}").json["severity"]["key"] == "2"

    response = case_world.globex.api.post(url, json=raise_to_1)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["severity"]["key"] == "1"
    event = case_world.acme.api.get(f"/api/v1/cases/{case_id}/events").json[-1]
    assert event["type"] == "case.severity_changed"
    assert event["side"] == "receiver"
    assert event["data"]["business_impact"] == raise_to_1["business_impact"]
    assert event["data"]["changes"]["severity"] == {"from": "2", "to": "1"}

    # The submitter may lower it again; the same severity or an unknown one is refused.
    assert (
        case_world.act(case_world.acme.api, case_id, "change-severity", severity="2")["severity"][
            "key"
        ]
        == "2"
    )
    for severity in ("2", "7"):
        response = case_world.acme.api.post(
            url, json={"severity": severity, "business_impact": "x"}
        )
        assert list(assert_problem(response, 422, "validation_failed")["errors"]) == ["severity"]


def test_change_severity_recomputes_the_deadline_before_the_first_response(case_world):
    globex = case_world.globex.api  # submitter; acme (24x7) receives
    case = case_world.open_case(globex, **acme_case(severity="3"))
    created = datetime.fromisoformat(case["created_at"])
    url = f"/api/v1/cases/{case['id']}/change-severity"

    def due(body):
        value = body["response_due_at"]
        return None if value is None else datetime.fromisoformat(value) - created

    body = globex.post(url, json={"severity": "1", "business_impact": "Down"}).json
    assert due(body) == timedelta(minutes=60)
    body = globex.post(url, json={"severity": "4", "business_impact": "Cosmetic"}).json
    assert due(body) is None
    body = globex.post(url, json={"severity": "2", "business_impact": "Degraded"}).json
    assert due(body) == timedelta(minutes=120)
    events = globex.get(f"/api/v1/cases/{case['id']}/events").json
    assert "response_due_at" in events[-1]["data"]["changes"]

    # Once the receiver has responded, a severity change leaves the response deadline.
    responded = case_world.act(
        case_world.acme.api, case["id"], "accept", engineer="ed@acme.example"
    )
    body = globex.post(url, json={"severity": "1", "business_impact": "Down again"}).json
    assert body["severity"]["key"] == "1"
    assert body["response_due_at"] == responded["response_due_at"]


# -- the tracker's own reference ----------------------------------------------------


def test_patch_sets_the_callers_own_reference_only(case_world):
    case_id = case_world.open_case()["id"]
    url = f"/api/v1/cases/{case_id}"
    response = case_world.globex.api.patch(url, json={"reference": "SNOW-INC0042"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["receiver"]["reference"] == "SNOW-INC0042"
    assert response.json["submitter"]["reference"] == "ACME-1001"
    assert response.headers["ETag"] == f'"{case_id}-2"'
    response = case_world.acme.api.patch(url, json={"reference": "JIRA-7"})
    assert response.json["submitter"]["reference"] == "JIRA-7"
    assert response.json["receiver"]["reference"] == "SNOW-INC0042"
    # The same value again changes nothing and records nothing.
    count = event_count()
    again = case_world.acme.api.patch(url, json={"reference": "JIRA-7"})
    assert again.status_code == 200 and again.json["version"] == 3
    assert event_count() == count
    # Clearing it is a change.
    cleared = case_world.acme.api.patch(url, json={"reference": None})
    assert cleared.json["submitter"]["reference"] is None
    events = case_world.acme.api.get(f"{url}/events").json
    assert [e["type"] for e in events[1:]] == ["case.reference_set"] * 3
    assert events[1]["data"]["changes"] == {
        "receiver_reference": {"from": None, "to": "SNOW-INC0042"}
    }
    # Works in a final status too.
    case_world.bring_to(case_id, "withdrawn")
    assert case_world.globex.api.patch(url, json={"reference": "X"}).status_code == 200


def test_patch_with_a_bad_reference_is_422(case_world):
    case_id = case_world.open_case()["id"]
    for body in [{}, {"reference": ""}, {"reference": "x" * 101}, {"reference": 5}]:
        response = case_world.acme.api.patch(f"/api/v1/cases/{case_id}", json=body)
        assert "reference" in assert_problem(response, 422, "validation_failed")["errors"], body
    assert case_world.acme.api.get(f"/api/v1/cases/{case_id}").json["version"] == 1


def test_action_bodies_are_validated(case_world):
    case_id = case_world.open_case()["id"]
    globex = case_world.globex.api
    for action, body, field in [
        ("request-information", {}, "question"),
        ("request-information", {"question": "x" * 10_001}, "question"),
        ("accept", {"engineer": "not-an-email"}, "engineer"),
        ("accept", {"receiver_reference": "x" * 101}, "receiver_reference"),
    ]:
        response = globex.post(f"/api/v1/cases/{case_id}/{action}", json=body)
        assert field in assert_problem(response, 422, "validation_failed")["errors"]
    assert globex.get(f"/api/v1/cases/{case_id}").json["version"] == 1


def test_service_actions_reject_the_wrong_side_before_touching_anything(case_world):
    with transaction():
        case = service.open_case(actor=case_world.acme.actor("ed"), **globex_case())
    with pytest.raises(InvalidTransition):
        service.accept(actor=case_world.acme.actor("ed"), case_id=case.id)
    with pytest.raises(ValidationFailed):
        service.change_severity(
            actor=case_world.acme.actor("ed"), case_id=case.id, severity="1", business_impact="x"
        )
    assert case.version == 1


def test_the_receiver_asks_for_information_after_accepting_on_the_case_page(case_world):
    case = case_world.open_case()
    case_world.bring_to(case["id"], "accepted")
    globex = case_world.sign_in(case_world.globex.users["gustav"])
    url = f"/cases/{case['id']}"
    page = globex.get(url).get_data(as_text=True)
    assert 'id="action-request-information"' in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    asked = globex.post(
        f"{url}/act/request-information",
        data={"csrf_token": globex.csrf_token, "version": version, "question": "Logs, please."},
    )
    assert asked.status_code == 303, asked.get_data(as_text=True)
    acme = case_world.sign_in(case_world.acme.users["ed"])
    page = acme.get(url).get_data(as_text=True)
    assert 'id="action-provide-information"' in page and 'id="action-withdraw"' not in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    acme.post(
        f"{url}/act/provide-information",
        data={"csrf_token": acme.csrf_token, "version": version, "answer": "Attached."},
    )
    body = case_world.acme.api.get(f"/api/v1/cases/{case['id']}").json
    assert body["status"] == "accepted"
    events = case_world.acme.api.get(f"/api/v1/cases/{case['id']}/events").json
    assert [e["type"] for e in events[-2:]] == [
        "case.information_requested",
        "case.information_provided",
    ]


def test_a_side_names_and_replaces_its_own_escalation_manager(case_world, make_user):
    acme = case_world.acme
    make_user(acme.member, roles=("escalation_manager",), email="mara@acme.example", name="Mara")
    case_id = case_world.open_case()["id"]
    named = case_world.act(acme.api, case_id, "assign-escalation-manager")
    assert named["submitter"]["escalation_manager"]["email"] == "max@acme.example"
    assert named["receiver"]["escalation_manager"] is None  # the other side is untouched
    replaced = case_world.act(
        acme.api, case_id, "assign-escalation-manager", escalation_manager="mara@acme.example"
    )
    assert replaced["submitter"]["escalation_manager"] == {
        "name": "Mara",
        "email": "mara@acme.example",
        "phone": None,
    }
    # An escalation keeps the named manager and pairs the receiver's.
    escalated = case_world.act(acme.api, case_id, "escalate")
    assert escalated["submitter"]["escalation_manager"]["email"] == "mara@acme.example"
    assert escalated["receiver"]["escalation_manager"]["email"] == "georg@globex.example"
    events = case_world.globex.api.get(f"/api/v1/cases/{case_id}/events").json
    assigned = [e for e in events if e["type"] == "case.escalation_manager_assigned"]
    assert [e["side"] for e in assigned] == ["submitter", "submitter"]
    assert assigned[1]["data"]["changes"]["submitter_escalation_manager"]["to"]["email"] == (
        "mara@acme.example"
    )
    types = case_world.acme.api.get("/api/v1/webhooks/event-types").json
    assert "case.escalation_manager_assigned" in {t["type"] for t in types}


@pytest.mark.parametrize(
    ("caller", "email", "message"),
    [
        ("acme", "ed@acme.example", "not an escalation manager"),  # an engineer
        ("acme", "georg@globex.example", "No active user of 'acme'"),  # the other side's
        ("globex", "max@acme.example", "No active user of 'globex'"),
        ("acme", "nobody@acme.example", "No active user of 'acme'"),
    ],
)
def test_only_an_escalation_manager_of_ones_own_side_can_be_named(
    case_world, caller, email, message
):
    case_id = case_world.open_case()["id"]
    party = getattr(case_world, caller)
    response = party.api.post(
        f"/api/v1/cases/{case_id}/assign-escalation-manager",
        json={"escalation_manager": email},
    )
    body = assert_problem(response, 422, "validation_failed")
    assert message in body["errors"]["escalation_manager"][0]
    view = party.api.get(f"/api/v1/cases/{case_id}").json
    assert view["version"] == 1 and view[view["side"]]["escalation_manager"] is None


def test_the_escalation_manager_is_named_on_the_case_page(case_world):
    case_id = case_world.open_case()["id"]
    globex = case_world.sign_in(case_world.globex.users["gustav"])
    url = f"/cases/{case_id}"
    page = globex.get(url).get_data(as_text=True)
    assert 'id="action-assign-escalation-manager"' in page
    assert '<option value="georg@globex.example">Georg Manager</option>' in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    named = globex.post(
        f"{url}/act/assign-escalation-manager",
        data={
            "csrf_token": globex.csrf_token,
            "version": version,
            "escalation_manager": "georg@globex.example",
        },
    )
    assert named.status_code == 303, named.get_data(as_text=True)
    page = case_world.sign_in(case_world.acme.users["ed"]).get(url).get_data(as_text=True)
    assert "<strong>escalation manager assigned</strong>" in page
    assert "receiver escalation manager: — → Georg Manager" in page
