"""Who may call the REST API: programs with bearer tokens (RFC 6750) and signed-in people
with their session cookie plus a CSRF token on writes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from exchange import clock
from exchange.auth.models import OAuthToken, digest
from exchange.db import db, transaction
from exchange.members.service import set_member_status
from tests.conftest import PASSWORD, basic_auth, csrf_token_from

ME = "/api/v1/me"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["code"] == code
    assert body["status"] == status
    assert set(body) >= {"type", "title", "status", "detail", "code", "errors"}
    assert response.headers["Exchange-Version"]
    return body


def stored_token(access_token: str) -> OAuthToken:
    return db.session.scalar(
        select(OAuthToken).where(OAuthToken.token_hash == digest(access_token))
    )


def page_csrf_token(http) -> str:
    """The CSRF token a page of ours carries in its meta tag."""
    page = http.get("/")
    assert page.status_code == 200
    return csrf_token_from(page.get_data(as_text=True))


# -- bearer tokens -----------------------------------------------------------------------


def test_me_with_a_valid_token(client, make_member, make_client, fetch_token):
    member = make_member()
    oauth_client, secret = make_client(member=member, scopes=("directory:read", "cases:read"))
    token = fetch_token(oauth_client, secret)

    response = client.get(ME, headers=bearer(token))

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["member"]["slug"] == member.slug
    assert response.json["client"] == {"client_id": oauth_client.client_id, "name": "tracker"}
    assert response.json["scopes"] == ["cases:read", "directory:read"]
    assert response.json["user"] is None


def test_no_token_is_unauthorized(client):
    response = client.get(ME)

    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error=" not in response.headers["WWW-Authenticate"]


def test_a_later_request_does_not_inherit_an_earlier_caller(client, make_client, fetch_token):
    """The caller is resolved per request: one authenticated call must not make the next
    call (in the same application context) authenticated too."""
    oauth_client, secret = make_client()
    token = fetch_token(oauth_client, secret)
    assert client.get(ME, headers=bearer(token)).status_code == 200

    assert_problem(client.get(ME), 401, "unauthorized")
    assert_problem(client.get(ME, headers=bearer("garbage")), 401, "invalid_token")


def test_a_garbage_token_is_invalid_token(client):
    response = client.get(ME, headers=bearer("not-a-token-we-issued"))

    assert_problem(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_another_authorization_scheme_is_invalid_token(client, make_client):
    oauth_client, secret = make_client()

    response = client.get(ME, headers=basic_auth(oauth_client.client_id, secret))

    assert_problem(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_an_expired_token_is_invalid_token(client, make_client, fetch_token):
    oauth_client, secret = make_client()
    token = fetch_token(oauth_client, secret)
    row = stored_token(token)
    row.expires_at = clock.now() - timedelta(seconds=1)
    db.session.flush()

    response = client.get(ME, headers=bearer(token))

    assert_problem(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_token_revoked_through_rfc7009_is_invalid_token(client, make_client, fetch_token):
    oauth_client, secret = make_client()
    token = fetch_token(oauth_client, secret)
    assert client.get(ME, headers=bearer(token)).status_code == 200

    revoked = client.post(
        "/oauth/revoke", data={"token": token}, headers=basic_auth(oauth_client.client_id, secret)
    )
    assert revoked.status_code == 200

    response = client.get(ME, headers=bearer(token))
    assert_problem(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    # A fresh token still works: only the revoked one is dead.
    assert client.get(ME, headers=bearer(fetch_token(oauth_client, secret))).status_code == 200


def test_a_token_without_the_scope_is_insufficient_scope(client, make_member, api):
    member = make_member()
    program = api(member, scopes=("directory:read",))

    response = program.post(
        f"/api/v1/members/{member.slug}/users", json={"email": "new@x.example", "name": "New"}
    )

    assert_problem(response, 403, "insufficient_scope")
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert 'scope="members:admin"' in response.headers["WWW-Authenticate"]


def test_a_token_narrower_than_its_client_has_only_the_tokens_scope(
    client, make_member, make_client, fetch_token
):
    member = make_member()
    oauth_client, secret = make_client(member=member, scopes=("directory:read", "members:admin"))
    token = fetch_token(oauth_client, secret, scope="directory:read")

    response = client.get(f"/api/v1/members/{member.slug}/clients", headers=bearer(token))

    assert_problem(response, 403, "insufficient_scope")


def test_a_suspended_members_existing_token_is_refused(
    client, make_member, make_client, fetch_token
):
    member = make_member()
    oauth_client, secret = make_client(member=member)
    token = fetch_token(oauth_client, secret)
    assert client.get(ME, headers=bearer(token)).status_code == 200

    with transaction():
        set_member_status(member=member, status="suspended")

    assert_problem(client.get(ME, headers=bearer(token)), 403, "member_suspended")
    assert_problem(client.get("/api/v1/members", headers=bearer(token)), 403, "member_suspended")


def test_revoking_a_client_through_the_api_kills_its_tokens(
    client, make_member, make_client, fetch_token, api
):
    member = make_member()
    tracker, secret = make_client(member=member, scopes=("directory:read",))
    first, second = fetch_token(tracker, secret), fetch_token(tracker, secret)
    admin = api(member, scopes=("members:admin",))

    response = admin.delete(f"/api/v1/clients/{tracker.client_id}")

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["client_id"] == tracker.client_id
    assert response.json["revoked_at"] is not None
    for token in (first, second):
        assert_problem(client.get(ME, headers=bearer(token)), 401, "invalid_token")
        assert stored_token(token).revoked_at is not None
    # The admin program's own token is untouched.
    assert admin.get(ME).status_code == 200
    # And the revoked client cannot come back with a new token.
    again = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic_auth(tracker.client_id, secret),
    )
    assert again.status_code == 401
    assert again.json["error"] == "invalid_client"


# -- sessions -----------------------------------------------------------------------------


def test_a_signed_in_engineer_calls_the_api_with_the_session(client, make_user, login):
    engineer = make_user(roles=("engineer",))
    login(engineer)

    response = client.get(ME)

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    assert body["member"]["slug"] == engineer.member.slug
    assert body["client"] is None
    assert body["user"]["id"] == engineer.id
    assert body["user"]["email"] == engineer.email
    assert body["user"]["roles"] == ["engineer"]
    assert body["scopes"] == ["cases:read", "cases:write", "directory:read"]
    assert "members:admin" not in body["scopes"]


def test_a_signed_in_admin_holds_members_admin(client, make_user, login):
    admin = make_user(roles=("admin",))
    login(admin)

    response = client.get(ME)

    assert response.status_code == 200
    assert "members:admin" in response.json["scopes"]
    assert response.json["user"]["roles"] == ["admin"]


def test_a_session_patch_without_csrf_token_is_refused(client, make_user, login):
    engineer = make_user(roles=("engineer",), name="Before")
    login(engineer)

    response = client.patch(f"/api/v1/users/{engineer.id}", json={"name": "After"})

    assert_problem(response, 400, "csrf_failed")
    db.session.refresh(engineer)
    assert engineer.name == "Before"


def test_a_session_patch_with_a_wrong_csrf_token_is_refused(client, make_user, login):
    engineer = make_user(roles=("engineer",), name="Before")
    login(engineer)

    response = client.patch(
        f"/api/v1/users/{engineer.id}", json={"name": "After"}, headers={"X-CSRFToken": "forged"}
    )

    assert_problem(response, 400, "csrf_failed")


def test_a_session_patch_with_the_pages_csrf_token_succeeds(client, make_user, login):
    engineer = make_user(roles=("engineer",), name="Before")
    login(engineer)
    token = page_csrf_token(client)

    response = client.patch(
        f"/api/v1/users/{engineer.id}", json={"name": "After"}, headers={"X-CSRFToken": token}
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["name"] == "After"


def test_a_session_read_does_not_let_a_later_write_skip_csrf(client, make_user, login):
    engineer = make_user(roles=("engineer",), name="Before")
    login(engineer)
    assert client.get(ME).status_code == 200

    response = client.patch(f"/api/v1/users/{engineer.id}", json={"name": "After"})

    assert_problem(response, 400, "csrf_failed")


def test_a_session_post_without_csrf_token_is_refused(client, make_user, login):
    admin = make_user(roles=("admin",))
    login(admin)
    url = f"/api/v1/members/{admin.member.slug}/users"
    payload = {"email": "new.person@example.org", "name": "New Person"}

    assert_problem(client.post(url, json=payload), 400, "csrf_failed")

    response = client.post(url, json=payload, headers={"X-CSRFToken": page_csrf_token(client)})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["email"] == "new.person@example.org"


def test_a_bearer_caller_needs_no_csrf_token(make_member, api):
    member = make_member()
    admin = api(member, scopes=("members:admin",))

    response = admin.post(
        f"/api/v1/members/{member.slug}/users", json={"email": "p@x.example", "name": "P"}
    )

    assert response.status_code == 201, response.get_data(as_text=True)


def test_a_deactivated_users_session_no_longer_reaches_the_api(client, make_user, login):
    engineer = make_user(roles=("engineer",))
    login(engineer)
    assert client.get(ME).status_code == 200

    with transaction():
        engineer.active = False

    assert_problem(client.get(ME), 401, "unauthorized")


def test_a_suspended_members_users_cannot_sign_in(client, make_user):
    engineer = make_user(roles=("engineer",))
    with transaction():
        set_member_status(member=engineer.member, status="suspended")

    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "email": engineer.email,
            "password": PASSWORD,
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
    )

    assert response.status_code == 422
    assert_problem(client.get(ME), 401, "unauthorized")
