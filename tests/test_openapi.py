"""The OpenAPI document lists the error answers each operation really gives, each as
application/problem+json (tests/fuzz holds the app to them)."""

from __future__ import annotations

import pytest

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture()
def spec(client):
    return client.get("/api/v1/openapi.json").json


def operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def resolved(spec, response: dict) -> dict:
    if "$ref" in response:
        return spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response


def test_every_error_response_is_problem_json_and_there_is_no_catch_all(spec):
    for path, method, operation in operations(spec):
        assert "default" not in operation["responses"], (method, path)
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                content = resolved(spec, response)["content"]
                assert list(content) == ["application/problem+json"], (method, path, status)
                schema = content["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}


def test_each_operation_lists_what_its_kind_can_answer(spec):
    for path, method, operation in operations(spec):
        statuses = set(operation["responses"])
        where = (method, path)
        assert {"400", "401", "403"} <= statuses, where
        assert ("404" in statuses) == ("{" in path or (method, path) == ("post", "/api/v1/cases"))
        if method != "get":
            assert "409" in statuses, where
        if method in ("post", "put", "patch"):
            assert {"413", "415"} <= statuses, where
        if "requestBody" in operation:
            assert "422" in statuses, where
        assert "429" not in statuses, where  # no rate limit applies to /api/v1


def test_if_match_is_documented_with_its_412_on_every_case_change(spec):
    changes = [
        (path, method, op)
        for path, method, op in operations(spec)
        if path.startswith("/api/v1/cases/{case_id}") and method != "get"
    ]
    assert len(changes) >= 14
    for path, method, operation in changes:
        names = [(p["in"], p["name"]) for p in operation.get("parameters", [])]
        assert ("header", "If-Match") in names, (method, path)
        assert "412" in operation["responses"], (method, path)
    reads = [op for path, method, op in operations(spec) if method == "get"]
    assert all("412" not in op["responses"] for op in reads)


def test_the_problem_schema_names_every_member_a_problem_can_have(spec):
    """An invalid_transition answer carries allowed_actions; the schema says so."""
    properties = spec["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "code", "errors", "allowed_actions"} <= set(
        properties
    )
    assert properties["allowed_actions"] == {
        "type": "array",
        "items": {"type": "string"},
        "description": properties["allowed_actions"]["description"],
    }
