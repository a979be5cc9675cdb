"""JSON bodies that are valid JSON but that Python or the database cannot take: lone
surrogates (valid JSON escapes, not valid Unicode text) and nesting thousands deep. Each
is a 4xx problem that changes nothing, never a 500."""

from __future__ import annotations

import pytest

from tests.test_bad_input import assert_problem, fields_named, user_count

JSON = {"Content-Type": "application/json"}


@pytest.fixture()
def program(api, make_member):
    member = make_member()
    return api(member, scopes=("directory:read", "members:admin")), member


@pytest.mark.parametrize(
    "raw",
    [
        '{"email": "s@x.example", "name": "A\\ud800B"}',
        '{"email": "s@x.example", "name": "\\udfff"}',
        '{"email": "s@x.example", "name": "A", "roles": ["\\ud83d"]}',
        '{"email": "s@x.example", "name": "A", "\\ud800": 1}',
    ],
    ids=["high-surrogate", "low-surrogate", "in-a-list", "in-a-key"],
)
def test_a_lone_surrogate_in_a_json_string_is_400(program, raw):
    caller, member = program
    before = user_count()

    response = caller.post(f"/api/v1/members/{member.slug}/users", data=raw, headers=JSON)

    body = assert_problem(response, 400, "malformed_json")
    assert "surrogate" in body["detail"]
    assert user_count() == before


def test_a_lone_surrogate_in_a_patch_changes_nothing(program):
    caller, member = program
    name = member.name

    response = caller.patch(
        f"/api/v1/members/{member.slug}", data='{"name": "\\udc00"}', headers=JSON
    )

    assert_problem(response, 400, "malformed_json")
    assert caller.get(f"/api/v1/members/{member.slug}").json["name"] == name


def test_a_surrogate_pair_is_ordinary_text(program):
    """An escaped pair is one character outside the BMP, stored and given back as is."""
    caller, member = program

    response = caller.post(
        f"/api/v1/members/{member.slug}/users",
        data='{"email": "pair@x.example", "name": "Ann \\ud83d\\ude00"}',
        headers=JSON,
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["name"] == "Ann \U0001f600"


@pytest.mark.parametrize(
    "depth", [100, 600, 100_000], ids=["past-the-limit", "past-the-nul-check", "past-the-decoder"]
)
@pytest.mark.parametrize("bracket", ["[]", '{"a":}'], ids=["lists", "objects"])
def test_json_nested_too_deep_is_400(program, depth, bracket):
    caller, member = program
    opening, closing = ("[", "]") if bracket == "[]" else ('{"a":', "}")
    raw = '{"email": "d@x.example", "name": "A", "roles": ' + opening * depth + "1"
    raw += closing * depth + "}"
    before = user_count()

    response = caller.post(f"/api/v1/members/{member.slug}/users", data=raw, headers=JSON)

    body = assert_problem(response, 400, "malformed_json")
    assert "deep" in body["detail"]
    assert user_count() == before


def test_ordinary_nesting_passes_the_depth_check(program):
    """The depth limit sits far above what any body of the API needs."""
    caller, member = program
    raw = '{"email": "n@x.example", "name": "A", "roles": [[[["engineer"]]]]}'

    response = caller.post(f"/api/v1/members/{member.slug}/users", data=raw, headers=JSON)

    # Reaches the schema, which refuses a list of lists for what it is.
    body = assert_problem(response, 422, "validation_failed")
    assert fields_named(body["errors"]) == {"roles"}
