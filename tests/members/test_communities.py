"""Communities: private groups of members owned by one member, joined by invitation and
acceptance; strangers do not see them at all."""

from __future__ import annotations

import pytest

from exchange.auth.actor import Actor, actor_for_user
from exchange.errors import AlreadyExists, Conflict, Forbidden, NotFound, Problem, ValidationFailed
from exchange.members.models import MembershipStatus
from exchange.members.service import communities
from tests.conftest import csrf_token_from

ADMIN_SCOPES = ("directory:read", "members:admin")


def program(member, *scopes: str) -> Actor:
    return Actor(member=member, scopes=frozenset(scopes or ADMIN_SCOPES))


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == code
    return response.json


@pytest.fixture()
def owner_member(make_member):
    return make_member("initech", "Initech")


@pytest.fixture()
def guest_member(make_member):
    return make_member("globex", "Globex")


@pytest.fixture()
def stranger_member(make_member):
    return make_member("acme", "Acme")


@pytest.fixture()
def owner(api, owner_member):
    return api(owner_member, scopes=ADMIN_SCOPES)


@pytest.fixture()
def guest(api, guest_member):
    return api(guest_member, scopes=ADMIN_SCOPES)


@pytest.fixture()
def stranger(api, stranger_member):
    return api(stranger_member, scopes=ADMIN_SCOPES)


