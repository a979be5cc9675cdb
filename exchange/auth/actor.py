"""Who is acting: a signed-in person or a program, always on behalf of one member.

Every API endpoint and page resolves the caller to an ``Actor`` and hands it to the
service functions, which decide what that actor may do. A person holds the scopes of
their roles; a program holds the scopes of its token.
"""

from __future__ import annotations

import functools
from copy import deepcopy
from dataclasses import dataclass

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import MissingAuthorizationError
from flask import current_app, request
from flask_login import current_user

from exchange.auth.models import OAuthClient, OAuthToken
from exchange.auth.oauth import REALM, resource_protector
from exchange.auth.scopes import scopes_for_roles
from exchange.errors import Forbidden, Problem
from exchange.extensions import csrf
from exchange.members.models import Member, User

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ACTOR_KEY = "exchange.actor"


@dataclass(frozen=True)
class Actor:
    member: Member
    scopes: frozenset[str]
    user: User | None = None
    client: OAuthClient | None = None

    @property
    def origin(self) -> str:
        """Where a change came from: ``web`` for a person, ``client:<id>`` for a program."""
        return f"client:{self.client.client_id}" if self.client else "web"

    @property
    def label(self) -> str:
        return self.user.email if self.user else f"{self.client.name} (program)"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Problem(
                f"This action needs the scope {scope!r}.",
                code="insufficient_scope",
                headers={
                    "WWW-Authenticate": f'Bearer realm="{REALM}", '
                    f'error="insufficient_scope", scope="{scope}"'
                },
            )

    def to_dict(self) -> dict:
        return {
            "member": self.member.slug,
            "scopes": sorted(self.scopes),
            "user": self.user,
            "client": self.client,
        }


def actor_for_user(user: User) -> Actor:
    return Actor(member=user.member, user=user, scopes=scopes_for_roles(user.roles))


def _unauthorized(detail: str, error: str | None = None) -> Problem:
    challenge = f'Bearer realm="{REALM}"'
    if error:
        challenge += f', error="{error}"'
    return Problem(
        detail,
        code="invalid_token" if error else "unauthorized",
        headers={"WWW-Authenticate": challenge},
    )


def _actor_from_token() -> Actor:
    try:
        token: OAuthToken = resource_protector.acquire_token()
    except MissingAuthorizationError as exc:
        raise _unauthorized("Send a bearer token or sign in.") from exc
    except OAuth2Error as exc:
        raise _unauthorized(
            "The access token is missing, expired, revoked or malformed; fetch a new one "
            "from /oauth/token.",
            "invalid_token",
        ) from exc
    client = token.client
    if not client.member.is_active:
        raise Forbidden(f"Member {client.member.slug!r} is suspended.", code="member_suspended")
    return Actor(member=client.member, client=client, scopes=frozenset(token.scopes))


def current_actor() -> Actor:
    """The caller of this request; raises 401 when there is none."""
    # Cached on the request, not on ``g``: ``g`` lives as long as the app context, which
    # can outlast a request (the test suite keeps one per test), and a later request must
    # never inherit an earlier caller, nor skip the token and CSRF checks.
    cached = request.environ.get(_ACTOR_KEY)
    if cached is not None:
        return cached
    if request.headers.get("Authorization"):
        actor = _actor_from_token()
    elif current_user.is_authenticated:
        # A browser calling the API with its session cookie must prove the request came
        # from our pages: the CSRF token travels in the X-CSRFToken header.
        if request.method in UNSAFE_METHODS:
            csrf.protect()
        actor = actor_for_user(current_user._get_current_object())
    else:
        raise _unauthorized("Send a bearer token or sign in.")
    request.environ[_ACTOR_KEY] = actor
    return actor


def requires(scope: str | None):
    """Decorator for API endpoints: resolve the actor, check ``scope``, document it."""

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            actor = current_actor()
            if scope:
                actor.require(scope)
            return func(*args, **kwargs)

        # Read by authenticate_api_request, through the argument and response decorators
        # (functools.wraps copies it outward).
        wrapper._exchange_requires = (scope,)
        apidoc = deepcopy(getattr(func, "_apidoc", {}))
        manual = apidoc.setdefault("manual_doc", {})
        manual["security"] = [{"oauth2": [scope] if scope else []}, {"session": []}]
        wrapper._apidoc = apidoc
        return wrapper

    return decorator


def authenticate_api_request() -> None:
    """Before the request body is parsed: 401 without a valid token or session, 403
    without the endpoint's scope. So a caller who may not call an endpoint learns that
    first, never which fields it wants (422) or whether a resource exists (404)."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        method = request.method.lower()
        view = getattr(view_class, method, None) or (
            getattr(view_class, "get", None) if method == "head" else None
        )
    marker = getattr(view, "_exchange_requires", None)
    if marker is None:
        return
    actor = current_actor()
    if marker[0]:
        actor.require(marker[0])


@dataclass(frozen=True)
class SystemActor:
    """The exchange itself, for what its clocks do (overdue notices, automatic
    escalation); such events have side ``system`` and origin ``system``."""

    member: None = None
    user: None = None
    client: None = None
    scopes: frozenset[str] = frozenset()
    origin: str = "system"
    label: str = "exchange"


SYSTEM = SystemActor()
