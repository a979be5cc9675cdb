"""Client mistakes on the REST API: each one gets a problem+json answer with a stable
``code`` (RFC 9457), never a 500."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import func, select

from exchange.db import db
from exchange.members.models import User
from exchange.pagination import encode_cursor

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "errors"}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert set(body) == PROBLEM_KEYS
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith("/" + code)
    assert body["title"]
    assert body["detail"]
    assert isinstance(body["errors"], dict)
    assert response.headers["Exchange-Version"]
    return body


@pytest.fixture()
def member(make_member):
    return make_member()


@pytest.fixture()
def program(api, member):
    """A member admin program: may read the directory and administer its member."""
    return api(member, scopes=("directory:read", "members:admin"))


@pytest.fixture()
def users_url(member):
    return f"/api/v1/members/{member.slug}/users"


def fields_named(errors: dict) -> set[str]:
    """The top-level fields an ``errors`` map names (nested paths are dotted)."""
    return {key.split(".")[0] for key in errors}


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


# -- malformed JSON -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"{bad",
        b'{"email": "a@b.example", "name": "A"',
        b'{"email": "a@b.example",}',
        b"{'email': 'a@b.example'}",
        b'{"name": "\xff"}',
    ],
    ids=["garbage", "truncated", "trailing-comma", "single-quotes", "not-utf8"],
)
def test_malformed_json_is_400_malformed_json(program, users_url, raw):
    before = user_count()

    response = program.post(users_url, data=raw, headers={"Content-Type": "application/json"})

    body = assert_problem(response, 400, "malformed_json")
    assert body["errors"] == {}
    assert user_count() == before


def test_malformed_json_on_a_patch_is_400_malformed_json(program, member):
    response = program.patch(
        f"/api/v1/members/{member.slug}",
        data="{name: New}",
        headers={"Content-Type": "application/json"},
    )

    assert_problem(response, 400, "malformed_json")


# -- invalid fields ---------------------------------------------------------------------------


def test_an_unknown_field_is_422_naming_it(program, users_url):
    before = user_count()

    response = program.post(
        users_url, json={"email": "a@b.example", "name": "A", "is_superuser": True}
    )

    body = assert_problem(response, 422, "validation_failed")
    assert set(body["errors"]) == {"is_superuser"}
    assert "is_superuser" in body["detail"]
    assert user_count() == before


def test_an_unknown_field_on_a_patch_is_422_naming_it(program, member):
    response = program.patch(f"/api/v1/members/{member.slug}", json={"nickname": "x"})

    body = assert_problem(response, 422, "validation_failed")
    assert set(body["errors"]) == {"nickname"}


def test_invalid_values_are_422_naming_each_field(program, users_url):
    response = program.post(
        users_url,
        json={"email": "not-an-email", "name": "", "roles": ["boss"], "time_zone": 5},
    )

    body = assert_problem(response, 422, "validation_failed")
    assert fields_named(body["errors"]) == {"email", "name", "roles", "time_zone"}
    for field in ("email", "name", "roles", "time_zone"):
        assert field in body["detail"]


def test_missing_required_fields_are_422_naming_each(program, users_url):
    response = program.post(users_url, json={})

    body = assert_problem(response, 422, "validation_failed")
    assert set(body["errors"]) == {"email", "name"}


def test_null_for_a_non_nullable_field_is_422(program, member):
    response = program.patch(
        f"/api/v1/members/{member.slug}", json={"name": None, "website": "ftp://x.example"}
    )

    body = assert_problem(response, 422, "validation_failed")
    assert set(body["errors"]) == {"name", "website"}


def test_a_wrong_type_for_a_list_field_is_422(program, users_url):
    response = program.post(users_url, json={"email": "a@b.example", "name": "A", "roles": "admin"})

    body = assert_problem(response, 422, "validation_failed")
    assert set(body["errors"]) == {"roles"}


@pytest.mark.parametrize("raw", ["[1, 2]", "null", '"text"', "42", "true"])
def test_a_json_body_that_is_not_an_object_is_422(program, users_url, raw):
    response = program.post(users_url, data=raw, headers={"Content-Type": "application/json"})

    assert_problem(response, 422, "validation_failed")


def test_a_service_rule_violation_names_the_field(program, users_url):
    response = program.post(
        users_url, json={"email": "a@b.example", "name": "A", "time_zone": "Mars/Olympus_Mons"}
    )

    body = assert_problem(response, 422, "validation_failed")
    assert set(body["errors"]) == {"time_zone"}


# -- body types and sizes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("text/plain", '{"email": "a@b.example", "name": "A"}'),
        ("application/xml", "<user><email>a@b.example</email></user>"),
        ("application/x-www-form-urlencoded", "email=a%40b.example&name=A"),
        ("", '{"email": "a@b.example", "name": "A"}'),
    ],
    ids=["text", "xml", "form", "none"],
)
def test_a_body_of_the_wrong_type_is_415(program, users_url, content_type, data):
    before = user_count()

    response = program.post(users_url, data=data, headers={"Content-Type": content_type})

    body = assert_problem(response, 415, "unsupported_media_type")
    assert "application/json" in body["detail"]
    assert user_count() == before


def test_form_data_on_a_json_endpoint_is_415(program, member):
    response = program.patch(f"/api/v1/members/{member.slug}", data={"name": "New"})

    assert_problem(response, 415, "unsupported_media_type")


def test_json_with_a_charset_parameter_is_accepted(program, users_url):
    response = program.post(
        users_url,
        data=json.dumps({"email": "a@b.example", "name": "A"}),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )

    assert response.status_code == 201, response.get_data(as_text=True)


@pytest.fixture()
def small_body_limit(app):
    old = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 200
    yield 200
    app.config["MAX_CONTENT_LENGTH"] = old


def test_a_body_over_the_limit_is_413(program, users_url, small_body_limit):
    before = user_count()
    payload = {"email": "a@b.example", "name": "A" * (small_body_limit + 1)}

    response = program.post(users_url, json=payload)

    assert_problem(response, 413, "payload_too_large")
    assert user_count() == before


def test_a_body_under_the_limit_passes(program, users_url, small_body_limit):
    response = program.post(users_url, json={"email": "a@b.example", "name": "A"})

    assert response.status_code == 201, response.get_data(as_text=True)


def test_a_token_request_over_the_limit_is_413(client, make_client, small_body_limit):
    oauth_client, secret = make_client()

    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": oauth_client.client_id,
            "client_secret": secret,
            "padding": "x" * small_body_limit,
        },
    )

    assert_problem(response, 413, "payload_too_large")


# -- routes and methods --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing-here", "/api/v2/members", "/api/v1/members/a/b/c", "/api/"]
)
def test_an_unknown_api_route_is_404_problem(client, path):
    response = client.get(path, headers={"Accept": "text/html"})

    assert_problem(response, 404, "not_found")


def test_an_unknown_route_is_404_for_an_authenticated_caller_too(program):
    assert_problem(program.get("/api/v1/cases/nowhere"), 404, "not_found")


def test_a_wrong_method_is_405_with_allow(program):
    response = program.delete("/api/v1/me")

    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]
    assert "DELETE" not in response.headers["Allow"]


def test_a_wrong_method_on_an_item_lists_its_methods(program, member):
    response = program.http.put(
        f"/api/v1/members/{member.slug}",
        json={"name": "x"},
        headers={"Authorization": f"Bearer {program.token}"},
    )

    assert_problem(response, 405, "method_not_allowed")
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert {"GET", "PATCH"} <= allowed
    assert "PUT" not in allowed


# -- query arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=1.5", "limit"),
        ("q=" + "x" * 201, "q"),
        ("cursor=!!!", "cursor"),
        ("cursor=" + encode_cursor({"a": 1}), "cursor"),
        ("cursor=" + encode_cursor(["a"]), "cursor"),
        ("cursor=" + encode_cursor(["a", "b"]), "cursor"),
        ("cursor=" + encode_cursor([1, 2]), "cursor"),
        ("cursor=" + encode_cursor(["a", True]), "cursor"),
        ("cursor=" + encode_cursor([None, None]), "cursor"),
        ("cursor=" + encode_cursor([["x"], {}]), "cursor"),
        ("cursor=" + encode_cursor(["a", 10**30]), "cursor"),
    ],
)
def test_invalid_query_arguments_are_422_naming_them(program, query, field):
    response = program.get("/api/v1/members?" + query)

    body = assert_problem(response, 422, "validation_failed")
    assert set(body["errors"]) == {field}


@pytest.mark.parametrize("limit", ["201", "100000000000000000000000"])
def test_a_page_size_above_the_maximum_is_cut_not_an_error(program, limit):
    response = program.get("/api/v1/members?limit=" + limit)

    assert response.status_code == 200, response.get_data(as_text=True)


def test_a_user_id_beyond_any_database_integer_is_404(program):
    response = program.get("/api/v1/users/99999999999999999999999")

    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize(
    "call",
    [
        lambda p, m: p.get("/api/v1/members?q=a%00b"),
        lambda p, m: p.get("/api/v1/members/a%00b"),
        lambda p, m: p.get("/api/v1/clients/a%00b"),
        lambda p, m: p.post(
            f"/api/v1/members/{m.slug}/users", json={"email": "n@x.example", "name": "a\u0000b"}
        ),
        lambda p, m: p.patch(f"/api/v1/members/{m.slug}", json={"email_domains": ["x\u0000.org"]}),
    ],
    ids=["query", "member-slug", "client-id", "json-field", "json-list-item"],
)
def test_a_nul_character_is_400_on_every_database(program, member, call):
    """PostgreSQL text cannot hold U+0000; without a check this is a 500 there and a
    stored NUL on SQLite."""
    before = user_count()

    body = assert_problem(call(program, member), 400, "malformed_request")

    assert "NUL" in body["detail"]
    assert user_count() == before


def test_a_nul_character_in_a_cursor_is_422(program):
    response = program.get("/api/v1/members", query_string={"cursor": encode_cursor(["a\x00", 1])})

    body = assert_problem(response, 422, "validation_failed")
    assert set(body["errors"]) == {"cursor"}


def test_a_nul_character_in_a_client_id_is_invalid_client(client):
    raw = base64.b64encode(b"cx_a\x00b:secret").decode()

    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {raw}"},
    )

    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"


# -- every error looks the same ------------------------------------------------------------------


def test_every_client_mistake_is_a_problem_never_a_500(client, program, member, users_url):
    """A sweep over the mistakes above plus a few more: all problem+json, all < 500."""
    auth = {"Authorization": f"Bearer {program.token}"}
    calls = [
        client.get("/api/v1/me"),
        client.get("/api/v1/me", headers={"Authorization": "Bearer"}),
        client.get("/api/v1/me", headers={"Authorization": "Bearer \u00e9"}),
        client.post(users_url, json={"email": "a@b.example", "name": "A"}),
        client.get("/api/v1/members/" + "x" * 300, headers=auth),
        client.get("/api/v1/members/%00", headers=auth),
        client.get("/api/v1/users/0", headers=auth),
        client.get("/api/v1/users/abc", headers=auth),
        client.get("/api/v1/clients/" + "c" * 500, headers=auth),
        client.patch("/api/v1/users/1", data=b"\x00\x01", headers=auth),
        client.post(users_url, data="[", headers={**auth, "Content-Type": "application/json"}),
        client.post(
            users_url,
            json={"email": "a@b.example", "name": "A", "roles": [None]},
            headers=auth,
        ),
        client.post(
            users_url,
            json={"email": "a@b.example", "name": "A", "password": "short"},
            headers=auth,
        ),
        client.post(
            f"/api/v1/members/{member.slug}/clients",
            json={"name": "x", "scopes": ["root"]},
            headers=auth,
        ),
        client.post(
            f"/api/v1/members/{member.slug}/clients",
            json={"name": " ", "scopes": ["cases:read"]},
            headers=auth,
        ),
        client.post(
            f"/api/v1/members/{member.slug}/clients",
            json={"name": "x", "scopes": []},
            headers=auth,
        ),
    ]
    for response in calls:
        assert 400 <= response.status_code < 500, response.get_data(as_text=True)
        assert response.mimetype == "application/problem+json"
        assert set(response.json) == PROBLEM_KEYS
        assert response.json["status"] == response.status_code
        assert response.headers["Exchange-Version"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/users/2147483648",
        "/api/v1/cases/2147483648",
        "/api/v1/processes/2147483648",
        "/api/v1/contacts/9223372036854775808",
        "/api/v1/webhooks/endpoints/2147483648",
        "/api/v1/webhooks/deliveries/9223372036854775808",
    ],
)
def test_ids_beyond_the_key_range_are_simply_not_found(api, member, path):
    caller = api(
        member, scopes=("directory:read", "cases:read", "webhooks:manage", "members:admin")
    )
    response = caller.get(path)
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.json["code"] == "not_found"
