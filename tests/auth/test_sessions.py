"""A session ends on the server, not only in the browser: the session cookie is signed,
not stored, so a copy of it (a stolen cookie, a shared computer) would work as long as
it is valid. Each person has a session generation, kept in the session at sign-in and
checked on every request; sign-out, a password change and deactivation move it on."""

from __future__ import annotations

from exchange.auth import invitations
from tests.conftest import PASSWORD, browser_sign_in, csrf_token_from

ME = "/api/v1/me"
NEW_PASSWORD = "a much longer pass phrase 42"


def _cookie(http) -> str:
    return http.get_cookie("session", domain="exchange.test").value


def _replay(app, cookie: str):
    """Another browser holding a copy of the cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie, domain="exchange.test")
    return other


def _signed_in(http) -> bool:
    status = http.get(ME).status_code
    assert status in (200, 401)
    return status == 200


def test_a_copied_cookie_is_signed_out_with_its_session(app, make_user):
    person = make_user()
    browser = browser_sign_in(app, person.email, PASSWORD)
    copy = _cookie(browser.http)
    assert _signed_in(_replay(app, copy))

    response = browser.http.post("/logout", data={"csrf_token": browser.csrf_token})
    assert response.status_code == 302

    assert not _signed_in(browser.http)
    assert not _signed_in(_replay(app, copy))


def test_a_password_change_ends_the_other_sessions(app, make_user):
    person = make_user()
    elsewhere = browser_sign_in(app, person.email, PASSWORD)
    copy = _cookie(elsewhere.http)

    # The person chooses a new password through a set-password link, in another browser.
    with app.test_request_context():
        link = invitations.link_for(person)
    here = app.test_client()
    path = "/set-password/" + link.rsplit("/set-password/", 1)[1]
    page = here.get(path)
    response = here.post(
        path,
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)

    assert _signed_in(here)  # the session that changed it goes on, renewed
    assert not _signed_in(elsewhere.http)
    assert not _signed_in(_replay(app, copy))


def test_deactivation_ends_the_session_even_after_reactivation(app, make_user):
    admin = make_user(roles=("admin",))
    person = make_user(member=admin.member)
    browser = browser_sign_in(app, person.email, PASSWORD)
    copy = _cookie(browser.http)

    admin_browser = browser_sign_in(app, admin.email, PASSWORD)
    for active in ("0", "1"):
        response = admin_browser.http.post(
            f"/admin/users/{person.id}/active",
            data={"active": active, "csrf_token": admin_browser.csrf_token},
        )
        assert response.status_code == 302

    assert person.active
    assert not _signed_in(browser.http)
    assert not _signed_in(_replay(app, copy))
    # Signing in again works, with a new session.
    assert _signed_in(browser_sign_in(app, person.email, PASSWORD).http)


def test_sign_in_starts_a_new_session(app, make_user):
    person = make_user()
    http = app.test_client()
    page = http.get("/login")
    with http.session_transaction() as session:
        session["planted"] = "by someone else"
    http.post(
        "/login",
        data={
            "email": person.email,
            "password": PASSWORD,
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
    )
    assert _signed_in(http)
    with http.session_transaction() as session:
        assert "planted" not in session


def test_a_suspension_ends_the_sessions_even_after_reinstatement(app, make_user):
    from exchange.db import transaction
    from exchange.members.service import set_member_status

    person = make_user()
    browser = browser_sign_in(app, person.email, PASSWORD)
    copy = _cookie(browser.http)
    for status in ("suspended", "active"):
        with transaction():
            set_member_status(member=person.member, status=status)
    assert not _signed_in(_replay(app, copy))
