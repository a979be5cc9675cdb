"""The member directory and a member's own administration over the REST API: what a
member may see and change of its own, and that another member's private data is a 404."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from exchange.db import db
from exchange.members.models import Member, User
from tests.conftest import basic_auth, csrf_token_from

ADMIN_SCOPES = ("directory:read", "members:admin")


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["code"] == code
    assert body["status"] == status
    assert set(body) >= {"type", "title", "status", "detail", "code", "errors"}
    return body


def page_csrf_token(http) -> str:
    return csrf_token_from(http.get("/").get_data(as_text=True))


def fresh(obj):
    db.session.refresh(obj)
    return obj


@pytest.fixture()
def ours(make_member):
    return make_member()


@pytest.fixture()
def theirs(make_member):
    return make_member()


@pytest.fixture()
def admin_program(api, ours):
    return api(ours, scopes=ADMIN_SCOPES)


# -- isolation: another member's private data is not there -----------------------------------


def test_another_members_users_list_is_404(admin_program, theirs, make_user):
    make_user(member=theirs)

    body = assert_problem(
        admin_program.get(f"/api/v1/members/{theirs.slug}/users"), 404, "not_found"
    )

    assert "@" not in body["detail"]


def test_another_members_users_list_is_404_for_a_signed_in_person_too(
    client, theirs, make_user, login
):
    make_user(member=theirs)
    login(make_user(roles=("admin",)))

    assert_problem(client.get(f"/api/v1/members/{theirs.slug}/users"), 404, "not_found")


def test_another_members_user_is_404_like_a_user_that_does_not_exist(
    admin_program, theirs, make_user
):
    stranger = make_user(member=theirs)
    missing_id = db.session.scalar(select(func.max(User.id))) + 1000

    hidden = assert_problem(admin_program.get(f"/api/v1/users/{stranger.id}"), 404, "not_found")
    missing = assert_problem(admin_program.get(f"/api/v1/users/{missing_id}"), 404, "not_found")

    assert hidden["title"] == missing["title"]
    assert hidden["detail"] == f"No user {stranger.id}."
    assert missing["detail"] == f"No user {missing_id}."


def test_patching_another_members_user_is_404_and_changes_nothing(admin_program, theirs, make_user):
    stranger = make_user(member=theirs, roles=("engineer",), name="Stranger")

    response = admin_program.patch(
        f"/api/v1/users/{stranger.id}", json={"name": "Pwned", "roles": ["admin"], "active": False}
    )

    assert_problem(response, 404, "not_found")
    stranger = fresh(stranger)
    assert (stranger.name, stranger.roles, stranger.active) == ("Stranger", ["engineer"], True)


def test_another_members_client_is_404_to_read_and_to_revoke(
    client, admin_program, theirs, make_client, fetch_token
):
    their_client, secret = make_client(member=theirs)
    token = fetch_token(their_client, secret)

    assert_problem(admin_program.get(f"/api/v1/clients/{their_client.client_id}"), 404, "not_found")
    assert_problem(
        admin_program.delete(f"/api/v1/clients/{their_client.client_id}"), 404, "not_found"
    )

    assert fresh(their_client).revoked_at is None
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_another_members_clients_list_is_404(admin_program, theirs, make_client):
    make_client(member=theirs)

    assert_problem(admin_program.get(f"/api/v1/members/{theirs.slug}/clients"), 404, "not_found")


def test_patching_another_members_profile_is_404_and_changes_nothing(admin_program, theirs):
    name = theirs.name

    response = admin_program.patch(f"/api/v1/members/{theirs.slug}", json={"name": "Taken over"})

    assert_problem(response, 404, "not_found")
    assert fresh(theirs).name == name


def test_creating_a_user_for_another_member_is_404(admin_program, theirs):
    response = admin_program.post(
        f"/api/v1/members/{theirs.slug}/users", json={"email": "mole@x.example", "name": "Mole"}
    )

    assert_problem(response, 404, "not_found")
    assert db.session.scalar(select(User).where(User.email == "mole@x.example")) is None


def test_another_members_public_profile_is_visible(admin_program, theirs):
    response = admin_program.get(f"/api/v1/members/{theirs.slug}")

    assert response.status_code == 200
    assert response.json["slug"] == theirs.slug
    assert response.json["name"] == theirs.name


# -- a member admin program administers its own member ----------------------------------------


def test_an_admin_program_creates_a_user(admin_program, ours):
    response = admin_program.post(
        f"/api/v1/members/{ours.slug}/users",
        json={
            "email": "Ada.Lovelace@Ours.Example",
            "name": "Ada Lovelace",
            "roles": ["engineer", "escalation_manager"],
            "time_zone": "Europe/London",
            "phone": "+44 20 0000 0000",
            "password": "a long enough password",
        },
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.json
    assert body["email"] == "ada.lovelace@ours.example"
    assert body["member"] == ours.slug
    assert body["roles"] == ["engineer", "escalation_manager"]
    assert body["time_zone"] == "Europe/London"
    assert body["active"] is True
    assert "password" not in body
    user = db.session.get(User, body["id"])
    assert user.member_id == ours.id
    assert user.check_password("a long enough password")
    assert user.password_hash != "a long enough password"


def test_the_new_user_appears_in_the_members_users_list(admin_program, ours, make_user):
    existing = make_user(member=ours)
    created = admin_program.post(
        f"/api/v1/members/{ours.slug}/users", json={"email": "new@ours.example", "name": "New"}
    )

    response = admin_program.get(f"/api/v1/members/{ours.slug}/users")

    assert response.status_code == 200
    assert [u["id"] for u in response.json] == [existing.id, created.json["id"]]


def test_an_admin_program_edits_roles_and_deactivates_a_user(admin_program, make_user, ours):
    make_user(member=ours, roles=("admin",))
    user = make_user(member=ours, roles=("engineer",))

    promoted = admin_program.patch(
        f"/api/v1/users/{user.id}", json={"roles": ["engineer", "escalation_manager"]}
    )
    assert promoted.status_code == 200, promoted.get_data(as_text=True)
    assert promoted.json["roles"] == ["engineer", "escalation_manager"]

    deactivated = admin_program.patch(f"/api/v1/users/{user.id}", json={"active": False})
    assert deactivated.status_code == 200
    assert deactivated.json["active"] is False
    user = fresh(user)
    assert user.active is False
    assert user.roles == ["engineer", "escalation_manager"]


def test_a_duplicate_email_of_our_own_member_is_409_already_exists(admin_program, ours, make_user):
    mine = make_user(member=ours, email="mine@example.org")

    response = admin_program.post(
        f"/api/v1/members/{ours.slug}/users",
        json={"email": mine.email.upper(), "name": "Copy"},
    )

    body = assert_problem(response, 409, "already_exists")
    assert set(body["errors"]) == {"email"}
    assert db.session.scalar(select(func.count(User.id)).where(User.member_id == ours.id)) == 1


def test_another_members_persons_address_is_refused_without_saying_whose(
    admin_program, ours, make_user, theirs
):
    taken = make_user(member=theirs, email="taken@example.org", name="Tabitha Theirs")

    response = admin_program.post(
        f"/api/v1/members/{ours.slug}/users",
        json={"email": taken.email.upper(), "name": "Copy"},
    )

    # The generic answer of an address that cannot be used, not "exists already".
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"] == {"email": ["This address cannot be used; choose another one."]}
    text = response.get_data(as_text=True).lower()
    for secret in ("exist", "already", "in use", theirs.slug, "tabitha", taken.email):
        assert secret not in text
    assert db.session.scalar(select(func.count(User.id)).where(User.member_id == ours.id)) == 0


def test_an_unknown_time_zone_is_422_naming_time_zone(admin_program, ours, make_user):
    created = admin_program.post(
        f"/api/v1/members/{ours.slug}/users",
        json={"email": "tz@ours.example", "name": "TZ", "time_zone": "Europe/Atlantis"},
    )
    body = assert_problem(created, 422, "validation_failed")
    assert set(body["errors"]) == {"time_zone"}

    user = make_user(member=ours)
    patched = admin_program.patch(f"/api/v1/users/{user.id}", json={"time_zone": "Moon/Base"})
    body = assert_problem(patched, 422, "validation_failed")
    assert set(body["errors"]) == {"time_zone"}
    assert fresh(user).time_zone == "UTC"


def test_an_unknown_role_is_422_naming_roles(admin_program, ours):
    response = admin_program.post(
        f"/api/v1/members/{ours.slug}/users",
        json={"email": "r@ours.example", "name": "R", "roles": ["superuser"]},
    )

    body = assert_problem(response, 422, "validation_failed")
    assert {key.split(".")[0] for key in body["errors"]} == {"roles"}


@pytest.mark.parametrize(
    "changes", [{"active": False}, {"roles": ["engineer"]}, {"roles": []}], ids=str
)
def test_removing_the_last_active_admin_is_409(admin_program, ours, make_user, changes):
    admin = make_user(member=ours, roles=("admin",))
    make_user(member=ours, roles=("engineer",))

    response = admin_program.patch(f"/api/v1/users/{admin.id}", json=changes)

    assert_problem(response, 409, "conflict")
    admin = fresh(admin)
    assert admin.active is True
    assert admin.roles == ["admin"]


def test_an_inactive_admin_does_not_count_as_another_admin(admin_program, ours, make_user):
    admin = make_user(member=ours, roles=("admin",))
    dormant = make_user(member=ours, roles=("admin",))
    stood_down = admin_program.patch(f"/api/v1/users/{dormant.id}", json={"active": False})
    assert stood_down.status_code == 200

    response = admin_program.patch(f"/api/v1/users/{admin.id}", json={"active": False})

    assert_problem(response, 409, "conflict")


def test_an_admin_may_step_down_when_another_admin_remains(admin_program, ours, make_user):
    admin = make_user(member=ours, roles=("admin",))
    make_user(member=ours, roles=("admin",))

    response = admin_program.patch(f"/api/v1/users/{admin.id}", json={"roles": ["engineer"]})

    assert response.status_code == 200, response.get_data(as_text=True)
    assert fresh(admin).roles == ["engineer"]


def test_an_admin_program_edits_its_own_members_profile(admin_program, ours):
    response = admin_program.patch(
        f"/api/v1/members/{ours.slug}",
        json={
            "name": "Ours Renamed",
            "website": "https://ours.example",
            "support_contact_name": "Desk",
            "support_contact_email": "desk@ours.example",
        },
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["name"] == "Ours Renamed"
    assert response.json["support_contact"]["email"] == "desk@ours.example"
    assert fresh(ours).website == "https://ours.example"


@pytest.mark.parametrize("field", ["tier", "status", "slug"])
def test_a_member_admin_cannot_change_tier_status_or_slug(admin_program, ours, field):
    response = admin_program.patch(f"/api/v1/members/{ours.slug}", json={field: "premier"})

    body = assert_problem(response, 422, "validation_failed")
    assert set(body["errors"]) == {field}
    ours = fresh(ours)
    assert (ours.tier, ours.status) == ("standard", "active")


def test_an_admin_program_registers_a_client_whose_secret_works(client, admin_program, ours):
    created = admin_program.post(
        f"/api/v1/members/{ours.slug}/clients",
        json={"name": "ServiceNow", "scopes": ["cases:read"]},
    )

    assert created.status_code == 201, created.get_data(as_text=True)
    client_id, secret = created.json["client_id"], created.json["client_secret"]
    token = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic_auth(client_id, secret),
    )
    assert token.status_code == 200
    assert token.json["scope"] == "cases:read"

    listed = admin_program.get(f"/api/v1/members/{ours.slug}/clients")
    assert listed.status_code == 200
    (entry,) = [c for c in listed.json if c["client_id"] == client_id]
    assert "client_secret" not in entry
    assert entry["scopes"] == ["cases:read"]
    shown = admin_program.get(f"/api/v1/clients/{client_id}")
    assert shown.status_code == 200
    assert "client_secret" not in shown.json


# -- people with sessions ---------------------------------------------------------------------


def test_an_engineer_cannot_create_users(client, make_user, login):
    engineer = make_user(roles=("engineer",))
    login(engineer)

    response = client.post(
        f"/api/v1/members/{engineer.member.slug}/users",
        json={"email": "friend@x.example", "name": "Friend"},
        headers={"X-CSRFToken": page_csrf_token(client)},
    )

    # Engineers do not hold members:admin, so the scope check refuses before any role rule.
    assert_problem(response, 403, "insufficient_scope")
    assert db.session.scalar(select(User).where(User.email == "friend@x.example")) is None


def test_an_engineer_cannot_give_themselves_roles(client, make_user, login):
    engineer = make_user(roles=("engineer",))
    login(engineer)

    response = client.patch(
        f"/api/v1/users/{engineer.id}",
        json={"roles": ["admin"]},
        headers={"X-CSRFToken": page_csrf_token(client)},
    )

    assert_problem(response, 403, "insufficient_scope")
    assert fresh(engineer).roles == ["engineer"]


def test_an_engineer_cannot_edit_a_colleague(client, make_user, login):
    engineer = make_user(roles=("engineer",))
    colleague = make_user(member=engineer.member, roles=("engineer",), name="Colleague")
    login(engineer)

    response = client.patch(
        f"/api/v1/users/{colleague.id}",
        json={"name": "Renamed"},
        headers={"X-CSRFToken": page_csrf_token(client)},
    )

    assert_problem(response, 403, "insufficient_scope")
    assert fresh(colleague).name == "Colleague"


def test_an_engineer_edits_their_own_name_phone_and_time_zone(client, make_user, login):
    engineer = make_user(roles=("engineer",))
    login(engineer)

    response = client.patch(
        f"/api/v1/users/{engineer.id}",
        json={"name": "New Name", "phone": "+1 555 0100", "time_zone": "America/Chicago"},
        headers={"X-CSRFToken": page_csrf_token(client)},
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    engineer = fresh(engineer)
    assert (engineer.name, engineer.phone, engineer.time_zone) == (
        "New Name",
        "+1 555 0100",
        "America/Chicago",
    )


def test_an_engineer_sees_their_own_members_users(client, make_user, login):
    engineer = make_user(roles=("engineer",))
    colleague = make_user(member=engineer.member)
    login(engineer)

    response = client.get(f"/api/v1/members/{engineer.member.slug}/users")

    assert response.status_code == 200
    assert {u["id"] for u in response.json} == {engineer.id, colleague.id}


def test_a_signed_in_admin_manages_users(client, make_user, login):
    admin = make_user(roles=("admin",))
    engineer = make_user(member=admin.member, roles=("engineer",))
    login(admin)
    csrf = {"X-CSRFToken": page_csrf_token(client)}

    created = client.post(
        f"/api/v1/members/{admin.member.slug}/users",
        json={"email": "hire@x.example", "name": "Hire"},
        headers=csrf,
    )
    promoted = client.patch(f"/api/v1/users/{engineer.id}", json={"roles": ["admin"]}, headers=csrf)
    stepped_down = client.patch(
        f"/api/v1/users/{admin.id}", json={"roles": ["engineer"]}, headers=csrf
    )

    assert created.status_code == 201, created.get_data(as_text=True)
    assert promoted.status_code == 200, promoted.get_data(as_text=True)
    assert stepped_down.status_code == 200, stepped_down.get_data(as_text=True)
    assert fresh(engineer).roles == ["admin"]


def test_a_signed_in_last_admin_cannot_step_down(client, make_user, login):
    admin = make_user(roles=("admin",))
    login(admin)

    response = client.patch(
        f"/api/v1/users/{admin.id}",
        json={"active": False},
        headers={"X-CSRFToken": page_csrf_token(client)},
    )

    assert_problem(response, 409, "conflict")
    assert fresh(admin).active is True


# -- the directory ----------------------------------------------------------------------------


@pytest.fixture()
def directory(make_member):
    return {
        m.slug: m
        for m in (
            make_member("acme", "Acme Storage"),
            make_member("globex", "Globex Corporation"),
            make_member("initech", "Initech"),
            make_member("uptime", "100% Uptime Ltd"),
        )
    }


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("acme", {"acme"}),
        ("ACME", {"acme"}),
        ("stOR", {"acme"}),
        ("corporation", {"globex"}),
        ("lobe", {"globex"}),
        ("  initech  ", {"initech"}),
        ("e", {"acme", "globex", "initech", "uptime"}),
        ("nobody", set()),
        ("%", {"uptime"}),
        ("_", set()),
    ],
)
def test_the_directory_searches_name_or_slug_case_insensitively(api, directory, q, expected):
    response = api().get("/api/v1/members", query_string={"q": q})

    assert response.status_code == 200, response.get_data(as_text=True)
    found = {m["slug"] for m in response.json["items"]} & set(directory)
    assert found == expected


def _walk(program, first_url, *, by):
    seen, url, pages = [], first_url, 0
    while url:
        response = program.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.json
        assert len(body["items"]) <= 1
        seen += [m["slug"] for m in body["items"]]
        pages += 1
        assert pages < 100, "the walk does not end"
        if by == "cursor":
            assert (body["next"] is None) == (body["next_cursor"] is None)
            url = body["next_cursor"] and f"{first_url}&cursor={body['next_cursor']}"
        else:
            url = body["next"]
    return seen


@pytest.mark.parametrize("by", ["cursor", "next"])
def test_cursor_pagination_walks_every_member_exactly_once(make_member, api, by):
    # Names chosen to trip a Python-vs-database lowercase mismatch (SQLite folds ASCII only)
    # and equal lowercase names (ties broken by id).
    for slug, name in [
        ("elan", "\u00c9lan Systems"),
        ("ezra", "\u00c9zra Labs"),
        ("emile", "\u00e9mile"),
        ("zeta", "zeta"),
        ("zeta-two", "ZETA"),
        ("alpha", "Alpha"),
        ("beta", "beta"),
    ]:
        make_member(slug, name)
    program = api()
    everyone = set(db.session.scalars(select(Member.slug)))

    seen = _walk(program, "/api/v1/members?limit=1", by=by)

    assert len(seen) == len(set(seen)), f"repeated: {seen}"
    assert set(seen) == everyone


def test_the_next_link_keeps_the_search_and_the_page_size(make_member, api):
    for n in range(3):
        make_member(f"needle{n}", f"Needle {n}")
    make_member("hay", "Hay")
    program = api()

    first = program.get("/api/v1/members?q=needle&limit=2")

    assert first.status_code == 200
    assert len(first.json["items"]) == 2
    assert first.json["next"].startswith("http://exchange.test/api/v1/members?")
    assert "q=needle" in first.json["next"]
    assert "limit=2" in first.json["next"]
    second = program.get(first.json["next"])
    assert [m["slug"] for m in second.json["items"]] == ["needle2"]
    assert second.json["next"] is None
    assert second.json["next_cursor"] is None


def test_an_invalid_cursor_is_422_naming_cursor(api, directory):
    response = api().get("/api/v1/members?cursor=not-a-cursor")

    body = assert_problem(response, 422, "validation_failed")
    assert set(body["errors"]) == {"cursor"}


def test_an_unknown_member_is_404_not_found(api):
    assert_problem(api().get("/api/v1/members/no-such-member"), 404, "not_found")


def test_a_members_profile(api, make_member):
    member = make_member("profiled", "Profiled Inc", tier="premier", description="We fix things.")

    response = api().get("/api/v1/members/profiled")

    assert response.status_code == 200
    body = response.json
    assert body["slug"] == member.slug
    assert body["tier"] == "premier"
    assert body["description"] == "We fix things."
    assert body["status"] == "active"
    assert body["email_domains"] == ["profiled.example"]
