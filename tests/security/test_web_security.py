"""Security headers on every kind of response, the session cookie rule, CSRF on every
HTML form (discovered from the url map) and the password policy at every entry point."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from exchange import create_app
from exchange.auth import passwords
from exchange.db import db
from exchange.web.security import CONTENT_SECURITY_POLICY
from tests.conftest import PASSWORD, csrf_token_from

HTML = {"Accept": "text/html"}


def assert_security_headers(response):
    csp = response.headers["Content-Security-Policy"]
    assert csp == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_every_kind_of_response_carries_the_security_headers(client, login, make_user, api):
    user = make_user(roles=("admin",))
    anonymous = [
        client.get("/login", headers=HTML),  # a page
        client.get("/static/exchange.js"),  # a static file
        client.get("/no-such-page", headers=HTML),  # an HTML error
        client.get("/api/v1/cases"),  # an API error (401)
        client.get("/api/v1/openapi.json"),  # API JSON
        client.post("/oauth/token", data={}),  # the token endpoint's error
        client.get("/healthz"),
    ]
    program = api(scopes=("directory:read",))
    signed_in = login(user)
    for response in [
        *anonymous,
        program.get("/api/v1/members"),
        signed_in.get("/", headers=HTML),
        signed_in.get("/admin", headers=HTML),
        signed_in.get("/api/docs", headers=HTML),
    ]:
        assert_security_headers(response)
        response.close()


def _cookie_headers(app_config, make_user, app):
    user = make_user()
    other = create_app({**{k: app.config[k] for k in ("SECRET_KEY", "DATABASE_URL")}, **app_config})
    http = other.test_client()
    page = http.get("/login", base_url="https://localhost")
    response = http.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
        base_url="https://localhost",  # so the test client returns a Secure cookie too
        headers={"Referer": "https://localhost/login"},  # Flask-WTF checks it over https
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    [cookie] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    return other, cookie


@pytest.mark.parametrize(
    ("config", "secure"),
    [
        ({}, False),  # `make run`: http://127.0.0.1:8000, development
        ({"BASE_URL": "http://localhost:9000"}, False),
        ({"BASE_URL": "https://exchange.example.com"}, True),
        ({"BASE_URL": "http://exchange.example.com"}, True),  # a deployment, even on http
        ({"BASE_URL": "https://exchange.example.com", "SESSION_COOKIE_SECURE": False}, False),
    ],
)
def test_session_cookies_are_httponly_lax_and_secure_outside_development(
    app, make_user, config, secure
):
    other, cookie = _cookie_headers({"TESTING": True, **config}, make_user, app)
    attributes = [a.strip().lower() for a in cookie.split(";")]
    assert "httponly" in attributes and "samesite=lax" in attributes
    assert ("secure" in attributes) is secure
    assert other.config["REMEMBER_COOKIE_SECURE"] is secure
    assert other.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert other.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"


# -- CSRF --------------------------------------------------------------------------------

# Programs authenticate with their client secret, not a cookie: no CSRF token there.
CSRF_EXEMPT = {"/oauth/token", "/oauth/revoke"}


def html_form_routes(app) -> list[str]:
    """Every POST route outside the API, with real-looking ids filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        if rule.rule in CSRF_EXEMPT:
            continue
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<int:{name}>", "1").replace(f"<{name}>", "acme")
            url = url.replace(f"<path:{name}>", "x")
        found.append(url)
    return sorted(found)


def row_counts() -> dict:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def test_every_html_form_refuses_a_post_without_its_csrf_token(app, client, login, make_user):
    assert app.config.get("WTF_CSRF_ENABLED", True), "the suite runs with CSRF on"
    admin = make_user(roles=("admin", "engineer"))
    routes = html_form_routes(app)
    assert len(routes) >= 30, routes
    for signed_in in (False, True):
        if signed_in:
            login(admin)
        before = row_counts()
        for url in routes:
            response = client.post(url, data={"name": "x", "email": "x@y.example"}, headers=HTML)
            text = response.get_data(as_text=True)
            assert response.status_code == 400, (url, response.status_code, text[:300])
            assert response.mimetype == "text/html", url
            assert "CSRF" in text, url
            assert_security_headers(response)
        assert row_counts() == before


def test_the_csrf_check_accepts_the_pages_own_token(client, login, make_user):
    """The other side of the test above: the same kind of POST with the token works."""
    user = make_user()
    login(user)
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302


# -- password policy -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short one", "Use at least 12 characters."),
        ("password1234", "too common"),
        ("Password-1234", "too common"),
        ("aaaaaaaaaaaaaaaa", "too common"),
        ("ada.lovelace@example.com", "e-mail address or name"),
        ("my name is lovelace!", "e-mail address or name"),
    ],
)
def test_the_policy_refuses(app, password, message):
    with app.test_request_context():
        found = passwords.problems(password, email="ada.lovelace@example.com", name="Ada Lovelace")
    assert any(message in text for text in found), found


@pytest.mark.parametrize("password", [PASSWORD, "exchange-demo", "a long enough password"])
def test_the_policy_accepts_the_passwords_the_project_uses(app, password):
    with app.test_request_context():
        assert passwords.problems(password, email="user1@member1.example", name="User 1") == []


def test_the_api_refuses_a_weak_password_with_a_field_error(api, make_member):
    member = make_member()
    admin = api(member, scopes=("members:admin", "directory:read"))
    response = admin.post(
        f"/api/v1/members/{member.slug}/users",
        json={
            "email": f"new@{member.slug}.example",
            "name": "New Person",
            "password": "password1234",
        },
    )
    assert response.status_code == 422
    assert response.json["code"] == "validation_failed"
    assert "too common" in " ".join(response.json["errors"]["password"])
    assert admin.get(f"/api/v1/members/{member.slug}/users").json == []


def test_the_cli_refuses_a_password_made_of_the_name(app, make_member):
    from exchange.members import service

    member = make_member()
    result = app.test_cli_runner().invoke(
        args=[
            "create-user",
            "--member",
            member.slug,
            "--email",
            f"grace@{member.slug}.example",
            "--name",
            "Grace Hopper",
            "--password",
            "grace hopper 1906",
        ]
    )
    assert result.exit_code != 0 and "e-mail address or name" in result.output
    assert service.find_user_by_email(email=f"grace@{member.slug}.example") is None


def test_the_admin_page_shows_the_policy_at_the_password_field(client, login, make_user):
    admin = make_user(roles=("admin",))
    login(admin)
    page = client.get("/admin/users")
    response = client.post(
        "/admin/users",
        data={
            "email": f"weak@{admin.member.slug}.example",
            "name": "Weak Password",
            "time_zone": "UTC",
            "roles": ["engineer"],
            "password": "qwerty123456",
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 422
    assert "too common" in response.get_data(as_text=True)
