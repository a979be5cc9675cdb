"""The members service without HTTP: admitting members, adding users, and who may change
what about a user."""

from __future__ import annotations

import pytest

from exchange.auth.actor import Actor, actor_for_user
from exchange.db import db
from exchange.errors import AlreadyExists, Conflict, Forbidden, NotFound, Problem, ValidationFailed
from exchange.members import service
from exchange.members.models import Member, MemberStatus, MemberTier, User


def program(member: Member, *scopes: str) -> Actor:
    """A program (no person) acting for ``member``."""
    return Actor(member=member, scopes=frozenset(scopes or ("directory:read", "members:admin")))


# -- create_member -------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["a", "acme", "acme-storage", "x1", "9to5", "a" * 40, "a-b-c"])
def test_create_member_accepts_a_valid_slug(slug):
    member = service.create_member(slug=slug, name="Some Vendor")

    assert member.id is not None
    assert member.slug == slug
    assert member.tier == MemberTier.standard
    assert member.status == MemberStatus.active
    assert member.is_active


@pytest.mark.parametrize(
    "slug",
    ["", "Acme", "-acme", "acme-", "ac me", "acme_storage", "acme.io", "a" * 41, "ac/me", "é"],
)
def test_create_member_refuses_an_invalid_slug(slug):
    with pytest.raises(ValidationFailed) as caught:
        service.create_member(slug=slug, name="Some Vendor")

    assert set(caught.value.errors) == {"slug"}
    assert caught.value.status == 422


def test_create_member_refuses_a_duplicate_slug(make_member):
    make_member("acme")

    with pytest.raises(AlreadyExists) as caught:
        service.create_member(slug="acme", name="Another Acme")

    assert caught.value.code == "already_exists"
    assert caught.value.status == 409


def test_create_member_takes_a_tier_and_profile_fields():
    member = service.create_member(
        slug="premium",
        name="Premium",
        tier="premier",
        website="https://premium.example",
        email_domains=["premium.example"],
    )

    assert member.tier == MemberTier.premier
    assert member.website == "https://premium.example"
    assert member.email_domains == ["premium.example"]


def test_create_member_refuses_an_unknown_tier():
    with pytest.raises(ValidationFailed) as caught:
        service.create_member(slug="tiered", name="Tiered", tier="platinum")

    assert set(caught.value.errors) == {"tier"}


def test_create_member_refuses_an_unknown_field():
    with pytest.raises(ValidationFailed) as caught:
        service.create_member(slug="fields", name="Fields", nickname="F")

    assert set(caught.value.errors) == {"nickname"}


# -- create_user ---------------------------------------------------------------------------


def test_create_user_normalises_the_email_and_keeps_roles_once(make_member):
    member = make_member()

    user = service.create_user(
        member=member,
        email="  Grace.Hopper@Navy.Example ",
        name="Grace Hopper",
        roles=["engineer", "escalation_manager", "engineer"],
        time_zone="America/New_York",
        password="a long enough password",
    )

    assert user.id is not None
    assert user.member is member
    assert user.email == "grace.hopper@navy.example"
    assert user.roles == ["engineer", "escalation_manager"]
    assert user.time_zone == "America/New_York"
    assert user.active is True
    assert user.check_password("a long enough password")
    assert service.find_user_by_email(email="GRACE.HOPPER@navy.example ") is user


def test_create_user_without_a_password_cannot_sign_in(make_member):
    user = service.create_user(member=make_member(), email="nopw@x.example", name="No Password")

    assert user.password_hash is None
    assert not user.check_password("")
    assert not user.check_password("anything")


def test_create_user_refuses_a_duplicate_email_in_any_case(make_member, make_user):
    first = make_user(email="dup@x.example")

    with pytest.raises(AlreadyExists) as caught:
        service.create_user(member=first.member, email="DUP@X.example", name="Copy")
    assert set(caught.value.errors) == {"email"}

    # Another member's person: refused as well, without saying they exist.
    with pytest.raises(ValidationFailed) as caught:
        service.create_user(member=make_member(), email="DUP@X.example", name="Copy")
    assert set(caught.value.errors) == {"email"}


def test_create_user_refuses_an_unknown_time_zone(make_member):
    with pytest.raises(ValidationFailed) as caught:
        service.create_user(
            member=make_member(), email="tz@x.example", name="TZ", time_zone="Mars/Olympus"
        )

    assert set(caught.value.errors) == {"time_zone"}


def test_create_user_refuses_an_unknown_role(make_member):
    with pytest.raises(ValidationFailed) as caught:
        service.create_user(member=make_member(), email="r@x.example", name="R", roles=["root"])

    assert set(caught.value.errors) == {"roles"}


