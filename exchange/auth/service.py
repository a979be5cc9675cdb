"""People signing in, and programs (OAuth2 clients) a member registers.

A client secret is returned once, when the client is created; only its digest is kept.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from exchange import clock, text
from exchange.auth import passwords
from exchange.auth.models import OAuthClient, OAuthToken, digest
from exchange.auth.scopes import SCOPES, parse_scopes
from exchange.auth.signals import client_created, client_revoked
from exchange.db import db
from exchange.errors import NotFound, ValidationFailed
from exchange.members import service as members
from exchange.members.models import Member, User


def authenticate(*, email: str, password: str) -> User | None:
    """The user with these credentials, if they may sign in now; else None.

    The answer is the same for an unknown e-mail, a wrong password and a deactivated
    account, so the login form reveals nothing about who has an account.
    """
    user = members.find_user_by_email(email=email)
    # One hash check in every case, before anything else is decided: an unknown address
    # is checked against a dummy hash, so it takes as long as a known one.
    matches = passwords.verify(user.password_hash if user is not None else None, password)
    if user is None or not matches or not user.is_active:
        return None
    user.last_login_at = clock.now()
    return user


def _check_scopes(scopes) -> list[str]:
    scopes = parse_scopes(scopes)
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValidationFailed(errors={"scopes": [f"Unknown scope(s): {', '.join(unknown)}."]})
    if not scopes:
        raise ValidationFailed(errors={"scopes": ["Grant at least one scope."]})
    return scopes


def create_client(*, member: Member, name: str, scopes, actor=None) -> tuple[OAuthClient, str]:
    """Register a program for ``member``; returns the client and its one-time secret."""
    if actor is not None:
        members.require_admin_of(actor, member)
    if not name or not name.strip():
        raise ValidationFailed(errors={"name": ["Give the client a name."]})
    problem = text.line_problem(name) or text.visible_problem(name)
    if problem:
        raise ValidationFailed(errors={"name": [problem]})
    secret = secrets.token_urlsafe(32)
    client = OAuthClient(
        client_id="cx_" + secrets.token_urlsafe(18),
        secret_hash=digest(secret),
        member=member,
        name=name.strip(),
        scope=" ".join(_check_scopes(scopes)),
        created_by=actor.user if actor is not None else None,
    )
    db.session.add(client)
    db.session.flush()
    client_created.send(client, actor=actor)
    return client, secret


def list_clients(*, actor, member: Member) -> list[OAuthClient]:
    members.require_admin_of(actor, member)
    return list(
        db.session.scalars(
            select(OAuthClient).where(OAuthClient.member_id == member.id).order_by(OAuthClient.id)
        )
    )


def get_client(*, actor, client_id: str) -> OAuthClient:
    client = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if client is None or client.member_id != actor.member.id:
        raise NotFound(f"No client {client_id!r}.")
    return client


def revoke_client(*, actor, client: OAuthClient) -> OAuthClient:
    """Revoke a client and, with it, every token it holds."""
    members.require_admin_of(actor, client.member)
    now = clock.now()
    if client.revoked_at is None:
        client.revoked_at = now
        client_revoked.send(client, actor=actor)
    for token in db.session.scalars(
        select(OAuthToken).where(OAuthToken.client_pk == client.id, OAuthToken.revoked_at.is_(None))
    ):
        token.revoked_at = now
    db.session.flush()
    return client
