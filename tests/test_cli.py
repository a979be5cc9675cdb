"""The operator's `exchange` commands."""

import json

from exchange.demo import load_demo
from exchange.members import service
from tests.conftest import basic_auth


def test_create_member_user_and_client_then_fetch_a_token(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-member", "--slug", "hooli", "--name", "Hooli"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["slug"] == "hooli"

    result = runner.invoke(
        args=[
            "create-user",
            "--member",
            "hooli",
            "--email",
            "Gavin@Hooli.example",
            "--name",
            "Gavin",
            "--password",
            "a long password",
            "--roles",
            "admin,engineer",
        ]
    )
    assert result.exit_code == 0, result.output
    user = service.find_user_by_email(email="gavin@hooli.example")
    assert user.roles == ["admin", "engineer"] and user.check_password("a long password")

    result = runner.invoke(
        args=[
            "create-client",
            "--member",
            "hooli",
            "--name",
            "jira",
            "--scopes",
            "directory:read cases:read",
        ]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert set(body) == {"client_id", "client_secret", "scopes"}
    assert body["scopes"] == ["directory:read", "cases:read"]
    token = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic_auth(body["client_id"], body["client_secret"]),
    )
    assert token.status_code == 200
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json['access_token']}"})
    assert me.json["member"]["slug"] == "hooli"


def test_cli_refuses_bad_input_clearly(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-member", "--slug", "Bad Slug!", "--name", "X"])
    assert result.exit_code != 0 and "slug" in result.output
    result = runner.invoke(
        args=["create-client", "--member", "nobody", "--name", "x", "--scopes", "directory:read"]
    )
    assert result.exit_code != 0 and "No member" in result.output
    runner.invoke(args=["create-member", "--slug", "dup", "--name", "Dup"])
    result = runner.invoke(args=["create-member", "--slug", "dup", "--name", "Dup"])
    assert result.exit_code != 0 and "exists" in result.output
    result = runner.invoke(
        args=["create-client", "--member", "dup", "--name", "x", "--scopes", "everything"]
    )
    assert result.exit_code != 0 and "Unknown scope" in result.output
    result = runner.invoke(
        args=[
            "create-user",
            "--member",
            "dup",
            "--email",
            "a@dup.example",
            "--name",
            "A",
            "--password",
            "short",
        ]
    )
    assert result.exit_code != 0 and "12 characters" in result.output
    assert service.find_user_by_email(email="a@dup.example") is None


def test_demo_data_is_idempotent(app):
    first = load_demo()
    assert "acme" in first and "gustav@globex.example" in first
    assert load_demo() == "nothing to do (all present)"
    assert load_demo(only_if_empty=True).startswith("skipped")
    for slug in ("acme", "globex", "initech"):
        users = service.get_member(slug=slug).users
        roles = sorted(r for u in users for r in u.roles)
        assert roles == ["admin", "engineer", "engineer", "escalation_manager"]
    admin = service.find_user_by_email(email="admin@acme.example")
    assert admin.check_password(app.config["DEMO_PASSWORD"])


def test_demo_command_first_start(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--first-start"])
    assert result.exit_code == 0, result.output
    assert service.get_member(slug="globex")
    result = runner.invoke(args=["demo", "--first-start"])
    assert "skipped" in result.output
