"""Members and their users: the member directory and a member's own administration.

Every function takes keyword-only arguments. Functions that act for someone take the
``actor``; they raise ``NotFound`` for another member's private data (never revealing
that it exists) and ``Forbidden`` when the actor's own member lacks the role.
"""

from __future__ import annotations

import re

from sqlalchemy import String, bindparam, func, or_, select

from exchange import text
from exchange.auth import passwords
from exchange.db import db, get_by_id
from exchange.errors import AlreadyExists, Conflict, Forbidden, NotFound, ValidationFailed
from exchange.members.models import (
    NOTIFICATION_DEFAULTS,
    Member,
    MemberStatus,
    MemberTier,
    Product,
    Role,
    User,
)
from exchange.members.schemas import MemberPatchIn
from exchange.members.signals import member_updated, user_created, user_updated
from exchange.pagination import Page, paginate
from exchange.schemas import load_or_422
from exchange.zones import known_time_zones

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
MEMBER_FIELDS = {
    "name",
    "tier",
    "status",
    "description",
    "website",
    "email_domains",
    "support_contact_name",
    "support_contact_email",
    "support_contact_phone",
}
# What a member admin may change of their own member; tier and status are the operator's.
ADMIN_MEMBER_FIELDS = MEMBER_FIELDS - {"tier", "status"}
ADDRESS_UNUSABLE = "This address cannot be used; choose another one."
USER_SELF_FIELDS = {"name", "phone", "time_zone", "notifications"}
USER_ADMIN_FIELDS = USER_SELF_FIELDS | {"roles", "active"}


def _time_zones() -> set[str]:
    return known_time_zones()


def _check_time_zone(value: str) -> None:
    if value not in _time_zones():
        raise ValidationFailed(errors={"time_zone": [f"Unknown IANA time zone {value!r}."]})


def _check_texts(**values) -> None:
    """A person's or member's one-line fields, with the rules of every entrance
    (exchange/text.py): here too, for the pages and the CLI that call without a schema."""
    errors: dict[str, list[str]] = {}
    for field, value in values.items():
        if field == "email":
            text.check(errors, field, text.email_problem(value))
        elif field == "name":
            text.check(errors, field, text.line_problem(value) or text.visible_problem(value))
        else:
            text.check(errors, field, text.line_problem(value))
    if errors:
        raise ValidationFailed(errors=errors)


def _check_roles(roles) -> list[str]:
    unknown = [r for r in roles if r not in Role.__members__]
    if unknown:
        raise ValidationFailed(errors={"roles": [f"Unknown role(s): {', '.join(unknown)}."]})
    return list(dict.fromkeys(roles))


# -- members ------------------------------------------------------------------------


# Hot lookups are built once, so SQLAlchemy reuses their cache keys (every case open).
_MEMBER_BY_SLUG = select(Member).where(Member.slug == bindparam("slug"))
_USER_BY_EMAIL = select(User).where(User.email == bindparam("email"))


def get_member(*, slug: str) -> Member:
    member = db.session.scalar(_MEMBER_BY_SLUG, {"slug": slug})
    if member is None:
        raise NotFound(f"No member {slug!r}.")
    return member


def search_members(
    *, q: str | None = None, limit: int | None = None, cursor: str | None = None
) -> Page:
    """The directory: members whose name, slug or one of whose products' names contains
    ``q`` (case-insensitive)."""
    stmt = select(Member)
    if q:
        # autoescape: a "%" or "_" the caller types is a character, not a wildcard.
        needle = q.strip().lower()
        product_match = (
            select(Product.id)
            .where(
                Product.member_id == Member.id,
                func.lower(Product.name).contains(needle, autoescape=True),
            )
            .exists()
        )
        stmt = stmt.where(
            or_(
                func.lower(Member.name).contains(needle, autoescape=True),
                Member.slug.contains(needle, autoescape=True),
                product_match,
            )
        )
    return paginate(
        stmt,
        [func.lower(Member.name, type_=String), Member.id],
        limit=limit,
        cursor=cursor,
        key_of=_directory_key,
    )


