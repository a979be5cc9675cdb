"""Inviting people: a member admin adds someone without a password, and the exchange
mails them a signed, expiring link to choose one (it works once: choosing a password
changes what the link was signed with)."""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from exchange.auth.signals import invitation_resent
from exchange.errors import BadRequest, Conflict
from exchange.members import service as members
from exchange.members.models import User
from exchange.notifications import service as notifications

SALT = "set-password"
MAX_AGE = 7 * 24 * 3600
# Where the link leads (the page in members/views.py that takes the token).
PATH = "/set-password/"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _password_state(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:20]


def link_for(user: User) -> str:
    token = _serializer().dumps({"email": user.email, "state": _password_state(user)})
    return current_app.config["BASE_URL"].rstrip("/") + PATH + token


def user_for_token(token: str) -> User:
    """The person a set-password token names, while it is valid; else 400."""
    refused = BadRequest(
        "This set-password link is not valid: it has expired, was used already, or is not "
        "one we made. Ask your member admin for a new one."
    )
    try:
        data = _serializer().loads(token, max_age=MAX_AGE)
    except BadSignature as exc:  # a bad signature or an expired one
        raise refused from exc
    user = members.find_user_by_email(email=data.get("email", ""))
    if user is None or not user.is_active or data.get("state") != _password_state(user):
        raise refused
    return user


def _mail(actor, user: User) -> str:
    link = link_for(user)
    notifications.queue(
        to=user.email,
        template="invitation",
        kind="invitation",
        member=actor.member,
        subject=f"{actor.member.name} invites you to the exchange",
        link=link,
        name=user.name,
        member_name=actor.member.name,
        inviter=actor.user.name if actor.user else actor.label,
        days=MAX_AGE // 86400,
    )
    return link


def invite(*, actor, email: str, name: str, roles, time_zone: str = "UTC") -> tuple[User, str]:
    """Add a person to the actor's member (its admins only) and mail them a link to
    choose a password; returns the person and the link (shown once to the admin)."""
    user = members.create_user(
        actor=actor,
        member=actor.member,
        email=email,
        name=name,
        roles=roles,
        time_zone=time_zone,
        invited=True,
    )
    return user, _mail(actor, user)


def resend(*, actor, user: User) -> str:
    """A new link for someone who has not chosen a password yet."""
    members.require_admin_of(actor, user.member)
    if user.password_hash:
        raise Conflict(f"{user.email} has chosen a password already.")
    invitation_resent.send(user, actor=actor)
    return _mail(actor, user)


def choose_password(*, token: str, password: str) -> User:
    user = user_for_token(token)
    members.set_password(user=user, password=password)
    return user