@pytest.fixture()
def community(owner):
    response = owner.post(
        "/api/v1/communities",
        json={"slug": "partners", "name": "Partners", "description": "Joint support"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def statuses(body) -> dict[str, str]:
    return {m["member"]: m["status"] for m in body["members"]}


# -- over the API --------------------------------------------------------------------


def test_creating_a_community_makes_the_creator_its_owner_and_active_member(community):
    assert community["slug"] == "partners"
    assert community["name"] == "Partners"
    assert community["description"] == "Joint support"
    assert community["owner"] == "initech"
    assert statuses(community) == {"initech": "active"}
    assert community["members"][0]["accepted_at"] is not None


def test_invite_accept_leave(owner, guest, community):
    invited = owner.post("/api/v1/communities/partners/invitations", json={"member": "globex"})
    assert invited.status_code == 201, invited.get_data(as_text=True)
    assert statuses(invited.json) == {"initech": "active", "globex": "invited"}

    # The invited member sees the community (to accept it) and its invitation.
    seen = guest.get("/api/v1/communities/partners")
    assert seen.status_code == 200
    assert statuses(seen.json)["globex"] == "invited"
    assert [c["slug"] for c in guest.get("/api/v1/communities").json] == ["partners"]

    accepted = guest.post("/api/v1/communities/partners/accept")
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    assert statuses(accepted.json) == {"initech": "active", "globex": "active"}
    [globex] = [m for m in accepted.json["members"] if m["member"] == "globex"]
    assert globex["accepted_at"] is not None
    assert_problem(guest.post("/api/v1/communities/partners/accept"), 409, "conflict")

    left = guest.delete("/api/v1/communities/partners/members/globex")
    assert left.status_code == 204
    assert_problem(guest.get("/api/v1/communities/partners"), 404, "not_found")
    assert guest.get("/api/v1/communities").json == []
    assert statuses(owner.get("/api/v1/communities/partners").json) == {"initech": "active"}


def test_an_invitation_can_be_declined(owner, guest, community):
    owner.post("/api/v1/communities/partners/invitations", json={"member": "globex"})

    declined = guest.delete("/api/v1/communities/partners/members/globex")

    assert declined.status_code == 204
    assert_problem(guest.post("/api/v1/communities/partners/accept"), 404, "not_found")
    assert statuses(owner.get("/api/v1/communities/partners").json) == {"initech": "active"}
    # A declined member can be invited again.
    again = owner.post("/api/v1/communities/partners/invitations", json={"member": "globex"})
    assert again.status_code == 201


def test_the_owner_cannot_leave_its_own_community(owner, community):
    response = owner.delete("/api/v1/communities/partners/members/initech")

    assert_problem(response, 409, "conflict")
    assert statuses(owner.get("/api/v1/communities/partners").json) == {"initech": "active"}


def test_the_owner_removes_a_member_or_withdraws_an_invitation(owner, guest, stranger, community):
    owner.post("/api/v1/communities/partners/invitations", json={"member": "globex"})
    guest.post("/api/v1/communities/partners/accept")
    owner.post("/api/v1/communities/partners/invitations", json={"member": "acme"})

    assert owner.delete("/api/v1/communities/partners/members/globex").status_code == 204
    assert owner.delete("/api/v1/communities/partners/members/acme").status_code == 204

    assert statuses(owner.get("/api/v1/communities/partners").json) == {"initech": "active"}
    assert_problem(guest.get("/api/v1/communities/partners"), 404, "not_found")
    assert_problem(stranger.get("/api/v1/communities/partners"), 404, "not_found")
    assert_problem(owner.delete("/api/v1/communities/partners/members/globex"), 404, "not_found")


def test_only_the_owner_invites_or_removes(owner, guest, stranger, community):
    owner.post("/api/v1/communities/partners/invitations", json={"member": "globex"})
    guest.post("/api/v1/communities/partners/accept")

    assert_problem(
        guest.post("/api/v1/communities/partners/invitations", json={"member": "acme"}),
        404,
        "not_found",
    )
    assert_problem(guest.delete("/api/v1/communities/partners/members/initech"), 404, "not_found")
    assert statuses(owner.get("/api/v1/communities/partners").json) == {
        "initech": "active",
        "globex": "active",
    }


def test_strangers_get_404_for_everything_about_the_community(stranger, community):
    for response in (
        stranger.get("/api/v1/communities/partners"),
        stranger.post("/api/v1/communities/partners/accept"),
        stranger.post("/api/v1/communities/partners/invitations", json={"member": "acme"}),
        stranger.delete("/api/v1/communities/partners/members/acme"),
        stranger.delete("/api/v1/communities/partners/members/initech"),
    ):
        assert_problem(response, 404, "not_found")
    assert stranger.get("/api/v1/communities").json == []
    hidden = stranger.get("/api/v1/communities/partners").json
    missing = stranger.get("/api/v1/communities/no-such-thing").json
    assert hidden["title"] == missing["title"]


def test_inviting_twice_or_an_unknown_member(owner, guest_member, community):
    owner.post("/api/v1/communities/partners/invitations", json={"member": "globex"})

    assert_problem(
        owner.post("/api/v1/communities/partners/invitations", json={"member": "globex"}),
        409,
        "already_exists",
    )
    assert_problem(
        owner.post("/api/v1/communities/partners/invitations", json={"member": "initech"}),
        409,
        "already_exists",
    )
    body = assert_problem(
        owner.post("/api/v1/communities/partners/invitations", json={"member": "nobody"}),
        422,
        "validation_failed",
    )
    assert set(body["errors"]) == {"member"}


def test_a_duplicate_or_bad_slug_is_refused(owner, guest, community):
    dup = guest.post("/api/v1/communities", json={"slug": "partners", "name": "Mine"})
    assert_problem(dup, 409, "already_exists")
    bad = owner.post("/api/v1/communities", json={"slug": "Not A Slug", "name": "X"})
    assert set(assert_problem(bad, 422, "validation_failed")["errors"]) == {"slug"}
    missing = owner.post("/api/v1/communities", json={"slug": "x"})
    assert set(assert_problem(missing, 422, "validation_failed")["errors"]) == {"name"}


def test_community_administration_needs_members_admin(api, owner_member, guest, owner, community):
    reader = api(owner_member, scopes=("directory:read", "processes:write"))

    assert_problem(
        reader.post("/api/v1/communities", json={"slug": "mine", "name": "Mine"}),
        403,
        "insufficient_scope",
    )
    assert_problem(
        reader.post("/api/v1/communities/partners/invitations", json={"member": "globex"}),
        403,
        "insufficient_scope",
    )
    # Reading needs only directory:read.
    assert reader.get("/api/v1/communities/partners").status_code == 200


def test_an_engineer_sees_the_invitation_but_cannot_accept_it(
    client, login, make_user, owner, guest_member, community
):
    owner.post("/api/v1/communities/partners/invitations", json={"member": "globex"})
    login(make_user(member=guest_member, roles=("engineer",)))

    seen = client.get("/api/v1/communities/partners")
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    accepted = client.post("/api/v1/communities/partners/accept", headers={"X-CSRFToken": token})

    assert seen.status_code == 200
    assert statuses(seen.json)["globex"] == "invited"
    assert_problem(accepted, 403, "insufficient_scope")
    assert statuses(owner.get("/api/v1/communities/partners").json)["globex"] == "invited"


# -- the service ---------------------------------------------------------------------


def test_community_slugs_count_only_active_memberships(owner_member, guest_member):
    owning = program(owner_member)
    community = communities.create_community(actor=owning, slug="club", name="Club")

    assert communities.community_slugs_of(owner_member) == {"club"}
    assert communities.community_slugs_of(guest_member) == set()
    membership = communities.invite(actor=owning, community=community, member_slug="globex")
    assert membership.status == MembershipStatus.invited
    assert communities.community_slugs_of(guest_member) == set()
    communities.accept(actor=program(guest_member), community=community)
    assert communities.community_slugs_of(guest_member) == {"club"}
    communities.leave(actor=program(guest_member), community=community)
    assert communities.community_slugs_of(guest_member) == set()


def test_service_rules(owner_member, guest_member, stranger_member, make_user):
    owning = program(owner_member)
    community = communities.create_community(actor=owning, slug="club", name="Club")

    with pytest.raises(AlreadyExists):
        communities.create_community(actor=program(guest_member), slug="club", name="Again")
    with pytest.raises(ValidationFailed):
        communities.create_community(actor=owning, slug="-bad-", name="Bad")
    with pytest.raises(NotFound):
        communities.get_community(actor=program(stranger_member), slug="club")
    with pytest.raises(NotFound):
        communities.invite(actor=program(guest_member), community=community, member_slug="acme")
    with pytest.raises(NotFound):
        communities.accept(actor=program(stranger_member), community=community)
    with pytest.raises(Conflict):
        communities.leave(actor=owning, community=community)
    with pytest.raises(NotFound):
        communities.remove_member(actor=owning, community=community, member_slug="initech")
    with pytest.raises(Problem) as caught:
        communities.create_community(
            actor=program(owner_member, "directory:read"), slug="other", name="Other"
        )
    assert caught.value.code == "insufficient_scope"
    # A person needs the admin role, not just the scope.
    engineer = make_user(member=owner_member, roles=("engineer",))
    with pytest.raises(Problem):
        communities.create_community(actor=actor_for_user(engineer), slug="eng", name="Eng")
    not_admin = Actor(member=owner_member, user=engineer, scopes=frozenset(ADMIN_SCOPES))
    with pytest.raises(Forbidden):
        communities.create_community(actor=not_admin, slug="eng", name="Eng")


def test_list_communities_is_sorted_by_name(owner_member, guest_member):
    owning = program(owner_member)
    communities.create_community(actor=owning, slug="zeta", name="Zeta")
    alpha = communities.create_community(actor=program(guest_member), slug="alpha", name="Alpha")
    communities.invite(actor=program(guest_member), community=alpha, member_slug="initech")

    assert [c.slug for c in communities.list_communities(actor=owning)] == ["alpha", "zeta"]