def _directory_key(member: Member) -> list:
    # The key as the database lowercases it: SQLite's lower() folds ASCII only, so
    # Python's str.lower() would give a cursor that skips members with non-ASCII names.
    lowered = db.session.scalar(select(func.lower(Member.name)).where(Member.id == member.id))
    return [lowered, member.id]


def create_member(*, slug: str, name: str, tier: str = MemberTier.standard, **fields) -> Member:
    """Admit a vendor to the exchange (the operator's act, from the CLI)."""
    if not SLUG_RE.match(slug or ""):
        raise ValidationFailed(
            errors={"slug": ["Use 1-40 lowercase letters, digits and inner hyphens."]}
        )
    if db.session.scalar(select(Member.id).where(Member.slug == slug)):
        raise AlreadyExists(f"A member {slug!r} exists already.")
    _check_texts(name=name)
    if tier not in MemberTier.__members__:
        raise ValidationFailed(errors={"tier": [f"One of: {', '.join(MemberTier)}."]})
    unknown = set(fields) - MEMBER_FIELDS
    if unknown:
        raise ValidationFailed(errors={f: ["Unknown field."] for f in unknown})
    member = Member(slug=slug, name=name, tier=tier, **fields)
    db.session.add(member)
    db.session.flush()
    return member


def update_member(*, actor, member: Member, changes: dict) -> Member:
    """A member admin edits their own member's profile."""
    require_admin_of(actor, member)
    for key in changes:
        if key not in ADMIN_MEMBER_FIELDS:
            raise ValidationFailed(errors={key: ["Not changeable here."]})
    loaded = load_or_422(MemberPatchIn(), changes)
    before = {key: getattr(member, key) for key in loaded}
    for key, value in loaded.items():
        setattr(member, key, value)
    db.session.flush()
    changed = _changed(before, {key: getattr(member, key) for key in loaded})
    if changed:
        member_updated.send(member, actor=actor, changes=changed)
    return member


def _changed(before: dict, after: dict) -> dict:
    """``{field: {"from", "to"}}`` of the values that differ."""
    return {
        key: {"from": before.get(key), "to": value}
        for key, value in after.items()
        if before.get(key) != value
    }


def set_member_status(*, member: Member, status: str) -> Member:
    """Suspend or reinstate a member (the operator's act): a suspended member's users
    cannot sign in and its programs' tokens are refused; their sessions end (they do not
    come back with a reinstatement); the worker holds its webhook deliveries and mail
    until it is reinstated (they are not dropped)."""
    member.status = MemberStatus(status)
    if member.status == MemberStatus.suspended:
        for user in member.users:
            user.end_sessions()
    db.session.flush()
    return member


# -- users --------------------------------------------------------------------------


def require_admin_of(actor, member: Member) -> None:
    if actor.member.id != member.id:
        raise NotFound(f"No member {member.slug!r} resource here.")
    actor.require("members:admin")
    if actor.user is not None and not actor.user.has_role(Role.admin):
        raise Forbidden("Only a member admin may do this.")


def list_users(*, actor, member: Member) -> list[User]:
    """A member's users; visible to that member's own people and programs only."""
    if actor.member.id != member.id:
        raise NotFound(f"No users of {member.slug!r} are visible to you.")
    return list(
        db.session.scalars(select(User).where(User.member_id == member.id).order_by(User.id))
    )


def get_user(*, actor, user_id: int) -> User:
    # An id beyond the column's range is simply not there (SQLite cannot even bind it).
    user = get_by_id(User, user_id)
    if user is None or user.member_id != actor.member.id:
        raise NotFound(f"No user {user_id}.")
    return user


def find_user_by_email(*, email: str) -> User | None:
    return db.session.scalar(_USER_BY_EMAIL, {"email": email.strip().lower()})


