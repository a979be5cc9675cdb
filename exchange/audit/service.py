"""Writing and reading the audit log.

``record`` is called by this package's receivers, inside the transaction of the change
it records: the entry exists exactly when the change was committed. ``list_entries``
is for the member's admins only (scope ``members:admin`` and, for a person, the admin
role); nobody sees another member's entries.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select

from exchange.audit.models import ActorKind, AuditEntry
from exchange.db import db, get_by_id
from exchange.errors import NotFound
from exchange.members import service as members
from exchange.pagination import Page, paginate

# Never copied into an entry, whatever a caller passes in ``changes``.
SECRET_FIELDS = frozenset(
    {
        "password",
        "password_hash",
        "secret",
        "client_secret",
        "secret_hash",
        "secret_encrypted",
        "previous_secret_encrypted",
        "token",
        "access_token",
        "link",
    }
)
REDACTED = "[redacted]"


def safe_url(url: str | None) -> str | None:
    """A URL as the log may keep it: without user and password, and with the query's
    values hidden (receivers often take a token in the query string)."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
    except ValueError:
        return REDACTED
    query = "&".join(
        f"{pair.split('=', 1)[0]}={REDACTED}" if "=" in pair else pair
        for pair in parts.query.split("&")
        if pair
    )
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


def _urls(value):
    """Every text in ``value`` (a URL, or a {from, to} of URLs) made safe."""
    if isinstance(value, str):
        return safe_url(value)
    if isinstance(value, dict):
        return {key: _urls(item) for key, item in value.items()}
    return _clean(value)


def _clean_item(key, value):
    if key in SECRET_FIELDS:
        return REDACTED
    return _urls(value) if key == "url" else _clean(value)


def _clean(value):
    """``changes`` without secrets, and with URLs made safe, at any depth."""
    if isinstance(value, dict):
        return {key: _clean_item(key, item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_clean(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def diff(old: dict, new: dict) -> dict:
    """``{field: {"from", "to"}}`` for every field whose value changed."""
    return {
        key: {"from": _clean(old.get(key)), "to": _clean(value)}
        for key, value in new.items()
        if old.get(key) != value
    }


def _actor_fields(actor) -> dict:
    if actor is None or getattr(actor, "member", None) is None:
        return {
            "actor_kind": ActorKind.operator,
            "actor_label": "operator",
            "actor_user_id": None,
            "actor_client_id": None,
            "origin": "operator",
        }
    if actor.user is not None:
        label = actor.user.email
    elif actor.client is not None:
        label = actor.label
    else:  # an actor built by hand with neither (the members' own tests do that)
        label = "program"
    return {
        "actor_kind": ActorKind.person if actor.user else ActorKind.program,
        "actor_label": label,
        "actor_user_id": actor.user.id if actor.user else None,
        "actor_client_id": actor.client.client_id if actor.client else None,
        "origin": actor.origin,
    }


def record(
    *,
    actor,
    member_id: int,
    action: str,
    target_type: str,
    target_id,
    target_label: str = "",
    changes: dict | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Add one entry to ``member_id``'s log, in the caller's transaction."""
    entry = AuditEntry(
        member_id=member_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        target_label=(target_label or "")[:320],
        changes=_clean(changes or {}),
        **_actor_fields(actor),
    )
    if now is not None:
        entry.created_at = now
    db.session.add(entry)
    return entry


def _require_admin(actor) -> None:
    members.require_admin_of(actor, actor.member)


def list_entries(
    *, actor, action: str | None = None, limit: int | None = None, cursor: str | None = None
) -> Page:
    """The actor's member's log, newest first; ``action`` is one code or ``group.*``."""
    _require_admin(actor)
    stmt = select(AuditEntry).where(AuditEntry.member_id == actor.member.id)
    if action:
        if action.endswith(".*"):
            stmt = stmt.where(AuditEntry.action.startswith(action[:-1], autoescape=True))
        else:
            stmt = stmt.where(AuditEntry.action == action)
    return paginate(
        stmt,
        [AuditEntry.id],
        limit=limit,
        cursor=cursor,
        key_of=lambda entry: [entry.id],
        descending=True,
    )


def get_entry(*, actor, entry_id: int) -> AuditEntry:
    _require_admin(actor)
    entry = get_by_id(AuditEntry, entry_id)
    if entry is None or entry.member_id != actor.member.id:
        raise NotFound(f"No audit entry {entry_id}.")
    return entry


def action_codes(*, actor) -> list[str]:
    """The actions the member's log holds (for the page's filter)."""
    _require_admin(actor)
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.member_id == actor.member.id)
            .distinct()
            .order_by(AuditEntry.action)
        )
    )
