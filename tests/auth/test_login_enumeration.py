"""The login form does the same work whether or not an account exists: the password is
checked against a hash of the configured method in every case (a dummy one when there
is no account, no password yet, or the account is inactive), so the answer's time says
nothing about who has an account. Counted, never timed."""

from __future__ import annotations

import pytest

from exchange.auth import passwords
from exchange.db import transaction
from tests.conftest import PASSWORD, csrf_token_from


@pytest.fixture()
def hash_checks(monkeypatch):
    """The methods of every password hash checked, through the seam the code uses."""
    seen: list[str] = []
    real = passwords.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        seen.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)

    monkeypatch.setattr(passwords, "check_password_hash", counting)
    return seen


def _sign_in(app, email: str, password: str):
    http = app.test_client()
    page = http.get("/login")
    return http.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
    )


def test_every_failed_sign_in_checks_one_hash_of_the_configured_method(app, make_user, hash_checks):
    method = app.config["PASSWORD_HASH_METHOD"]
    known = make_user()
    invited = make_user(password=None)
    inactive = make_user()
    with transaction():
        inactive.active = False

    for email, password in [
        (known.email, "a wrong password"),
        ("nobody@nowhere.example", "a wrong password"),
        (invited.email, "a wrong password"),
        (inactive.email, PASSWORD),
    ]:
        hash_checks.clear()
        response = _sign_in(app, email, password)
        assert response.status_code == 422
        assert hash_checks == [method], email

    hash_checks.clear()
    assert _sign_in(app, known.email, PASSWORD).status_code == 302
    assert hash_checks == [method]
