"""Programs: OAuth2 clients (client credentials) and the bearer tokens issued to them.

Client secrets and access tokens are high-entropy random strings, so they are stored
as SHA-256 digests (a slow password hash would only slow every token request).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exchange import clock
from exchange.auth.scopes import parse_scopes
from exchange.db import db
from exchange.members.models import Member, User


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class OAuthClient(ClientMixin, db.Model):
    """A program (a partner tracker connector) acting as one member."""

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    member: Mapped[Member] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def scopes(self) -> list[str]:
        return parse_scopes(self.scope)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    # -- authlib ClientMixin --------------------------------------------------------
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        # No scope asked for: the token gets every scope the client holds.
        if not scope:
            return self.scope
        allowed = set(self.scopes)
        return " ".join(s for s in parse_scopes(scope) if s in allowed)

    def check_redirect_uri(self, redirect_uri) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(self.secret_hash, digest(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class OAuthToken(TokenMixin, db.Model):
    """A bearer access token; revocable (RFC 7009) and expiring."""

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(500))
    issued_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]

    client: Mapped[OAuthClient] = relationship()

    @property
    def scopes(self) -> list[str]:
        return parse_scopes(self.scope)

    # -- authlib TokenMixin ---------------------------------------------------------
    def check_client(self, client) -> bool:
        return client is not None and client.id == self.client_pk

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int((self.expires_at - self.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return self.expires_at <= clock.now()

    def is_revoked(self) -> bool:
        return self.revoked_at is not None or self.client.is_revoked

    def get_user(self):
        return None

    def get_client(self) -> OAuthClient:
        return self.client
