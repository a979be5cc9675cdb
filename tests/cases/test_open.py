"""Opening a case: the answer (number, pinned process, deadline, both parties), choosing
the process, Idempotency-Key, bad input, obsolete product versions and test cases."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from exchange import clock
from exchange.cases import service
from exchange.cases.models import Case
from exchange.cases.service.clock import scan_deadlines
from exchange.db import db, transaction
from exchange.errors import ValidationFailed
from exchange.members.models import ProductVersion
from exchange.processes import service as processes
from exchange.processes.models import Process
from tests.cases.conftest import (
    ACME_INTAKE,
    CUSTOMER,
    acme_case,
    assert_problem,
    case_count,
    event_count,
    globex_case,
)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def process_of(slug: str, name_part: str = "") -> Process:
    return next(
        p
        for p in db.session.scalars(select(Process).order_by(Process.id))
        if p.member.slug == slug and name_part in p.name
    )


# -- the answer -------------------------------------------------------------------------


def test_open_answers_201_with_location_number_and_both_parties(case_world):
    acme = case_world.acme.api
    response = acme.post("/api/v1/cases", json=globex_case())
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.json
    case_id = body["id"]
    assert response.headers["Location"].endswith(f"/api/v1/cases/{case_id}")
    assert response.headers["ETag"] == f'"{case_id}-1"'
    assert re.fullmatch(r"CX-\d{6}", body["number"])
    assert body["number"] == f"CX-{case_id:06d}"
    assert body["status"] == "open"
    assert body["side"] == "submitter"
    assert body["version"] == 1
    assert body["test"] is False
    assert body["created_at"] == body["updated_at"]
    assert body["severity"] == {"key": "2", "name": "Severity 2: loss of primary function"}
    assert body["customer"]["company"] == CUSTOMER["company"]
    assert body["intake"] == globex_case()["intake"]
    assert body["submitter"] == {
        "member": {"slug": "acme", "name": "Acme Storage"},
        "engineer": {"name": "Ed Engineer", "email": "ed@acme.example", "phone": None},
        "reference": "ACME-1001",
        "escalation_manager": None,
    }
    assert body["receiver"] == {
        "member": {"slug": "globex", "name": "Globex Virtualization"},
        "engineer": None,
        "reference": None,
        "escalation_manager": None,
    }
    assert body["escalation_level"] == 0
    assert body["allowed_actions"] == [
        "withdraw",
        "assign",
        "escalate",
        "assign-escalation-manager",
        "change-severity",
    ]

    # The Location is the case; the receiver reads it with its own side and actions.
    read = case_world.globex.api.get(response.headers["Location"])
    assert read.status_code == 200
    assert read.json["id"] == case_id
    assert read.json["side"] == "receiver"
    assert "accept" in read.json["allowed_actions"]
    assert read.headers["ETag"] == response.headers["ETag"]

    events = acme.get(f"/api/v1/cases/{case_id}/events").json
    assert [(e["sequence"], e["type"], e["side"]) for e in events] == [
        (1, "case.opened", "submitter")
    ]


def test_response_due_at_is_created_at_plus_the_severity_commitment(case_world):
    # acme's process covers 24x7, so the commitment is plain elapsed time.
    for severity, minutes in [("1", 60), ("2", 120), ("3", 240), ("4", None)]:
        body = case_world.open_case(case_world.globex.api, **acme_case(severity=severity))
        created = parse_time(body["created_at"])
        if minutes is None:
            assert body["response_due_at"] is None  # "as negotiated"
        else:
            due = parse_time(body["response_due_at"])
            assert due == created + timedelta(minutes=minutes), severity


def test_the_case_pins_the_process_version_it_was_opened_under(case_world):
    admin = case_world.acme.actor("admin")
    process = process_of("acme")
    globex = case_world.globex.api
    first = case_world.open_case(globex, **acme_case())
    assert first["process"] == {
        "id": process.id,
        "version": 1,
        "name": "Acme storage collaborative support",
    }
    with transaction():
        draft = processes.start_draft(actor=admin, process=process)
        content = dict(draft.content, name="Acme support v2")
        content["severities"] = [dict(s) for s in content["severities"]]
        content["severities"][1]["response_minutes"] = 30
        content["severities"][1]["name"] = "Sev 2 (faster)"
        processes.save_draft(actor=admin, process=process, content=content)
        processes.publish(actor=admin, process=process)

    second = case_world.open_case(globex, **acme_case())
    assert second["process"] == {"id": process.id, "version": 2, "name": "Acme support v2"}
    assert second["severity"]["name"] == "Sev 2 (faster)"
    assert parse_time(second["response_due_at"]) == parse_time(second["created_at"]) + timedelta(
        minutes=30
    )
    # The first case keeps what it was promised.
    again = globex.get(f"/api/v1/cases/{first['id']}").json
    assert again["process"]["version"] == 1
    assert again["process"]["name"] == "Acme storage collaborative support"
    assert again["response_due_at"] == first["response_due_at"]
    assert parse_time(again["response_due_at"]) == parse_time(again["created_at"]) + timedelta(
        minutes=120
    )
    assert again["severity"]["name"] == "Severity 2: loss of primary function"


def test_a_signed_in_engineer_is_the_default_submitting_engineer(case_world):
    erin = case_world.sign_in(case_world.acme.users["erin"])
    payload = globex_case()
    del payload["engineer"]
    response = erin.post("/api/v1/cases", json=payload)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["submitter"]["engineer"]["email"] == "erin@acme.example"
    event = erin.get(f"/api/v1/cases/{response.json['id']}/events").json[0]
    assert event["actor"] == "erin@acme.example"
    assert event["origin"] == "web"


def test_a_signed_in_write_without_csrf_token_is_refused(case_world):
    erin = case_world.sign_in(case_world.acme.users["erin"])
    before = case_count()
    response = erin.http.post("/api/v1/cases", json=globex_case())
    assert_problem(response, 400, "csrf_failed")
    assert case_count() == before


# -- choosing the process ---------------------------------------------------------------


def test_process_may_be_left_out_when_exactly_one_is_visible(case_world):
    # acme sees only initech's public process (the fast lane is for its community).
    body = case_world.open_case(
        receiver="initech",
        intake={"db_version": "13", "error_code": "INI-00600"},
    )
    assert body["process"]["id"] == process_of("initech", "database support").id


def test_process_is_required_when_several_are_visible(case_world):
    # globex is in the Initech partner community and sees both of initech's processes.
    payload = globex_case(receiver="initech", engineer="gustav@globex.example")
    payload["intake"] = {"db_version": "13"}
    body = assert_problem(
        case_world.globex.api.post("/api/v1/cases", json=payload), 422, "validation_failed"
    )
    assert list(body["errors"]) == ["process"]
    for process in (process_of("initech", "database support"), process_of("initech", "fast")):
        assert str(process.id) in body["errors"]["process"][0]

    payload["process"] = process_of("initech", "fast").id
    response = case_world.globex.api.post("/api/v1/cases", json=payload)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["process"]["name"] == "Initech partner fast lane"


def test_a_receiver_without_a_visible_process_is_422_process(case_world, make_member):
    make_member("newcomer", "Newcomer Networks")
    before = case_count()
    body = assert_problem(
        case_world.acme.api.post("/api/v1/cases", json=globex_case(receiver="newcomer")),
        422,
        "validation_failed",
    )
    assert list(body["errors"]) == ["process"]
    assert case_count() == before


def test_a_process_of_another_member_is_404(case_world):
    own = process_of("acme").id
    initech = process_of("initech", "database support").id
    for process_id in (own, initech, 999_999):
        response = case_world.acme.api.post("/api/v1/cases", json=globex_case(process=process_id))
        assert_problem(response, 404, "not_found")


def test_a_community_process_the_submitter_cannot_see_is_404(case_world):
    fast_lane = process_of("initech", "fast").id
    payload = globex_case(receiver="initech", process=fast_lane, intake={"db_version": "13"})
    before = case_count()
    assert_problem(case_world.acme.api.post("/api/v1/cases", json=payload), 404, "not_found")
    assert case_count() == before


# -- bad input --------------------------------------------------------------------------


def test_an_unknown_receiver_is_404(case_world):
    response = case_world.acme.api.post("/api/v1/cases", json=globex_case(receiver="nobody"))
    assert_problem(response, 404, "not_found")


def test_a_member_cannot_open_a_case_against_itself(case_world):
    payload = acme_case(engineer="ed@acme.example")
    body = assert_problem(
        case_world.acme.api.post("/api/v1/cases", json=payload), 422, "validation_failed"
    )
    assert list(body["errors"]) == ["receiver"]


def test_intake_values_failing_type_options_and_requirement_are_each_named(case_world):
    payload = globex_case(
        intake={
            "hypervisor_version": "6.5",  # not an option
            "cluster_hosts": "twelve",  # not an integer
            "log_bundle_url": "ftp://files.example/x",  # not http(s)
            "serial_number": "X1",  # not a field of this process
            # admin_email (required) missing
        }
    )
    before = (case_count(), event_count())
    body = assert_problem(
        case_world.acme.api.post("/api/v1/cases", json=payload), 422, "validation_failed"
    )
    assert set(body["errors"]) == {
        "intake.hypervisor_version",
        "intake.cluster_hosts",
        "intake.log_bundle_url",
        "intake.serial_number",
        "intake.admin_email",
    }
    assert (case_count(), event_count()) == before


def test_intake_values_of_the_wrong_type_are_named(case_world):
    for key, value in [
        ("admin_email", "not-an-address"),
        ("cluster_hosts", True),
        ("cluster_hosts", 4.5),
        ("cluster_hosts", "4"),
        ("hypervisor_version", 8),
        ("log_bundle_url", "https://"),
    ]:
        intake = {"hypervisor_version": "8.0", "cluster_hosts": 4, "admin_email": "a@b.example"}
        intake[key] = value
        response = case_world.acme.api.post("/api/v1/cases", json=globex_case(intake=intake))
        body = assert_problem(response, 422, "validation_failed")
        assert list(body["errors"]) == [f"intake.{key}"], (key, value)


def test_intake_pattern_and_length_are_checked(case_world):
    for serial, why in [
        ("AC-12", "pattern"),
        ("AC-1234567", "length"),
        ("ac-123456", "pattern"),
        ("xAC-123456", "pattern (whole value)"),
    ]:
        payload = acme_case(intake={**ACME_INTAKE, "array_serial": serial})
        response = case_world.globex.api.post("/api/v1/cases", json=payload)
        body = assert_problem(response, 422, "validation_failed")
        assert list(body["errors"]) == ["intake.array_serial"], why
    too_long = acme_case(intake={**ACME_INTAKE, "array_os_version": "6" * 21})
    body = assert_problem(
        case_world.globex.api.post("/api/v1/cases", json=too_long), 422, "validation_failed"
    )
    assert list(body["errors"]) == ["intake.array_os_version"]


def test_a_missing_required_intake_value_is_named(case_world):
    for missing in ("array_serial", "array_os_version"):
        intake = {k: v for k, v in ACME_INTAKE.items() if k != missing}
        response = case_world.globex.api.post("/api/v1/cases", json=acme_case(intake=intake))
        body = assert_problem(response, 422, "validation_failed")
        assert list(body["errors"]) == [f"intake.{missing}"]
    # Empty counts as missing.
    intake = {**ACME_INTAKE, "array_serial": ""}
    response = case_world.globex.api.post("/api/v1/cases", json=acme_case(intake=intake))
    assert list(assert_problem(response, 422, "validation_failed")["errors"]) == [
        "intake.array_serial"
    ]


def test_a_severity_the_submitter_may_not_declare_is_422(case_world):
    before = case_count()
    response = case_world.acme.api.post("/api/v1/cases", json=globex_case(severity="1"))
    body = assert_problem(response, 422, "validation_failed")
    assert list(body["errors"]) == ["severity"]
    assert "receiver" in body["errors"]["severity"][0]
    response = case_world.acme.api.post("/api/v1/cases", json=globex_case(severity="9"))
    assert list(assert_problem(response, 422, "validation_failed")["errors"]) == ["severity"]
    assert case_count() == before
    # acme's own process lets submitters declare severity 1.
    assert (
        case_world.open_case(case_world.globex.api, **acme_case(severity="1"))["severity"]["key"]
        == "1"
    )


def test_the_submitting_engineer_must_be_an_engineer_of_the_submitter(case_world):
    before = case_count()
    for engineer in [
        "gustav@globex.example",  # another member's engineer
        "nobody@acme.example",  # no such user
        "admin@acme.example",  # own member, but not an engineer
    ]:
        response = case_world.acme.api.post("/api/v1/cases", json=globex_case(engineer=engineer))
        body = assert_problem(response, 422, "validation_failed")
        assert list(body["errors"]) == ["engineer"], engineer
    assert case_count() == before


def test_a_program_must_name_the_submitting_engineer(case_world):
    payload = globex_case()
    del payload["engineer"]
    body = assert_problem(
        case_world.acme.api.post("/api/v1/cases", json=payload), 422, "validation_failed"
    )
    assert list(body["errors"]) == ["engineer"]


def test_every_problem_is_named_in_one_answer(case_world):
    payload = globex_case(severity="1", engineer="gustav@globex.example", intake={})
    body = assert_problem(
        case_world.acme.api.post("/api/v1/cases", json=payload), 422, "validation_failed"
    )
    assert {"severity", "engineer", "intake.hypervisor_version", "intake.admin_email"} <= set(
        body["errors"]
    )


def test_malformed_bodies_are_422_naming_the_field(case_world):
    before = case_count()
    for change, field in [
        ({"summary": ""}, "summary"),
        ({"summary": "x" * 301}, "summary"),
        ({"description": "x" * 10_001}, "description"),
        ({"customer": {"company": "C"}}, "customer.contact_name"),
        ({"customer": {**CUSTOMER, "contact_email": "nope"}}, "customer.contact_email"),
        ({"process": "one"}, "process"),
        ({"test": "perhaps"}, "test"),
        ({"engineer": "not-an-email"}, "engineer"),
        ({"intake": ["not", "an", "object"]}, "intake"),
        ({"unexpected": 1}, "unexpected"),
    ]:
        response = case_world.acme.api.post("/api/v1/cases", json=globex_case(**change))
        body = assert_problem(response, 422, "validation_failed")
        assert field in body["errors"], (change, body["errors"])
    assert case_count() == before


def test_a_suspended_receiver_takes_no_cases(case_world):
    from exchange.members import service as members

    with transaction():
        members.set_member_status(member=case_world.globex.member, status="suspended")
    response = case_world.acme.api.post("/api/v1/cases", json=globex_case())
    assert list(assert_problem(response, 422, "validation_failed")["errors"]) == ["receiver"]


# -- products and test cases ------------------------------------------------------------


def test_an_obsolete_product_version_is_flagged_not_refused(case_world):
    # Globex Hypervisor 7.0 left support on 2026-03-31; 8.0 is supported.
    old = case_world.open_case(product={"name": "Globex Hypervisor", "version": "7.0"})
    assert old["product"] == {"name": "Globex Hypervisor", "version": "7.0", "obsolete": True}
    new = case_world.open_case(product={"name": "Globex Hypervisor", "version": "8.0"})
    assert new["product"]["obsolete"] is False
    unknown = case_world.open_case(product={"name": "Other Thing", "version": "1"})
    assert unknown["product"]["obsolete"] is False
    assert case_world.open_case()["product"] is None
    # The receiver sees the flag too.
    seen = case_world.globex.api.get(f"/api/v1/cases/{old['id']}").json
    assert seen["product"]["obsolete"] is True


@pytest.mark.parametrize(
    ("name", "version", "obsolete"),
    [
        ("globex hypervisor", "7.0", True),
        ("  GLOBEX   Hypervisor ", "7.0", True),
        ("GlobexHypervisor", "7.0", True),
        ("Globex Hypervisor", "7.0.3", True),
        ("Globex Hypervisor", "7.0 update 2", True),
        ("globex hypervisor", "8.0.1", False),
        ("Globex Hypervisor", "7.01", False),
        ("Globex Hypervisor", "7", False),
        ("Globex Hypervisor", "70", False),
    ],
)
def test_the_product_is_matched_loosely_by_name_and_version_prefix(
    case_world, name, version, obsolete
):
    # Names ignore case and spaces; a version matches the listed version its numbers
    # start with (7.0.3 is 7.0, 7.01 and 7 are not).
    body = case_world.open_case(product={"name": name, "version": version})
    assert body["product"] == {"name": name, "version": version, "obsolete": obsolete}
    case = db.session.get(Case, body["id"])
    ids = case.product_version_id
    listed = db.session.get(ProductVersion, ids).version if ids else None
    assert listed == ("7.0" if obsolete else "8.0" if version.startswith("8") else None)


def test_the_end_of_support_scan_flags_a_loosely_named_version(case_world):
    body = case_world.open_case(product={"name": "GLOBEX hypervisor", "version": "8.0.2"})
    assert body["product"]["obsolete"] is False
    case = db.session.get(Case, body["id"])
    eight = db.session.get(ProductVersion, case.product_version_id)
    assert eight.version == "8.0"
    now = clock.now()
    with transaction():
        eight.end_of_support_date = now.date() - timedelta(days=1)
    scan_deadlines(now=now)
    seen = case_world.globex.api.get(f"/api/v1/cases/{body['id']}").json
    assert seen["product"]["obsolete"] is True
    history = case_world.globex.api.get(f"/api/v1/cases/{body['id']}/events").json
    assert [e["type"] for e in history].count("case.product_obsolete") == 1


def test_a_test_case_is_marked_and_counted_nowhere(case_world):
    real = case_world.open_case()
    trial = case_world.open_case(test=True, summary="TSANet test submission")
    assert trial["test"] is True and real["test"] is False
    event = case_world.acme.api.get(f"/api/v1/cases/{trial['id']}/events").json[0]
    assert event["data"]["test"] is True
    for party in (case_world.acme, case_world.globex):
        page = party.api.get("/api/v1/cases").json
        # Listed (and marked) for both parties ...
        marks = {c["id"]: c["test"] for c in page["items"]}
        assert marks == {real["id"]: False, trial["id"]: True}
        # ... but never counted.
        assert page["counts"]["open"] == 1
        assert sum(page["counts"].values()) == 1
    only_tests = case_world.acme.api.get("/api/v1/cases?test=true").json
    assert [c["id"] for c in only_tests["items"]] == [trial["id"]]


# -- Idempotency-Key --------------------------------------------------------------------


def test_the_same_idempotency_key_and_body_replay_the_original_answer(case_world):
    acme = case_world.acme.api
    headers = {"Idempotency-Key": "open-ACME-1001"}
    first = acme.post("/api/v1/cases", json=globex_case(), headers=headers)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    counts = (case_count(), event_count())

    # Same body, keys in another order: the same request.
    reordered = dict(reversed(list(globex_case().items())))
    again = acme.post("/api/v1/cases", json=reordered, headers=headers)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert (case_count(), event_count()) == counts


def test_the_same_idempotency_key_with_another_body_is_422(case_world):
    acme = case_world.acme.api
    headers = {"Idempotency-Key": "k-1"}
    assert acme.post("/api/v1/cases", json=globex_case(), headers=headers).status_code == 201
    before = case_count()
    response = acme.post("/api/v1/cases", json=globex_case(summary="Other"), headers=headers)
    body = assert_problem(response, 422, "idempotency_key_reused")
    assert "Idempotency-Key" in body["errors"]
    assert case_count() == before


def test_idempotency_keys_belong_to_one_member(case_world):
    headers = {"Idempotency-Key": "shared-key"}
    first = case_world.acme.api.post("/api/v1/cases", json=globex_case(), headers=headers)
    other = case_world.globex.api.post("/api/v1/cases", json=acme_case(), headers=headers)
    assert first.status_code == other.status_code == 201
    assert "Idempotent-Replayed" not in other.headers
    assert first.json["id"] != other.json["id"]
    # Another program of the same member replays acme's answer.
    sibling = case_world.program(case_world.acme, ("cases:read", "cases:write"))
    replay = sibling.post("/api/v1/cases", json=globex_case(), headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json["id"] == first.json["id"]


def test_a_failed_request_does_not_use_up_its_idempotency_key(case_world):
    acme = case_world.acme.api
    headers = {"Idempotency-Key": "retry-me"}
    bad = acme.post("/api/v1/cases", json=globex_case(severity="1"), headers=headers)
    assert_problem(bad, 422, "validation_failed")
    good = acme.post("/api/v1/cases", json=globex_case(), headers=headers)
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good.headers


def test_an_unusable_idempotency_key_is_422(case_world):
    before = case_count()
    for key in ["", "   ", "k" * 201]:
        response = case_world.acme.api.post(
            "/api/v1/cases", json=globex_case(), headers={"Idempotency-Key": key}
        )
        body = assert_problem(response, 422, "validation_failed")
        assert "Idempotency-Key" in body["errors"]
    assert case_count() == before


# -- the service, for callers other than the API ------------------------------------------


def test_open_case_in_the_service_needs_cases_write(case_world):
    from exchange.auth.actor import Actor
    from exchange.errors import Problem

    reader = Actor(
        member=case_world.acme.member,
        scopes=frozenset({"cases:read"}),
        user=case_world.acme.users["ed"],
    )
    payload = globex_case()
    with pytest.raises(Problem) as caught:
        service.open_case(actor=reader, **payload)
    assert caught.value.code == "insufficient_scope"


def test_open_case_in_the_service_takes_an_explicit_clock(case_world):
    when = (clock.now() + timedelta(days=2)).replace(microsecond=0)
    payload = acme_case()
    with transaction():
        case = service.open_case(actor=case_world.globex.actor("gustav"), now=when, **payload)
    assert case.created_at == when
    assert case.response_due_at == when + timedelta(minutes=120)
    with pytest.raises(ValidationFailed) as caught:
        service.open_case(
            actor=case_world.globex.actor("gustav"), **{**payload, "receiver": "globex"}
        )
    assert "receiver" in caught.value.errors
    assert db.session.get(Case, case.id).number == f"CX-{case.id:06d}"