def test_create_user_with_an_actor_needs_that_members_admin(make_member, make_user):
    member = make_member()
    admin = make_user(member=member, roles=("admin",))
    engineer = make_user(member=member, roles=("engineer",))
    outsider = make_user(roles=("admin",))

    created = service.create_user(
        actor=actor_for_user(admin), member=member, email="ok@x.example", name="OK"
    )
    assert created.member is member

    with pytest.raises(Problem) as caught:
        service.create_user(
            actor=actor_for_user(engineer), member=member, email="no@x.example", name="No"
        )
    assert caught.value.code == "insufficient_scope"

    with pytest.raises(NotFound):
        service.create_user(
            actor=actor_for_user(outsider), member=member, email="no@x.example", name="No"
        )
    assert service.find_user_by_email(email="no@x.example") is None


def test_a_member_admin_scope_alone_is_not_enough_for_a_person_without_the_admin_role(
    make_member, make_user
):
    member = make_member()
    engineer = make_user(member=member, roles=("engineer",))
    # A person somehow holding members:admin without the admin role is still refused.
    actor = Actor(member=member, user=engineer, scopes=frozenset({"members:admin"}))

    with pytest.raises(Forbidden):
        service.create_user(actor=actor, member=member, email="f@x.example", name="F")


# -- update_user ----------------------------------------------------------------------------


@pytest.fixture()
def member(make_member):
    return make_member()


@pytest.fixture()
def admin(make_user, member):
    return make_user(member=member, roles=("admin",))


@pytest.fixture()
def engineer(make_user, member):
    return make_user(member=member, roles=("engineer",), name="Engineer")


def test_a_person_edits_their_own_name_phone_and_time_zone(engineer):
    service.update_user(
        actor=actor_for_user(engineer),
        user=engineer,
        changes={"name": "Renamed", "phone": "+49 30 0000", "time_zone": "Europe/Berlin"},
    )

    assert (engineer.name, engineer.phone, engineer.time_zone) == (
        "Renamed",
        "+49 30 0000",
        "Europe/Berlin",
    )


@pytest.mark.parametrize("changes", [{"roles": ["admin"]}, {"active": False}])
def test_a_person_cannot_change_their_own_roles_or_activity(engineer, changes):
    with pytest.raises(Problem) as caught:
        service.update_user(actor=actor_for_user(engineer), user=engineer, changes=changes)

    assert caught.value.code == "insufficient_scope"


def test_a_person_cannot_edit_a_colleague(engineer, make_user, member):
    colleague = make_user(member=member, roles=("engineer",), name="Colleague")

    with pytest.raises(Problem) as caught:
        service.update_user(
            actor=actor_for_user(engineer), user=colleague, changes={"name": "Changed"}
        )

    assert caught.value.code == "insufficient_scope"
    assert colleague.name == "Colleague"


def test_an_admin_changes_a_users_roles_and_deactivates_them(admin, engineer):
    actor = actor_for_user(admin)

    service.update_user(actor=actor, user=engineer, changes={"roles": ["escalation_manager"]})
    service.update_user(actor=actor, user=engineer, changes={"active": False})

    assert engineer.roles == ["escalation_manager"]
    assert engineer.active is False
    assert not engineer.is_active


def test_an_admin_program_changes_a_users_roles(admin, engineer, member):
    service.update_user(
        actor=program(member), user=engineer, changes={"roles": ["engineer", "admin"]}
    )

    assert engineer.roles == ["engineer", "admin"]


def test_a_program_without_members_admin_cannot_change_a_user(engineer, member):
    with pytest.raises(Problem) as caught:
        service.update_user(
            actor=program(member, "directory:read"), user=engineer, changes={"name": "X"}
        )

    assert caught.value.code == "insufficient_scope"


def test_another_members_admin_gets_not_found(engineer, make_user):
    outsider = make_user(roles=("admin",))

    with pytest.raises(NotFound):
        service.update_user(actor=actor_for_user(outsider), user=engineer, changes={"name": "X"})
    with pytest.raises(NotFound):
        service.get_user(actor=actor_for_user(outsider), user_id=engineer.id)

    assert engineer.name == "Engineer"


@pytest.mark.parametrize("field", ["email", "member_id", "password_hash", "created_at"])
def test_fields_outside_the_admin_set_are_not_changeable(admin, engineer, field):
    with pytest.raises(ValidationFailed) as caught:
        service.update_user(actor=actor_for_user(admin), user=engineer, changes={field: "x"})

    assert set(caught.value.errors) == {field}


def test_update_user_refuses_an_unknown_time_zone(engineer):
    with pytest.raises(ValidationFailed) as caught:
        service.update_user(
            actor=actor_for_user(engineer), user=engineer, changes={"time_zone": "Nowhere/Land"}
        )

    assert set(caught.value.errors) == {"time_zone"}
    assert engineer.time_zone == "UTC"


def test_update_user_refuses_an_unknown_role(admin, engineer):
    with pytest.raises(ValidationFailed) as caught:
        service.update_user(actor=actor_for_user(admin), user=engineer, changes={"roles": ["god"]})

    assert set(caught.value.errors) == {"roles"}
    assert engineer.roles == ["engineer"]


