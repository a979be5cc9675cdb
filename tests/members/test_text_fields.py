"""One-line fields of members, people, products, programs and contacts refuse control
characters (a line break in a name ends up in a mail header), and e-mail addresses are
one plain address, at every entrance: the API, the services the pages call, the CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from exchange.db import db, transaction
from exchange.errors import ValidationFailed
from exchange.members import service
from exchange.members.models import Member, User

BAD_EMAILS = [
    "not-an-email",
    "pat@acme.example\nBcc: all@evil.example",
    "pat@acme.example\r",
    "Bob <bob@evil.example>, x@acme.example",
    "pat@acme.example, x@acme.example",
]
BAD_LINES = ["Pat\nEngineer", "Pat\r\nBcc: x@evil.example", "Pat\tE", "Pat\u2028E", "Pat\x85E"]
BLANK_NAMES = ["   ", "\u200b\u200d"]


@pytest.fixture()
def admin_program(api, make_member):
    return api(make_member(), scopes=("directory:read", "members:admin", "processes:write"))


def _users() -> int:
    return db.session.scalar(select(func.count(User.id)))


def _post_user(program, **body):
    slug = program.get("/api/v1/me").json["member"]["slug"]
    return program.post(f"/api/v1/members/{slug}/users", json={"email": "p@x.example", **body})


@pytest.mark.parametrize("email", BAD_EMAILS)
def test_the_api_refuses_a_bad_address_at_its_field(admin_program, email):
    before = _users()
    response = _post_user(admin_program, email=email, name="Pat")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert list(response.json["errors"]) == ["email"]
    assert _users() == before


@pytest.mark.parametrize("name", BAD_LINES + BLANK_NAMES)
def test_the_api_refuses_a_name_that_is_not_one_visible_line(admin_program, name):
    response = _post_user(admin_program, name=name)
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["name"]


def test_a_person_cannot_be_renamed_over_several_lines(admin_program):
    created = _post_user(admin_program, name="Pat").json
    response = admin_program.patch(f"/api/v1/users/{created['id']}", json={"name": "Pat\nX"})
    assert response.status_code == 422 and list(response.json["errors"]) == ["name"]
    response = admin_program.patch(f"/api/v1/users/{created['id']}", json={"phone": "+1\n2"})
    assert response.status_code == 422 and list(response.json["errors"]) == ["phone"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Acme\nCorp"),
        ("support_contact_name", "Sam\rSupport"),
        ("support_contact_email", "Bob <bob@evil.example>, x@acme.example"),
        ("support_contact_phone", "+1\t555"),
        ("email_domains", ["acme.example\nevil.example"]),
    ],
)
def test_the_member_profile_refuses_several_lines(admin_program, field, value):
    slug = admin_program.get("/api/v1/me").json["member"]["slug"]
    response = admin_program.patch(f"/api/v1/members/{slug}", json={field: value})
    assert response.status_code == 422
    assert [key.split(".")[0] for key in response.json["errors"]] == [field]


def test_product_and_program_names_are_single_lines(admin_program):
    slug = admin_program.get("/api/v1/me").json["member"]["slug"]
    product = admin_program.post(f"/api/v1/members/{slug}/products", json={"name": "Array\nOS"})
    assert product.status_code == 422 and list(product.json["errors"]) == ["name"]
    client = admin_program.post(
        f"/api/v1/members/{slug}/clients", json={"name": "tracker\n", "scopes": ["cases:read"]}
    )
    assert client.status_code == 422 and list(client.json["errors"]) == ["name"]


@pytest.mark.parametrize(("field", "value"), [("email", BAD_EMAILS[3]), ("name", BAD_LINES[1])])
def test_the_service_itself_refuses_them_for_every_caller(make_member, field, value):
    member = make_member()
    values = {"email": "p@x.example", "name": "Pat", field: value}
    with pytest.raises(ValidationFailed) as caught, transaction():
        service.create_user(member=member, **values)
    assert list(caught.value.errors) == [field]


def test_the_cli_refuses_a_name_over_several_lines(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-member", "--slug", "hooli", "--name", "Hooli\nInc"])
    assert result.exit_code != 0 and "name" in result.output
    assert db.session.scalar(select(func.count(Member.id)).where(Member.slug == "hooli")) == 0
    runner.invoke(args=["create-member", "--slug", "hooli", "--name", "Hooli"])
    for email, name in [(BAD_EMAILS[3], "Pat"), ("pat@hooli.example", "Pat\nX")]:
        result = runner.invoke(
            args=[
                "create-user",
                "--member",
                "hooli",
                "--email",
                email,
                "--name",
                name,
                "--password",
                "a long and unusual pass phrase",
            ]
        )
        assert result.exit_code != 0, result.output
    assert db.session.scalar(select(func.count(User.id)).where(User.email.like("%hooli%"))) == 0
    result = runner.invoke(
        args=["create-client", "--member", "hooli", "--name", "x\ny", "--scopes", "cases:read"]
    )
    assert result.exit_code != 0 and "name" in result.output


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Sam\nSupport"),
        ("name", "\u200b"),
        ("email", "Bob <bob@evil.example>, x@acme.example"),
        ("phone", "+1\r555"),
    ],
)
def test_a_contacts_fields_are_single_lines(admin_program, field, value):
    slug = admin_program.get("/api/v1/me").json["member"]["slug"]
    body = {"name": "Sam Support", "role": "support_manager", field: value}
    response = admin_program.post(f"/api/v1/members/{slug}/contacts", json=body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert list(response.json["errors"]) == [field]
