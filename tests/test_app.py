"""Cross-cutting behaviour: the version signature, health probes, OpenAPI, the error
catalogue and its documentation."""

import logging
import re
from pathlib import Path

import pytest

from exchange import create_app
from exchange.errors import CATALOGUE
from exchange.logs import LOG_FORMAT
from exchange.version import SIGNATURE

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "path",
    [
        "/healthz",
        "/readyz",
        "/login",
        "/api/v1/openapi.json",
        "/api/v1/me",
        "/nowhere",
        "/static/exchange.css",
    ],
)
def test_every_response_carries_the_dated_version(client, path):
    response = client.get(path)
    response.close()
    assert response.headers["Exchange-Version"] == SIGNATURE
    assert re.fullmatch(r"\d+\.\d+\.\d+ \(\d{4}-\d{2}-\d{2}\)", SIGNATURE)


def test_log_lines_carry_the_version():
    record = logging.LogRecord("exchange.test", logging.INFO, __file__, 1, "hello", None, None)
    assert SIGNATURE in logging.Formatter(LOG_FORMAT).format(record)
    handlers = logging.getLogger("exchange").handlers
    assert any(SIGNATURE in (h.formatter._fmt or "") for h in handlers)


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ready"}


def test_openapi_document_describes_the_api(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/me" in spec["paths"] and "/api/v1/members" in spec["paths"]
    flows = spec["components"]["securitySchemes"]["oauth2"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == "/oauth/token"
    assert "cases:write" in flows["clientCredentials"]["scopes"]
    security = spec["paths"]["/api/v1/members"]["get"]["security"]
    assert {"oauth2": ["directory:read"]} in security


def test_api_docs_page_is_served_from_local_files(client):
    page = client.get("/api/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "/api/v1/members" in html and "directory:read" in html
    # No third-party script, style or font: users run the exchange offline too.
    for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not ref.startswith(("http://", "https://", "//")), ref


def test_request_body_limit_answers_413(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 100
    try:
        response = client.post("/login", data={"email": "x" * 500})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413


def test_every_error_code_is_documented():
    doc = (ROOT / "docs" / "errors.md").read_text()
    missing = [code for code in CATALOGUE if f"`{code}`" not in doc]
    assert missing == []


def test_unexpected_errors_are_problem_json_without_internals(app):
    other = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}
    )

    @other.get("/api/v1/_test_boom")
    def boom():
        raise KeyError("secret internals")

    response = other.test_client().get("/api/v1/_test_boom")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "internal_error"
    assert "secret" not in response.get_data(as_text=True)
