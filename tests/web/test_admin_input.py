"""The admin's user and invitation forms meet the API's rules: one plain e-mail address
(no display name, no list, no line break), one-line names, and never a word about
another member's people. Each refusal is shown at its field and adds nobody."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from exchange.db import db
from exchange.members.models import User
from tests.conftest import csrf_token_from

BAD_EMAILS = [
    "not-an-email",
    "pat@acme.example\nBcc: all@evil.example",
    "Bob <bob@evil.example>, x@acme.example",
]
# (form's route, the prefix of its field names)
FORMS = [("/admin/users", ""), ("/admin/users/invite", "invite-")]


@pytest.fixture()
def admin(make_user):
    return make_user(roles=["admin"], name="Ada Admin")


def _submit(client, url, prefix, **values):
    page = client.get("/admin/users").get_data(as_text=True)
    token = csrf_token_from(page)
    names = set(re.findall(r'name="([\w-]*csrf_token)"', page)) | {"csrf_token"}
    data = {
        f"{prefix}email": "pat@example.com",
        f"{prefix}name": "Pat Person",
        f"{prefix}time_zone": "UTC",
        f"{prefix}roles": ["engineer"],
        **{f"{prefix}{key}": value for key, value in values.items()},
        **dict.fromkeys(names, token),
    }
    return client.post(url, data=data)


def _field_errors(response, field_id: str) -> list[str]:
    page = response.get_data(as_text=True)
    found = re.findall(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', page)
    return [html.unescape(message) for message in found]


def _users() -> int:
    return db.session.scalar(select(func.count(User.id)))


@pytest.mark.parametrize(("url", "prefix"), FORMS)
@pytest.mark.parametrize("email", BAD_EMAILS)
def test_a_bad_address_is_refused_at_the_email_field(client, login, admin, url, prefix, email):
    login(admin)
    before = _users()
    response = _submit(client, url, prefix, email=email)
    assert response.status_code == 422
    assert _field_errors(response, f"{prefix}email") == ["Not a valid email address."]
    assert _users() == before


@pytest.mark.parametrize(("url", "prefix"), FORMS)
@pytest.mark.parametrize("name", ["Pat\nPerson", "Pat\r\nBcc: x@evil.example", "\u200b "])
def test_a_name_is_one_line_of_visible_text(client, login, admin, url, prefix, name):
    login(admin)
    before = _users()
    response = _submit(client, url, prefix, name=name)
    assert response.status_code == 422
    assert len(_field_errors(response, f"{prefix}name")) == 1
    assert _users() == before


@pytest.mark.parametrize(("url", "prefix"), FORMS)
def test_another_members_persons_address_is_refused_without_saying_whose(
    client, login, admin, make_member, make_user, url, prefix
):
    theirs = make_member(slug="globex", name="Globex")
    taken = make_user(member=theirs, email="greta@globex.example", name="Greta Globex")
    login(admin)
    before = _users()
    response = _submit(client, url, prefix, email=taken.email)
    assert response.status_code == 422
    assert _field_errors(response, f"{prefix}email") == [
        "This address cannot be used; choose another one."
    ]
    page = response.get_data(as_text=True)
    for secret in ("Already in use", "exists already", "Globex", "Greta"):
        assert secret not in page
    assert _users() == before
