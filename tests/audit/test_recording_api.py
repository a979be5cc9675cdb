"""Every admin action a program takes over the API writes exactly one audit entry, in
its member's log, naming the program (kind, label, client id, origin) and the target."""

from __future__ import annotations

import pytest

from exchange.auth import service as auth_service
from exchange.auth.actor import actor_for_user
from exchange.db import transaction

STANDARD = {"name": "Acme audit process", "severities": [{"key": "1", "name": "Down"}]}


def _check(entry, program, member, action: str, target_type: str, target_id) -> None:
    assert entry.member_id == member.id
    assert entry.action == action
    assert (entry.target_type, entry.target_id) == (target_type, str(target_id))
    assert entry.actor_kind == "program"
    assert entry.actor_label == f"{program.name} (program)"
    assert entry.actor_client_id == program.client_id
    assert entry.origin == f"client:{program.client_id}"
    assert entry.actor_user_id is None


def _ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


def test_member_and_user_actions(audit, db_session):
    acme = audit.member("acme")
    program = audit.program("acme")
    api = program.api

    mark = audit.mark()
    _ok(api.patch("/api/v1/members/acme", json={"description": "Arrays, audited."}))
    entry = audit.one_since(mark)
    _check(entry, program, acme, "member.updated", "member", "acme")
    assert entry.changes["description"]["to"] == "Arrays, audited."

    password = "a new person's password"
    audit.secrets.append(password)
    mark = audit.mark()
    user = _ok(
        api.post(
            "/api/v1/members/acme/users",
            json={
                "email": "new.hire@acme.example",
                "name": "New Hire",
                "roles": ["engineer"],
                "password": password,
            },
        ),
        201,
    )
    entry = audit.one_since(mark)
    _check(entry, program, acme, "user.created", "user", user["id"])
    assert entry.changes == {
        "email": "new.hire@acme.example",
        "name": "New Hire",
        "roles": ["engineer"],
    }
    assert entry.target_label == "new.hire@acme.example"

    mark = audit.mark()
    _ok(api.patch(f"/api/v1/users/{user['id']}", json={"roles": ["escalation_manager"]}))
    entry = audit.one_since(mark)
    _check(entry, program, acme, "user.role_changed", "user", user["id"])
    assert entry.changes == {"roles": {"from": ["engineer"], "to": ["escalation_manager"]}}

    mark = audit.mark()
    _ok(api.patch(f"/api/v1/users/{user['id']}", json={"active": False}))
    entry = audit.one_since(mark)
    _check(entry, program, acme, "user.deactivated", "user", user["id"])
    mark = audit.mark()
    _ok(api.patch(f"/api/v1/users/{user['id']}", json={"active": True}))
    _check(audit.one_since(mark), program, acme, "user.reactivated", "user", user["id"])

    # A change that changes nothing records nothing.
    mark = audit.mark()
    _ok(api.patch(f"/api/v1/users/{user['id']}", json={"active": True}))
    assert audit.since(mark) == []
    audit.assert_no_secret_anywhere()


def test_client_actions(audit, db_session):
    acme = audit.member("acme")
    program = audit.program("acme")

    mark = audit.mark()
    created = _ok(
        program.api.post(
            "/api/v1/members/acme/clients", json={"name": "ServiceNow", "scopes": ["cases:read"]}
        ),
        201,
    )
    audit.secrets.append(created["client_secret"])
    entry = audit.one_since(mark)
    _check(entry, program, acme, "client.created", "client", created["client_id"])
    assert entry.changes == {"name": "ServiceNow", "scopes": ["cases:read"]}

    mark = audit.mark()
    _ok(program.api.delete(f"/api/v1/clients/{created['client_id']}"))
    _check(audit.one_since(mark), program, acme, "client.revoked", "client", created["client_id"])
    audit.assert_no_secret_anywhere()


