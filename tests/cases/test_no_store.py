"""Pages and API answers that show customer data carry ``Cache-Control: no-store``, so
neither a shared proxy nor the browser's disk cache (or its back button after sign-out
on a shared machine) keeps a copy. Static files keep their own caching."""

from __future__ import annotations

import io

import pytest


def no_store(response) -> bool:
    directives = {d.strip() for d in response.headers.get("Cache-Control", "").split(",")}
    return "no-store" in directives


@pytest.fixture()
def case_id(case_world):
    case_id = case_world.open_case()["id"]
    case_world.acme.api.post(f"/api/v1/cases/{case_id}/notes", json={"body": "Logs."})
    case_world.acme.api.post(
        f"/api/v1/cases/{case_id}/attachments",
        data={"file": (io.BytesIO(b"log"), "log.txt", "text/plain")},
        content_type="multipart/form-data",
    )
    return case_id


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/cases",
        "/cases?status=open",
        "/cases/{id}",
        "/cases/{id}/attachments/{attachment}",
        "/reports",
        "/reports.csv",
        "/directory",
        "/settings/notifications",
    ],
)
def test_pages_with_customer_data_are_not_stored(case_world, case_id, path):
    browser = case_world.sign_in(case_world.acme.users["ed"])
    attachment = case_world.acme.api.get(f"/api/v1/cases/{case_id}/attachments").json[0]["id"]

    with browser.get(path.format(id=case_id, attachment=attachment)) as response:
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert no_store(response), response.headers.get("Cache-Control")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cases",
        "/api/v1/cases/{id}",
        "/api/v1/cases/{id}/notes",
        "/api/v1/cases/{id}/events",
        "/api/v1/cases/{id}/attachments",
        "/api/v1/me",
    ],
)
def test_api_answers_with_customer_data_are_not_stored(case_world, case_id, path):
    response = case_world.acme.api.get(path.format(id=case_id))

    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert no_store(response), response.headers.get("Cache-Control")


def test_a_case_written_over_the_api_answers_no_store(case_world, case_id):
    response = case_world.acme.api.patch(f"/api/v1/cases/{case_id}", json={"reference": "A-1"})

    assert response.status_code == 200, response.get_data(as_text=True)
    assert no_store(response)


def test_static_files_keep_their_own_caching(client):
    response = client.get("/static/exchange.css")

    assert response.status_code == 200
    assert not no_store(response)
    response.close()