@pytest.mark.parametrize("changes", [{"active": False}, {"roles": ["engineer"]}], ids=str)
def test_the_last_active_admin_cannot_be_removed(admin, engineer, member, changes):
    with pytest.raises(Conflict):
        service.update_user(actor=program(member), user=admin, changes=changes)


def test_the_last_admin_cannot_step_down_themselves(admin):
    with pytest.raises(Conflict):
        service.update_user(actor=actor_for_user(admin), user=admin, changes={"active": False})


def test_an_admin_may_go_when_another_active_admin_remains(admin, make_user, member):
    make_user(member=member, roles=("admin",))

    service.update_user(actor=program(member), user=admin, changes={"active": False})

    assert admin.active is False


def test_an_inactive_admin_is_not_the_remaining_admin(admin, make_user, member):
    dormant = make_user(member=member, roles=("admin",))
    service.update_user(actor=program(member), user=dormant, changes={"active": False})

    with pytest.raises(Conflict):
        service.update_user(actor=program(member), user=admin, changes={"roles": []})


def test_editing_a_non_admin_never_trips_the_last_admin_rule(admin, engineer, member):
    service.update_user(actor=program(member), user=engineer, changes={"active": False})

    assert engineer.active is False
    assert admin.active is True


# -- lookups and the directory ----------------------------------------------------------------


def test_get_user_of_an_id_out_of_range_is_not_found(admin):
    for user_id in (0, -1, 2**63, 10**30):
        with pytest.raises(NotFound):
            service.get_user(actor=actor_for_user(admin), user_id=user_id)


def test_get_user_finds_a_user_of_the_own_member(admin, engineer):
    assert service.get_user(actor=actor_for_user(admin), user_id=engineer.id) is engineer


def test_list_users_is_own_member_only(admin, engineer, make_member):
    other = make_member()

    users = service.list_users(actor=actor_for_user(engineer), member=engineer.member)
    assert [u.id for u in users] == [admin.id, engineer.id]
    with pytest.raises(NotFound):
        service.list_users(actor=actor_for_user(engineer), member=other)


def test_update_member_keeps_tier_and_status_for_the_operator(admin, member):
    with pytest.raises(ValidationFailed) as caught:
        service.update_member(
            actor=actor_for_user(admin), member=member, changes={"tier": "premier"}
        )

    assert set(caught.value.errors) == {"tier"}
    assert member.tier == MemberTier.standard


def test_set_member_status_suspends_and_reinstates(admin, member):
    service.set_member_status(member=member, status="suspended")
    assert not member.is_active
    assert not admin.is_active

    service.set_member_status(member=member, status="active")
    assert member.is_active
    assert admin.is_active


def test_search_treats_like_wildcards_as_characters(make_member):
    make_member("percent", "50% Off Support")
    make_member("under", "under_score")
    make_member("plain", "Plain")

    def slugs(q):
        return {m.slug for m in service.search_members(q=q).items}

    assert slugs("%") == {"percent"}
    assert slugs("_") == {"under"}
    assert slugs("0% o") == {"percent"}


def test_search_pages_walk_non_ascii_names_exactly_once(make_member):
    for slug, name in [
        ("a1", "\u00c9cole"),
        ("a2", "\u00c9zra"),
        ("a3", "\u00e9tude"),
        ("a4", "\u00d6sterreich Software"),
        ("a5", "Zulu"),
    ]:
        make_member(slug, name)

    seen, cursor = [], None
    while True:
        page = service.search_members(limit=1, cursor=cursor)
        seen += [m.slug for m in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor

    assert sorted(seen) == ["a1", "a2", "a3", "a4", "a5"]


def test_users_are_stored_with_their_member(admin, engineer, member):
    db.session.expire_all()
    stored = db.session.get(User, engineer.id)
    assert stored.member_id == member.id
    assert {u.id for u in db.session.get(Member, member.id).users} == {admin.id, engineer.id}


def test_services_apply_the_same_field_rules_as_the_api(make_user):
    from exchange.auth.actor import actor_for_user
    from exchange.errors import ValidationFailed
    from exchange.members.service import communities, products

    admin = make_user(roles=["admin"])
    actor = actor_for_user(admin)
    with pytest.raises(ValidationFailed) as bad_site:
        service.update_member(
            actor=actor, member=admin.member, changes={"website": "not a url", "name": "x" * 300}
        )
    assert set(bad_site.value.errors) == {"website", "name"}
    with pytest.raises(ValidationFailed) as bad_product:
        products.create_product(actor=actor, member=admin.member, name="")
    assert "name" in bad_product.value.errors
    with pytest.raises(ValidationFailed) as bad_community:
        communities.create_community(actor=actor, slug="ok", name="")
    assert "name" in bad_community.value.errors
