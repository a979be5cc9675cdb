"""What a case's texts must be, at every entrance: single-line fields (the summary, the
customer's names and address, the product) hold no control character, and mandatory
texts (description, question, answer, explanations, resolution, reasons, business
impact, notes) need visible text, not only spaces or zero-width characters."""

from __future__ import annotations

import pytest

from tests.cases.conftest import ACTION_BODIES, assert_problem, case_count, event_count
from tests.conftest import csrf_token_from

BLANKS = [
    "   ",
    "\u200b\u200c\u200d",
    " \u2060\ufeff ",
    "\u3164",
    " \u200b \n\t ",
]
BREAKS = [
    "Disk full\nBcc: all@evil.example",
    "Disk full\r",
    "Disk\tfull",
    "Disk full\u2028again",
    "Disk full\u2029",
    "Disk full\x85",
    "Disk full\x1b[2J",
]
# (action, the mandatory or, when given, visible text field)
TEXT_FIELDS = [
    ("request-information", "question"),
    ("provide-information", "answer"),
    ("reject", "explanation"),
    ("withdraw", "explanation"),
    ("resolve", "resolution"),
    ("close", "resolution"),
    ("reopen", "reason"),
    ("escalate", "reason"),
    ("change-severity", "business_impact"),
    ("accept", "next_steps"),
]


@pytest.mark.parametrize("summary", BREAKS + BLANKS)
def test_a_summary_is_one_line_of_visible_text(case_world, summary):
    before = case_count()
    response = case_world.acme.api.post("/api/v1/cases", json=_case(case_world, summary=summary))
    body = assert_problem(response, 422, "validation_failed")
    assert list(body["errors"]) == ["summary"]
    assert case_count() == before


def _case(world, **overrides):
    from tests.cases.conftest import globex_case

    return globex_case(**overrides)


@pytest.mark.parametrize("blank", BLANKS)
def test_a_description_needs_visible_text(case_world, blank):
    response = case_world.acme.api.post("/api/v1/cases", json=_case(case_world, description=blank))
    assert assert_problem(response, 422, "validation_failed")["errors"].keys() == {"description"}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("company", "Mutual\nCustomer"),
        ("contact_name", "Carla\r\nBcc: x@evil.example"),
        ("contact_phone", "+49\t30"),
        ("contact_email", "carla@customer.example\nBcc: x@evil.example"),
        ("contact_email", "Bob <bob@evil.example>, x@acme.example"),
        ("contact_email", "not-an-email"),
    ],
)
def test_the_customers_fields_are_single_lines(case_world, path, value):
    from tests.cases.conftest import CUSTOMER

    response = case_world.acme.api.post(
        "/api/v1/cases", json=_case(case_world, customer={**CUSTOMER, path: value})
    )
    body = assert_problem(response, 422, "validation_failed")
    assert list(body["errors"]) == [f"customer.{path}"]


def test_a_product_name_is_a_single_line(case_world):
    response = case_world.acme.api.post(
        "/api/v1/cases",
        json=_case(case_world, product={"name": "Globex\nHypervisor", "version": "8.0"}),
    )
    assert list(assert_problem(response, 422, "validation_failed")["errors"]) == ["product.name"]


@pytest.mark.parametrize(("action", "name"), TEXT_FIELDS)
@pytest.mark.parametrize("blank", BLANKS[:2])
def test_every_action_text_needs_visible_text(case_world, action, name, blank):
    case = case_world.open_case()
    before = event_count()
    response = case_world.globex.api.post(
        f"/api/v1/cases/{case['id']}/{action}", json={**ACTION_BODIES[action], name: blank}
    )
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"] == {
        name: ["Write some text: spaces or invisible characters alone do not count."]
    }
    assert event_count() == before


@pytest.mark.parametrize("blank", BLANKS)
def test_a_note_needs_visible_text(case_world, blank):
    case = case_world.open_case()
    before = event_count()
    response = case_world.globex.api.post(f"/api/v1/cases/{case['id']}/notes", json={"body": blank})
    assert list(assert_problem(response, 422, "validation_failed")["errors"]) == ["body"]
    assert event_count() == before


def test_the_case_page_refuses_an_invisible_question_at_its_field(case_world):
    case = case_world.open_case()
    browser = case_world.sign_in(case_world.globex.users["gustav"])
    page = browser.get(f"/cases/{case['id']}").get_data(as_text=True)
    before = event_count()
    response = browser.http.post(
        f"/cases/{case['id']}/act/request-information",
        data={"question": "\u200b\u200b", "csrf_token": csrf_token_from(page)},
    )
    assert response.status_code == 422
    assert "spaces or invisible characters alone do not count" in response.get_data(as_text=True)
    assert event_count() == before

    note = browser.http.post(
        f"/cases/{case['id']}/notes",
        data={"body": "\ufeff \u200d", "csrf_token": csrf_token_from(page)},
    )
    assert note.status_code == 422
    assert event_count() == before
