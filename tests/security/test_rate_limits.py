"""Rate limits (flask-limiter) on sign-in and the token endpoints, in an app of their own
with the limits switched on and set low (the rest of the suite runs without them)."""

from __future__ import annotations

import pytest

from exchange import create_app
from tests.conftest import PASSWORD, basic_auth, csrf_token_from

LIMITS = {
    "RATELIMIT_ENABLED": True,
    "LOGIN_RATE_LIMIT_PER_ACCOUNT": "3 per hour",
    "LOGIN_RATE_LIMIT_PER_IP": "5 per hour",
    "TOKEN_RATE_LIMIT_PER_IP": "4 per hour",
}


@pytest.fixture()
def limited(app):
    """The suite's database (inside this test's transaction), limits on, fresh counters."""
    config = {k: app.config[k] for k in ("SECRET_KEY", "DATABASE_URL", "PASSWORD_HASH_METHOD")}
    return create_app({"TESTING": True, **config, **LIMITS})


def sign_in(http, email, password, address="10.1.1.1"):
    env = {"REMOTE_ADDR": address}
    page = http.get("/login", environ_base=env)
    return http.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
        headers={"Accept": "text/html"},
        environ_base=env,
    )


def test_failed_sign_ins_per_account_end_in_a_readable_429_page(limited, make_user):
    user = make_user()
    http = limited.test_client()
    for _ in range(3):
        assert sign_in(http, user.email, "wrong password!").status_code == 422
    blocked = sign_in(http, user.email, PASSWORD)  # even the right password waits now
    text = blocked.get_data(as_text=True)
    assert blocked.status_code == 429
    assert blocked.mimetype == "text/html"
    assert "Too many attempts" in text and "<html" in text
    assert int(blocked.headers["Retry-After"]) > 0
    # Another account from another address is not affected.
    other = make_user()
    assert sign_in(http, other.email, PASSWORD, address="10.1.1.2").status_code == 302


def test_failed_sign_ins_per_address_are_limited_across_accounts(limited, make_user):
    http = limited.test_client()
    for n in range(5):
        assert sign_in(http, f"nobody{n}@x.example", "wrong password!").status_code == 422
    assert sign_in(http, "nobody9@x.example", "wrong password!").status_code == 429
    assert sign_in(http, "nobody9@x.example", "wrong password!", "10.9.9.9").status_code == 422


def test_successful_sign_ins_do_not_count(limited, make_user):
    user = make_user()
    for _ in range(8):
        assert sign_in(limited.test_client(), user.email, PASSWORD).status_code == 302


def test_the_token_endpoint_answers_429_problem_json(limited, make_client):
    oauth_client, secret = make_client()
    http = limited.test_client()
    headers = basic_auth(oauth_client.client_id, secret)
    for _ in range(4):
        response = http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, headers=headers
        )
        assert response.status_code == 200, response.get_data(as_text=True)
    response = http.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=headers)
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "rate_limited" and response.json["status"] == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Content-Security-Policy"]
    revoke = http.post("/oauth/revoke", data={"token": "x"}, headers=headers)
    assert revoke.status_code == 200  # its own counter
    other = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=headers,
        environ_base={"REMOTE_ADDR": "10.3.3.3"},
    )
    assert other.status_code == 200


def test_limits_and_storage_are_settings(limited):
    limiter = limited.extensions["exchange_limiter"]
    assert limiter.enabled
    assert type(limiter._storage).__name__ == "MemoryStorage"
    off = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": limited.config["DATABASE_URL"],
            "RATELIMIT_ENABLED": False,
        }
    )
    assert not off.extensions["exchange_limiter"].enabled