def test_endpoint_actions(audit, db_session):
    acme = audit.member("acme")
    program = audit.program("acme")
    api = program.api
    url = "https://8.8.8.8/hooks?token=receiver-query-token&tenant=acme"
    audit.secrets.append("receiver-query-token")

    mark = audit.mark()
    endpoint = _ok(
        api.post("/api/v1/webhooks/endpoints", json={"url": url, "event_types": ["case.*"]}), 201
    )
    audit.secrets.append(endpoint["secret"])
    entry = audit.one_since(mark)
    _check(entry, program, acme, "endpoint.created", "endpoint", endpoint["id"])
    assert entry.changes["url"] == "https://8.8.8.8/hooks?token=[redacted]&tenant=[redacted]"
    assert entry.changes["event_types"] == ["case.*"]

    mark = audit.mark()
    path = f"/api/v1/webhooks/endpoints/{endpoint['id']}"
    _ok(api.patch(path, json={"description": "our tracker", "enabled": False}))
    entry = audit.one_since(mark)
    _check(entry, program, acme, "endpoint.updated", "endpoint", endpoint["id"])
    assert entry.changes == {
        "description": {"from": "", "to": "our tracker"},
        "enabled": {"from": True, "to": False},
    }

    mark = audit.mark()
    rotated = _ok(api.post(path + "/rotate-secret", json={"grace_seconds": 0}))
    audit.secrets.append(rotated["secret"])
    entry = audit.one_since(mark)
    _check(entry, program, acme, "endpoint.secret_rotated", "endpoint", endpoint["id"])
    assert entry.changes == {"grace_seconds": 0}

    mark = audit.mark()
    assert api.delete(path).status_code == 204
    _check(audit.one_since(mark), program, acme, "endpoint.deleted", "endpoint", endpoint["id"])
    audit.assert_no_secret_anywhere()


def test_process_and_contact_actions(audit, db_session):
    acme = audit.member("acme")
    program = audit.program("acme")
    api = program.api

    mark = audit.mark()
    process = _ok(api.post("/api/v1/members/acme/processes", json=STANDARD), 201)
    _check(audit.one_since(mark), program, acme, "process.created", "process", process["id"])

    mark = audit.mark()
    _ok(api.post(f"/api/v1/processes/{process['id']}/publish", json={}), 201)
    entry = audit.one_since(mark)
    _check(entry, program, acme, "process.published", "process", process["id"])
    assert entry.changes["version"] == 1 and entry.target_label == STANDARD["name"]

    mark = audit.mark()
    contact = _ok(
        api.post(
            "/api/v1/members/acme/contacts",
            json={"name": "Duty Desk", "role": "support_manager", "email": "duty@acme.example"},
        ),
        201,
    )
    entry = audit.one_since(mark)
    _check(entry, program, acme, "contact.created", "contact", contact["id"])
    assert entry.changes["name"] == "Duty Desk"

    mark = audit.mark()
    _ok(
        api.patch(
            f"/api/v1/contacts/{contact['id']}",
            json={"name": "Duty Desk 24x7", "user": "ed@acme.example"},
        )
    )
    entry = audit.one_since(mark)
    _check(entry, program, acme, "contact.updated", "contact", contact["id"])
    assert entry.changes == {
        "name": {"from": "Duty Desk", "to": "Duty Desk 24x7"},
        "user": {"from": None, "to": "ed@acme.example"},
    }

    mark = audit.mark()
    assert api.delete(f"/api/v1/contacts/{contact['id']}").status_code == 204
    _check(audit.one_since(mark), program, acme, "contact.removed", "contact", contact["id"])


def test_a_person_calling_the_api_is_recorded_as_that_person(audit, db_session):
    acme = audit.member("acme")
    alice = audit.person("admin@acme.example")
    ed = next(u for u in acme.users if u.email == "ed@acme.example")
    mark = audit.mark()
    response = alice.patch(f"/api/v1/users/{ed.id}", json={"roles": ["engineer", "admin"]})
    assert response.status_code == 200, response.get_data(as_text=True)
    entry = audit.one_since(mark)
    admin = next(u for u in acme.users if u.email == "admin@acme.example")
    assert (entry.action, entry.target_id) == ("user.role_changed", str(ed.id))
    assert (entry.actor_kind, entry.actor_label, entry.origin) == (
        "person",
        "admin@acme.example",
        "web",
    )
    assert entry.actor_user_id == admin.id and entry.actor_client_id is None


def test_own_settings_are_not_administration(audit, db_session):
    """A person changing their own name or notices is not an admin action."""
    ed = audit.person("ed@acme.example")
    me = ed.get("/api/v1/me").json["user"]
    mark = audit.mark()
    response = ed.patch(f"/api/v1/users/{me['id']}", json={"name": "Ed E.", "phone": "+1 555"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert audit.since(mark) == []


def test_an_entry_lives_and_dies_with_its_change(audit, db_session):
    """Written in the change's transaction: a change rolled back leaves no entry."""
    acme = audit.member("acme")
    alice = actor_for_user(next(u for u in acme.users if u.email == "admin@acme.example"))
    mark = audit.mark()
    with pytest.raises(RuntimeError), transaction():
        auth_service.create_client(actor=alice, member=acme, name="doomed", scopes=["cases:read"])
        assert [e.action for e in audit.since(mark)] == ["client.created"]
        raise RuntimeError("the request fails after the change")
    assert audit.since(mark) == []

    with transaction():
        auth_service.create_client(actor=alice, member=acme, name="kept", scopes=["cases:read"])
    assert [e.target_label for e in audit.since(mark)] == ["kept"]
