"""The sign-in, directory and user-administration pages, through real forms."""

import re

from exchange.db import transaction
from exchange.members import service
from tests.conftest import PASSWORD, csrf_token_from


def _post_form(client, url, data, page_url=None):
    token = csrf_token_from(client.get(page_url or url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def test_pages_need_a_signed_in_person(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_login_wrong_password_reveals_nothing(client, make_user):
    user = make_user()
    response = _post_form(client, "/login", {"email": user.email, "password": "wrong one!"})
    assert response.status_code == 422
    assert "wrong" in response.get_data(as_text=True)
    unknown = _post_form(client, "/login", {"email": "nobody@x.example", "password": "x" * 12})
    assert unknown.status_code == 422
    assert client.get("/").status_code == 302


def test_login_without_csrf_token_is_refused(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_login_then_dashboard_and_logout(client, make_user, make_member, login):
    member = make_member(name="Acme Storage")
    user = make_user(member=member, name="Ed Engineer")
    login(user)
    page = client.get("/").get_data(as_text=True)
    assert "Acme Storage" in page and "Ed Engineer" in page
    response = _post_form(client, "/logout", {}, page_url="/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_login_never_redirects_off_site(client, make_user):
    user = make_user()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]


def test_inactive_people_cannot_sign_in_and_are_signed_out(client, make_user, login):
    user = make_user(roles=["admin"])
    other = make_user(member=user.member, roles=["admin"])
    login(user)
    with transaction():
        user.active = False
    assert client.get("/").status_code == 302  # the live session ends at the next request
    response = _post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 422
    with transaction():
        service.set_member_status(member=other.member, status="suspended")
    response = _post_form(client, "/login", {"email": other.email, "password": PASSWORD})
    assert response.status_code == 422


def test_directory_search_and_profile(client, make_user, make_member, login):
    make_member(slug="globex", name="Globex Virtualization", support_contact_name="Greta")
    make_member(slug="initech", name="Initech Database")
    login(make_user())
    page = client.get("/directory?q=GLOB").get_data(as_text=True)
    assert "Globex Virtualization" in page and "Initech" not in page
    profile = client.get("/directory/globex").get_data(as_text=True)
    assert "Greta" in profile
    missing = client.get("/directory/nope", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "not_found" in missing.get_data(as_text=True)


def test_member_text_is_escaped(client, make_user, make_member, login):
    make_member(slug="evil", name="<script>alert(1)</script>")
    login(make_user())
    page = client.get("/directory").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_engineers_cannot_manage_users(client, make_user, login):
    login(make_user(roles=["engineer"]))
    assert client.get("/admin/users").status_code == 403


def test_admin_adds_edits_and_deactivates_users(client, make_user, login, db_session):
    admin = make_user(roles=["admin"])
    login(admin)
    response = _post_form(
        client,
        "/admin/users",
        {
            "email": "new.person@example.com",
            "name": "New Person",
            "time_zone": "Europe/Berlin",
            "roles": ["engineer", "escalation_manager"],
            "password": "a long password",
        },
    )
    assert response.status_code == 302
    new = service.find_user_by_email(email="new.person@example.com")
    assert new.member_id == admin.member_id
    assert new.roles == ["engineer", "escalation_manager"]
    assert new.check_password("a long password")

    duplicate = _post_form(
        client,
        "/admin/users",
        {
            "email": "new.person@example.com",
            "name": "Again",
            "time_zone": "UTC",
            "roles": ["engineer"],
        },
    )
    assert duplicate.status_code == 422
    assert "Already in use" in duplicate.get_data(as_text=True)

    bad_zone = _post_form(
        client,
        "/admin/users",
        {
            "email": "zone@example.com",
            "name": "Zone",
            "time_zone": "Mars/Olympus",
            "roles": ["engineer"],
        },
    )
    assert bad_zone.status_code == 422
    assert "Unknown IANA time zone" in bad_zone.get_data(as_text=True)

    _post_form(client, f"/admin/users/{new.id}", {"roles": ["engineer"]}, page_url="/admin/users")
    db_session.expire_all()
    assert new.roles == ["engineer"] and new.active is False


def test_admin_cannot_remove_the_last_admin(client, make_user, login, db_session):
    admin = make_user(roles=["admin"])
    login(admin)
    response = _post_form(
        client,
        f"/admin/users/{admin.id}",
        {"roles": ["engineer"], "active": "y"},
        page_url="/admin/users",
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert admin.roles == ["admin"]
    assert "without an active admin" in client.get("/admin/users").get_data(as_text=True)


def test_admin_cannot_edit_another_members_user(client, make_user, login, db_session):
    admin = make_user(roles=["admin"])
    stranger = make_user(roles=["engineer"])
    login(admin)
    _post_form(
        client,
        f"/admin/users/{stranger.id}",
        {"roles": ["admin"], "active": "y"},
        page_url="/admin/users",
    )
    db_session.expire_all()
    assert stranger.roles == ["engineer"]


def test_profile_shows_how_to_engage_within_visibility(client, login):
    from exchange.demo import load_demo

    load_demo()
    login(service.find_user_by_email(email="ed@acme.example"), password="exchange-demo")
    page = client.get("/directory/initech").get_data(as_text=True)
    assert "Initech database support" in page and "Severity 1: down situation" in page
    assert "Asia/Kolkata" in page and "Isha Manager" in page
    assert "Initech partner fast lane" not in page  # community-only process
    acme = client.get("/directory/acme").get_data(as_text=True)
    assert "obsolete" in acme and "5.4" in acme
    assert "<strong>array serial number</strong>" in acme  # Markdown rendered


def test_an_expired_session_returns_to_the_login_page_and_back(client, make_user):
    user = make_user()
    response = client.get("/cases?direction=inbound")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
    login_url = response.headers["Location"]
    token = csrf_token_from(client.get(login_url).get_data(as_text=True))
    back = client.post(
        login_url, data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert back.status_code == 302
    assert back.headers["Location"].endswith("/cases?direction=inbound")


def test_coverage_is_also_shown_in_the_viewers_time_zone(client, login):
    from exchange.demo import load_demo

    load_demo()
    login(service.find_user_by_email(email="ed@acme.example"), password="exchange-demo")
    page = client.get("/directory/globex").get_data(as_text=True)
    # Berlin 08:00-18:00 is 02:00-12:00 in New York (03:00-13:00 in the weeks when only
    # one of them has changed its clocks).
    assert "Your time (America/New_York)" in page
    assert re.search("Mon 0[23]:00\u20131[23]:00", page)
