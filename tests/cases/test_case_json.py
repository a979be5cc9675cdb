"""``case_json`` builds a case's API and webhook JSON without marshmallow; it must be
exactly what the documented ``CaseOut`` schema makes of ``case_document``."""

from __future__ import annotations

from datetime import timedelta

from exchange import clock
from exchange.cases.documents import case_document, case_json
from exchange.cases.models import Case, Side
from exchange.cases.schemas import CASE_OUT
from exchange.db import db
from tests.cases.conftest import acme_case


def test_case_json_is_what_the_schema_dumps_for_every_status_and_side(case_world):
    for status in (
        "open",
        "information_requested",
        "accepted",
        "rejected",
        "resolved",
        "closed",
        "withdrawn",
    ):
        case = case_world.open_case(
            summary=f"<b>{status}</b>", product={"name": "Globex Hypervisor", "version": "8.0"}
        )
        case_world.bring_to(case["id"], status)
    escalated = case_world.open_case()
    case_world.act(case_world.globex.api, escalated["id"], "accept")
    case_world.act(case_world.acme.api, escalated["id"], "escalate")
    case_world.open_case(case_world.globex.api, **acme_case())
    cases = db.session.query(Case).all()
    assert len(cases) == 9
    now = clock.now()
    for case in cases:
        for side in (Side.submitter, Side.receiver):
            for when in (now, now + timedelta(days=3)):  # clocks running and breached
                expected = CASE_OUT.dump(case_document(case, side, when))
                assert case_json(case, side, when) == expected, (case.id, side)


def test_api_answers_carry_the_same_json(case_world):
    case = case_world.open_case()
    case_world.act(case_world.globex.api, case["id"], "accept")
    answer = case_world.acme.api.get(f"/api/v1/cases/{case['id']}")
    read = answer.json
    listed = case_world.acme.api.get("/api/v1/cases").json["items"][0]
    row = db.session.get(Case, case["id"])
    for key in ("deadlines", "allowed_actions"):  # these follow the clock; the rest not
        read.pop(key)
        listed.pop(key)
    expected = CASE_OUT.dump(case_document(row, Side.submitter, clock.now()))
    expected.pop("deadlines")
    expected.pop("allowed_actions")
    assert read == expected
    assert listed == expected
    assert answer.headers["ETag"] == f'"{row.id}-{row.version}"'
