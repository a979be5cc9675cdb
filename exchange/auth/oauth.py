"""The OAuth2 authorization server (client credentials, RFC 6749 §4.4; revocation,
RFC 7009) and the bearer-token check used by the API (RFC 6750)."""

from __future__ import annotations

import os
from datetime import timedelta

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from exchange import clock
from exchange.auth.models import OAuthClient, OAuthToken, digest
from exchange.auth.scopes import SCOPES, parse_scopes
from exchange.db import db

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
REALM = "exchange"


def query_client(client_id: str) -> OAuthClient | None:
    if not client_id or "\x00" in client_id:  # PostgreSQL text cannot even be compared to it
        return None
    client = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    # A revoked client, or one whose member is suspended, cannot authenticate at all.
    if client is None or client.is_revoked or not client.member.is_active:
        return None
    return client


def save_token(token: dict, request) -> None:
    now = clock.now()
    db.session.add(
        OAuthToken(
            client_pk=request.client.id,
            token_hash=digest(token["access_token"]),
            scope=token.get("scope", ""),
            issued_at=now,
            expires_at=now + timedelta(seconds=int(token["expires_in"])),
        )
    )
    request.client.last_used_at = now


class ClientCredentials(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def validate_requested_scope(self):
        """Refuse a scope the client was not granted, rather than silently dropping it."""
        super().validate_requested_scope()
        missing = set(parse_scopes(self.request.payload.scope)) - set(self.request.client.scopes)
        if missing:
            raise InvalidScopeError("The client was not granted: " + " ".join(sorted(missing)))


class Revocation(RevocationEndpoint):
    """RFC 7009 as written, where authlib is stricter: a ``token_type_hint`` never stops
    the search (§2.1; the exchange has only access tokens, so any hint is ignored), and
    another client's token is answered like an unknown one, 200 and left valid (§2.2),
    which also tells the caller nothing about it."""

    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS
    SUPPORTED_TOKEN_TYPES = ("access_token",)

    def authenticate_token(self, request, client):
        if "token" not in request.form:
            raise InvalidRequestError()
        token = self.query_token(request.form["token"], None)
        if token is None or not token.check_client(client):
            return None
        return token

    def query_token(self, token_string, token_type_hint):
        return db.session.scalar(
            select(OAuthToken).where(OAuthToken.token_hash == digest(token_string))
        )

    def revoke_token(self, token, request):
        if token.revoked_at is None:
            token.revoked_at = clock.now()


# The client and its member come in the same query: every API request reads both
# (revocation, suspension, the actor), and three round trips were a third of a case
# read. Built once: SQLAlchemy then reuses its cache key instead of deriving it from a
# new statement on every request (a tenth of a case read's time).
_TOKEN_BY_HASH = (
    select(OAuthToken)
    .where(OAuthToken.token_hash == bindparam("token_hash"))
    .options(joinedload(OAuthToken.client).joinedload(OAuthClient.member))
)


class BearerValidator(BearerTokenValidator):
    def authenticate_token(self, token_string):
        return db.session.scalar(_TOKEN_BY_HASH, {"token_hash": digest(token_string)})


authorization_server = AuthorizationServer(query_client=query_client, save_token=save_token)
resource_protector = ResourceProtector()
resource_protector.register_token_validator(BearerValidator(realm=REALM))


def init_oauth(app) -> None:
    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", list(SCOPES))
    # authlib refuses plain http except on loopback (an OAuth2 request over it raises
    # InsecureTransportError). The test client talks http to a non-loopback host name,
    # so tests (or EXCHANGE_OAUTH2_INSECURE_TRANSPORT=true) switch that check off with
    # authlib's documented variable.
    app.config.setdefault("OAUTH2_INSECURE_TRANSPORT", app.testing)
    if app.config["OAUTH2_INSECURE_TRANSPORT"]:
        os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    authorization_server.init_app(app)
    if not getattr(authorization_server, "_exchange_registered", False):
        authorization_server.register_grant(ClientCredentials)
        authorization_server.register_endpoint(Revocation)
        authorization_server._exchange_registered = True
