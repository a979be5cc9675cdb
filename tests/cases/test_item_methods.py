"""A note and an attachment have URLs of their own: GET reads them, and a method they do
not take (PUT, PATCH, DELETE: notes are append-only) is a 405 naming the allowed ones in
``Allow``, not a 404 that reads as "no such note"."""

from __future__ import annotations

import io

import pytest

from tests.cases.conftest import assert_problem


@pytest.fixture()
def note(case_world):
    case_id = case_world.open_case()["id"]
    response = case_world.acme.api.post(
        f"/api/v1/cases/{case_id}/notes", json={"body": "Logs attached."}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return case_id, response.json


@pytest.fixture()
def attachment(case_world):
    case_id = case_world.open_case()["id"]
    response = case_world.acme.api.post(
        f"/api/v1/cases/{case_id}/attachments",
        data={"file": (io.BytesIO(b"log"), "log.txt", "text/plain")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return case_id, response.json


def allowed(response) -> set[str]:
    return {m.strip() for m in response.headers["Allow"].split(",")}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_changing_or_deleting_a_note_is_405_with_allow(case_world, note, method):
    case_id, body = note
    api = case_world.acme.api

    response = api.http.open(
        f"/api/v1/cases/{case_id}/notes/{body['id']}",
        method=method,
        json={"body": "rewritten"},
        headers={"Authorization": f"Bearer {api.token}"},
    )

    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in allowed(response)
    assert method not in allowed(response)
    assert api.get(f"/api/v1/cases/{case_id}/notes").json == [body]


def test_a_note_can_be_read_by_both_parties_and_nobody_else(case_world, note):
    case_id, body = note
    url = f"/api/v1/cases/{case_id}/notes/{body['id']}"

    for caller in (case_world.acme.api, case_world.globex.api):
        response = caller.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.json == body
    assert_problem(case_world.initech.api.get(url), 404, "not_found")
    assert_problem(case_world.acme.api.get(f"/api/v1/cases/{case_id}/notes/0"), 404, "not_found")


def test_a_note_of_another_case_is_not_found_under_this_one(case_world, note):
    _, body = note
    other_case = case_world.open_case()["id"]

    response = case_world.acme.api.get(f"/api/v1/cases/{other_case}/notes/{body['id']}")

    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_changing_or_deleting_an_attachment_is_405_with_allow(case_world, attachment, method):
    case_id, body = attachment
    api = case_world.acme.api

    response = api.http.open(
        f"/api/v1/cases/{case_id}/attachments/{body['id']}",
        method=method,
        headers={"Authorization": f"Bearer {api.token}"},
    )

    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in allowed(response)
    assert api.get(f"/api/v1/cases/{case_id}/attachments/{body['id']}").json == body
