"""Malformed months and years on the report pages and the CSV: a 422 naming the field,
never a 500 (``month=0-1`` built a date in year 0)."""

from __future__ import annotations

import pytest

from exchange.db import transaction
from exchange.demo import load_demo
from exchange.members import service as members


@pytest.fixture()
def signed_in(client, login):
    with transaction():
        load_demo()
    login(members.find_user_by_email(email="ed@acme.example"), password="exchange-demo")
    return client


def assert_422(response, field: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.json["code"] == "validation_failed"
    assert set(response.json["errors"]) == {field}


@pytest.mark.parametrize(
    "month",
    [
        "0-1",
        "0000-01",
        "1-1",
        "-1-01",
        "9999-12",
        "99999-01",
        "2027-00",
        "2027-1-1",
        "2027-+1",
        "2027- 1",
        " 2027-01",
        "\uff12\uff10\uff12\uff17-01"  # fullwidth digits,
        "2027",
        "",
        "x" * 500,
    ],
)
def test_a_malformed_review_month_is_422(signed_in, month):
    response = signed_in.get(
        "/reports/review",
        query_string={"partner": "globex", "month": month},
        headers={"Accept": "application/json"},
    )

    assert_422(response, "month")


@pytest.mark.parametrize("path", ["/reports", "/reports.csv"])
@pytest.mark.parametrize(
    "year", ["0", "-5", "abc", "1999", "2101", "2027.0", "\uff11\uff19\uff19\uff19", "9" * 30]
)
def test_a_malformed_report_year_is_422(signed_in, path, year):
    response = signed_in.get(
        path, query_string={"year": year}, headers={"Accept": "application/json"}
    )

    assert_422(response, "year")


@pytest.mark.parametrize("path", ["/reports", "/reports.csv"])
def test_without_a_year_the_report_shows_this_year(signed_in, path):
    assert signed_in.get(path).status_code == 200
    assert signed_in.get(path, query_string={"year": ""}).status_code == 200


def test_a_well_formed_review_month_passes(signed_in):
    response = signed_in.get(
        "/reports/review", query_string={"partner": "globex", "month": "2027-01"}
    )

    assert response.status_code == 200
