"""The OAuth2 authorization server: client credentials at /oauth/token (RFC 6749 §4.4)
and revocation at /oauth/revoke (RFC 7009).

Its errors are RFC 6749 §5.2 JSON (``{"error": ...}``), not problem+json: that is what
OAuth2 client libraries expect from a token endpoint.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from exchange.auth.actor import Actor
from exchange.auth.models import OAuthClient, OAuthToken
from exchange.auth.service import revoke_client
from exchange.db import db, transaction
from exchange.members.service import set_member_status
from tests.conftest import basic_auth

TOKEN_URL = "/oauth/token"
REVOKE_URL = "/oauth/revoke"


def request_token(http, oauth_client, secret, *, scope=None, **extra):
    data = {"grant_type": "client_credentials", **extra}
    if scope is not None:
        data["scope"] = scope
    return http.post(TOKEN_URL, data=data, headers=basic_auth(oauth_client.client_id, secret))


def assert_oauth_error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.json["error"] == error
    assert "access_token" not in response.json
    assert response.headers["Cache-Control"] == "no-store"
    return response.json


def tokens_of(oauth_client) -> list[OAuthToken]:
    return list(
        db.session.scalars(select(OAuthToken).where(OAuthToken.client_pk == oauth_client.id))
    )


def admin_program(member) -> Actor:
    return Actor(member=member, scopes=frozenset({"members:admin"}))


# -- issuing tokens --------------------------------------------------------------------


def test_client_secret_basic_issues_a_bearer_token(client, make_client):
    oauth_client, secret = make_client(scopes=("directory:read", "cases:read"))

    response = request_token(client, oauth_client, secret)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.json
    assert body["token_type"] == "Bearer"
    assert body["access_token"]
    assert body["expires_in"] == 3600
    # No scope asked for: the token carries every scope the client holds.
    assert set(body["scope"].split()) == {"directory:read", "cases:read"}
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Exchange-Version"]


def test_client_secret_post_issues_a_bearer_token(client, make_client):
    oauth_client, secret = make_client(scopes=("directory:read",))

    response = client.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": oauth_client.client_id,
            "client_secret": secret,
        },
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["token_type"] == "Bearer"
    assert response.json["scope"] == "directory:read"
    assert response.json["expires_in"] == 3600
    assert response.json["access_token"]


def test_each_request_gets_a_new_token(client, make_client):
    oauth_client, secret = make_client()

    first = request_token(client, oauth_client, secret).json["access_token"]
    second = request_token(client, oauth_client, secret).json["access_token"]

    assert first != second
    assert len(tokens_of(oauth_client)) == 2


def test_a_subset_scope_gives_only_that_scope(client, make_client):
    oauth_client, secret = make_client(scopes=("directory:read", "cases:read", "cases:write"))

    response = request_token(client, oauth_client, secret, scope="cases:read")

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["scope"] == "cases:read"
    (token,) = tokens_of(oauth_client)
    assert token.scopes == ["cases:read"]
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {response.json['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json["scopes"] == ["cases:read"]


def test_a_scope_the_client_lacks_is_invalid_scope(client, make_client):
    oauth_client, secret = make_client(scopes=("directory:read",))

    response = request_token(client, oauth_client, secret, scope="directory:read cases:write")

    body = assert_oauth_error(response, 400, "invalid_scope")
    # The message names what is missing, not what the client already holds.
    assert "cases:write" in body["error_description"]
    assert "directory:read" not in body["error_description"]
    assert tokens_of(oauth_client) == []


def test_a_scope_that_does_not_exist_is_invalid_scope(client, make_client):
    oauth_client, secret = make_client(scopes=("directory:read",))

    response = request_token(client, oauth_client, secret, scope="everything")

    assert_oauth_error(response, 400, "invalid_scope")
    assert tokens_of(oauth_client) == []


def test_a_wrong_secret_is_invalid_client(client, make_client):
    oauth_client, secret = make_client()

    response = request_token(client, oauth_client, secret + "x")

    assert_oauth_error(response, 401, "invalid_client")
    assert tokens_of(oauth_client) == []


def test_a_wrong_secret_by_client_secret_post_is_invalid_client(client, make_client):
    oauth_client, _secret = make_client()

    response = client.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": oauth_client.client_id,
            "client_secret": "not-the-secret",
        },
    )

    assert_oauth_error(response, 401, "invalid_client")


def test_an_unknown_client_is_invalid_client(client):
    response = client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials"},
        headers=basic_auth("cx_nobody", "whatever"),
    )

    assert_oauth_error(response, 401, "invalid_client")


def test_no_client_credentials_is_invalid_client(client):
    response = client.post(TOKEN_URL, data={"grant_type": "client_credentials"})

    assert_oauth_error(response, 401, "invalid_client")


def test_a_revoked_client_cannot_get_a_token(client, make_member, make_client):
    member = make_member()
    oauth_client, secret = make_client(member=member)
    assert request_token(client, oauth_client, secret).status_code == 200

    with transaction():
        revoke_client(actor=admin_program(member), client=oauth_client)

    assert_oauth_error(request_token(client, oauth_client, secret), 401, "invalid_client")


def test_a_client_of_a_suspended_member_cannot_get_a_token(client, make_member, make_client):
    member = make_member()
    oauth_client, secret = make_client(member=member)

    with transaction():
        set_member_status(member=member, status="suspended")
    assert_oauth_error(request_token(client, oauth_client, secret), 401, "invalid_client")

    with transaction():
        set_member_status(member=member, status="active")
    assert request_token(client, oauth_client, secret).status_code == 200


@pytest.mark.parametrize("grant_type", ["password", "authorization_code", "refresh_token", "x"])
def test_an_unsupported_grant_type_is_refused(client, make_client, grant_type):
    oauth_client, secret = make_client()

    response = client.post(
        TOKEN_URL,
        data={"grant_type": grant_type, "username": "u", "password": "p", "code": "c"},
        headers=basic_auth(oauth_client.client_id, secret),
    )

    assert_oauth_error(response, 400, "unsupported_grant_type")
    assert tokens_of(oauth_client) == []


def test_a_missing_grant_type_is_refused(client, make_client):
    oauth_client, secret = make_client()

    response = client.post(TOKEN_URL, data={}, headers=basic_auth(oauth_client.client_id, secret))

    assert_oauth_error(response, 400, "unsupported_grant_type")


def test_the_token_endpoint_only_takes_post(client):
    response = client.get(TOKEN_URL)

    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_plain_http_is_refused_without_a_500_and_https_works(client, make_client, monkeypatch):
    """Outside tests authlib insists on https (except on loopback); a client calling over
    plain http gets an RFC 6749 error, never an internal error."""
    oauth_client, secret = make_client()
    monkeypatch.delenv("AUTHLIB_INSECURE_TRANSPORT", raising=False)

    plain = request_token(client, oauth_client, secret)
    assert_oauth_error(plain, 400, "insecure_transport")

    secure = client.post(
        TOKEN_URL,
        base_url="https://exchange.test",
        data={"grant_type": "client_credentials"},
        headers=basic_auth(oauth_client.client_id, secret),
    )
    assert secure.status_code == 200, secure.get_data(as_text=True)


# -- what is stored --------------------------------------------------------------------


def test_the_client_secret_is_not_stored_in_clear(make_client):
    oauth_client, secret = make_client()

    db.session.expire_all()
    stored = db.session.scalar(
        select(OAuthClient).where(OAuthClient.client_id == oauth_client.client_id)
    )
    assert stored.secret_hash != secret
    assert secret not in stored.secret_hash
    assert stored.check_client_secret(secret)
    assert not stored.check_client_secret(secret[:-1])


def test_access_tokens_are_stored_hashed(client, make_client):
    oauth_client, secret = make_client()

    access_token = request_token(client, oauth_client, secret).json["access_token"]

    (token,) = tokens_of(oauth_client)
    assert token.token_hash != access_token
    assert access_token not in token.token_hash
    assert (
        db.session.scalar(select(OAuthToken).where(OAuthToken.token_hash == access_token)) is None
    )
    assert token.expires_at > token.issued_at
    assert token.revoked_at is None


def test_issuing_a_token_records_when_the_client_was_last_used(client, make_client):
    oauth_client, secret = make_client()
    assert oauth_client.last_used_at is None

    request_token(client, oauth_client, secret)

    db.session.refresh(oauth_client)
    assert oauth_client.last_used_at is not None


# -- revocation (RFC 7009) -------------------------------------------------------------


def test_a_client_revokes_its_own_token(client, make_client):
    oauth_client, secret = make_client()
    access_token = request_token(client, oauth_client, secret).json["access_token"]

    response = client.post(
        REVOKE_URL,
        data={"token": access_token, "token_type_hint": "access_token"},
        headers=basic_auth(oauth_client.client_id, secret),
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    (token,) = tokens_of(oauth_client)
    assert token.revoked_at is not None


@pytest.mark.parametrize("hint", ["refresh_token", "access_token", "something_else", ""])
def test_a_token_type_hint_never_stops_the_revocation(client, make_client, hint):
    """RFC 7009 §2.1: a hint the server cannot use only widens the search; the token is
    revoked whatever the hint said."""
    oauth_client, secret = make_client()
    access_token = request_token(client, oauth_client, secret).json["access_token"]

    response = client.post(
        REVOKE_URL,
        data={"token": access_token, "token_type_hint": hint},
        headers=basic_auth(oauth_client.client_id, secret),
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json == {}
    (token,) = tokens_of(oauth_client)
    assert token.revoked_at is not None
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {access_token}"})
    assert me.status_code == 401


def test_revoking_an_unknown_token_answers_200(client, make_client):
    """RFC 7009 §2.2: an invalid token is not an error for the revoking client."""
    oauth_client, secret = make_client()

    response = client.post(
        REVOKE_URL,
        data={"token": "no-such-token"},
        headers=basic_auth(oauth_client.client_id, secret),
    )

    assert response.status_code == 200


def test_revocation_needs_client_authentication(client, make_client):
    oauth_client, secret = make_client()
    access_token = request_token(client, oauth_client, secret).json["access_token"]

    response = client.post(REVOKE_URL, data={"token": access_token})

    assert_oauth_error(response, 401, "invalid_client")
    (token,) = tokens_of(oauth_client)
    assert token.revoked_at is None


def test_a_client_cannot_revoke_another_clients_token(client, make_client):
    """RFC 7009 §2.2: the answer is 200 as for any token it may not revoke (nor learn
    about), and the token stays valid."""
    owner, owner_secret = make_client()
    other, other_secret = make_client()
    access_token = request_token(client, owner, owner_secret).json["access_token"]

    response = client.post(
        REVOKE_URL, data={"token": access_token}, headers=basic_auth(other.client_id, other_secret)
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json == {}
    (token,) = tokens_of(owner)
    assert token.revoked_at is None
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {access_token}"})
    assert me.status_code == 200
