"""Communities: private groups of members, by invitation and acceptance.

A process restricted to communities is visible only to their active members (and its
owner). The community's owner invites; an invited member's admin accepts or declines.
"""

from __future__ import annotations

from sqlalchemy import select

from exchange import clock
from exchange.db import db
from exchange.errors import AlreadyExists, Conflict, NotFound, ValidationFailed
from exchange.members.models import Community, CommunityMembership, Member, MembershipStatus
from exchange.members.schemas import CommunityIn
from exchange.members.service.members import SLUG_RE, get_member, require_admin_of
from exchange.members.signals import CATALOGUE_SIGNALS
from exchange.schemas import load_or_422


def community_slugs_of(member: Member) -> set[str]:
    """Slugs of the communities ``member`` is an active member of (owning counts)."""
    rows = db.session.scalars(
        select(Community.slug)
        .join(CommunityMembership)
        .where(
            CommunityMembership.member_id == member.id,
            CommunityMembership.status == MembershipStatus.active,
        )
    )
    return set(rows)


def _visible_to(actor, community: Community) -> bool:
    return any(m.member_id == actor.member.id for m in community.memberships)


def get_community(*, actor, slug: str) -> Community:
    """A community the actor's member owns, belongs to, or is invited to; else 404."""
    community = db.session.scalar(select(Community).where(Community.slug == slug))
    if community is None or not _visible_to(actor, community):
        raise NotFound(f"No community {slug!r}.")
    return community


def list_communities(*, actor) -> list[Community]:
    return list(
        db.session.scalars(
            select(Community)
            .join(CommunityMembership)
            .where(CommunityMembership.member_id == actor.member.id)
            .order_by(Community.name)
        )
    )


def create_community(*, actor, slug: str, name: str, description: str = "") -> Community:
    require_admin_of(actor, actor.member)
    checked = load_or_422(CommunityIn(), {"slug": slug, "name": name, "description": description})
    slug, name, description = checked["slug"], checked["name"], checked["description"]
    if not SLUG_RE.match(slug or ""):
        raise ValidationFailed(
            errors={"slug": ["Use 1-40 lowercase letters, digits and inner hyphens."]}
        )
    if db.session.scalar(select(Community.id).where(Community.slug == slug)):
        raise AlreadyExists(
            f"A community {slug!r} exists already.", errors={"slug": ["Already in use."]}
        )
    community = Community(slug=slug, name=name, description=description, owner=actor.member)
    db.session.add(community)
    db.session.add(
        CommunityMembership(
            community=community,
            member=actor.member,
            status=MembershipStatus.active,
            accepted_at=clock.now(),
        )
    )
    db.session.flush()
    CATALOGUE_SIGNALS["community.created"].send(
        community, actor=actor, changes={"name": name, "description": description}
    )
    return community


def invite(*, actor, community: Community, member_slug: str) -> CommunityMembership:
    """The owner invites another member; it joins once its admin accepts."""
    if community.owner_id != actor.member.id:
        raise NotFound(f"No community {community.slug!r} you own.")
    require_admin_of(actor, actor.member)
    try:
        member = get_member(slug=member_slug)
    except NotFound as exc:
        raise ValidationFailed(errors={"member": [f"No member {member_slug!r}."]}) from exc
    if any(m.member_id == member.id for m in community.memberships):
        raise AlreadyExists(f"{member.slug!r} is already invited to or in this community.")
    membership = CommunityMembership(community=community, member=member)
    db.session.add(membership)
    db.session.flush()
    CATALOGUE_SIGNALS["community.member_invited"].send(
        community, actor=actor, changes={"member": member.slug}
    )
    return membership


def _own_membership(actor, community: Community) -> CommunityMembership:
    for membership in community.memberships:
        if membership.member_id == actor.member.id:
            return membership
    raise NotFound(f"No community {community.slug!r}.")


def accept(*, actor, community: Community) -> CommunityMembership:
    require_admin_of(actor, actor.member)
    membership = _own_membership(actor, community)
    if membership.status == MembershipStatus.active:
        raise Conflict("Your member is already in this community.")
    membership.status = MembershipStatus.active
    membership.accepted_at = clock.now()
    db.session.flush()
    CATALOGUE_SIGNALS["community.joined"].send(community, actor=actor, changes={})
    return membership


def leave(*, actor, community: Community) -> None:
    """Decline an invitation or leave; the owner cannot leave its own community."""
    require_admin_of(actor, actor.member)
    membership = _own_membership(actor, community)
    if community.owner_id == actor.member.id:
        raise Conflict("The owner cannot leave its own community.")
    invited = membership.status != MembershipStatus.active
    db.session.delete(membership)
    db.session.flush()
    CATALOGUE_SIGNALS["community.left"].send(community, actor=actor, changes={"declined": invited})


def remove_member(*, actor, community: Community, member_slug: str) -> None:
    """The owner removes a member (or withdraws an invitation)."""
    if community.owner_id != actor.member.id:
        raise NotFound(f"No community {community.slug!r} you own.")
    require_admin_of(actor, actor.member)
    for membership in community.memberships:
        if membership.member.slug == member_slug and membership.member_id != actor.member.id:
            db.session.delete(membership)
            db.session.flush()
            CATALOGUE_SIGNALS["community.member_removed"].send(
                community, actor=actor, changes={"member": member_slug}
            )
            return
    raise NotFound(f"{member_slug!r} is not in this community.")