def create_user(
    *,
    member: Member,
    email: str,
    name: str,
    roles=(),
    password: str | None = None,
    phone: str | None = None,
    time_zone: str = "UTC",
    actor=None,
    invited: bool = False,
) -> User:
    """Add a person to a member. With an ``actor``, it must be that member's admin;
    ``invited`` says an invitation mail goes with it (for the audit log)."""
    if actor is not None:
        require_admin_of(actor, member)
    email = (email or "").strip().lower()
    _check_texts(email=email, name=name, phone=phone)
    existing = find_user_by_email(email=email)
    if existing is not None and existing.member_id == member.id:
        raise AlreadyExists(
            f"A user with e-mail {email!r} exists already.", errors={"email": ["Already in use."]}
        )
    if existing is not None:
        # A person of another member: say nothing of them, not even that they exist
        # (docs/security.md); the same words as any other address that cannot be used.
        raise ValidationFailed(errors={"email": [ADDRESS_UNUSABLE]})
    _check_time_zone(time_zone)
    user = User(
        member=member,
        email=email,
        name=name,
        roles=_check_roles(roles),
        phone=phone,
        time_zone=time_zone,
    )
    if password:
        check_password_policy(user=user, password=password)
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    user_created.send(user, actor=actor, invited=invited)
    return user


def update_user(*, actor, user: User, changes: dict) -> User:
    """A member admin edits any of its users; a person edits their own name, phone,
    time zone and notification preferences."""
    if user.member_id != actor.member.id:
        raise NotFound(f"No user {user.id}.")
    is_self = actor.user is not None and actor.user.id == user.id
    if set(changes) - USER_SELF_FIELDS or not is_self:
        require_admin_of(actor, user.member)
    for key in set(changes) - USER_ADMIN_FIELDS:
        raise ValidationFailed(errors={key: ["Not changeable here."]})
    _check_texts(**{key: changes[key] for key in ("name", "phone") if key in changes})
    if "time_zone" in changes:
        _check_time_zone(changes["time_zone"])
    if "roles" in changes:
        changes = {**changes, "roles": _check_roles(changes["roles"])}
    if "notifications" in changes:
        unknown = set(changes["notifications"]) - set(NOTIFICATION_DEFAULTS)
        if unknown:
            raise ValidationFailed(
                errors={"notifications": [f"Unknown kind(s): {', '.join(sorted(unknown))}."]}
            )
        changes = {
            **changes,
            "notifications": {**(user.notifications or {}), **changes["notifications"]},
        }
    was_admin = _is_active_admin(user)
    before = {key: getattr(user, key) for key in changes}
    for key, value in changes.items():
        setattr(user, key, value)
    if before.get("active") and not user.active:
        # Deactivation ends the person's sessions for good, not only while inactive.
        user.end_sessions()
    # A member always keeps one active admin, or nobody could administer it again.
    others = (u for u in user.member.users if u.id != user.id)
    if was_admin and not _is_active_admin(user) and not any(map(_is_active_admin, others)):
        raise Conflict("This would leave the member without an active admin.")
    db.session.flush()
    changed = _changed(before, changes)
    if changed:
        user_updated.send(user, actor=actor, changes=changed, by_self=is_self)
    return user


def _is_active_admin(user: User) -> bool:
    return user.active and Role.admin in user.roles


def check_password_policy(*, user: User, password: str) -> None:
    """422 on the ``password`` field unless ``password`` meets the policy for ``user``."""
    found = passwords.problems(password, email=user.email or "", name=user.name or "")
    if found:
        raise ValidationFailed("The password does not meet the policy.", errors={"password": found})


def set_password(*, user: User, password: str) -> None:
    """Give a person a new password, if it meets the policy (exchange.auth.passwords)."""
    check_password_policy(user=user, password=password)
    user.set_password(password)
