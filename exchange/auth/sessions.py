"""Sessions of people, ended on the server.

The session cookie is signed, not stored: a copy of it (a stolen cookie, a shared
computer) would work for as long as it is valid, whatever the browser does at sign-out.
So each person has a session generation (``User.session_generation``): the session keeps
the one of its sign-in (``User.get_id`` is ``<user id>.<generation>``) and every request
checks it. Sign-out, a new password and deactivation move it on (``User.end_sessions``),
which ends every session of that person made before.
"""

from __future__ import annotations

from flask import session
from flask_login import login_user

from exchange.db import db
from exchange.members.models import User


def start_session(user: User) -> None:
    """Sign ``user`` in on a new session: nothing of the session before sign-in is kept,
    so a session someone planted in this browser does not become a signed-in one."""
    session.clear()
    login_user(user)


def user_of_session(session_id: str) -> User | None:
    """The person a session names, while the session is still theirs and they may act;
    a deactivated user, or one of a suspended member, is signed out at the next request."""
    user_id, _, generation = session_id.partition(".")
    if not (user_id.isdigit() and generation.isdigit()):
        return None  # a session from before generations, or garbage: sign in again
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_generation != int(generation):
        return None
    return user
