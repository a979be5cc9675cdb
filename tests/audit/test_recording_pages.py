"""Every admin action a person takes on the admin pages writes exactly one audit entry
naming that person (kind ``person``, their e-mail, origin ``web``) and the target."""

from __future__ import annotations

import re

from exchange.members.models import User
from exchange.processes.models import Process
from tests.audit.conftest import post_form
from tests.web.test_admin_pages import form_fields

ALICE = "admin@acme.example"


def _check(entry, action: str, target_type: str, target_id=None) -> None:
    assert entry.action == action
    assert entry.target_type == target_type
    if target_id is not None:
        assert entry.target_id == str(target_id)
    assert (entry.actor_kind, entry.actor_label, entry.origin) == ("person", ALICE, "web")
    assert entry.actor_client_id is None and entry.actor_user_id is not None


def _redirected(response) -> None:
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]


def _user(email: str) -> User:
    from sqlalchemy import select

    from exchange.db import db

    return db.session.scalar(select(User).where(User.email == email))


def test_member_profile_and_users(audit, db_session):
    alice = audit.person(ALICE)
    acme = audit.member("acme")

    contact = acme.support_contact or {}
    fields = {
        "name": acme.name,
        "description": "Arrays, audited from the page.",
        "website": acme.website or "",
        "email_domains": "\n".join(acme.email_domains),
        "support_contact_name": contact.get("name") or "",
        "support_contact_email": contact.get("email") or "",
        "support_contact_phone": contact.get("phone") or "",
    }
    mark = audit.mark()
    _redirected(post_form(alice, "/admin/member", fields, page="/admin/member"))
    entry = audit.one_since(mark)
    _check(entry, "member.updated", "member", "acme")
    assert list(entry.changes) == ["description"]
    assert entry.member_id == acme.id

    mark = audit.mark()
    invited = post_form(
        alice,
        "/admin/users/invite",
        {
            "invite-email": "invited@acme.example",
            "invite-name": "Invited Person",
            "invite-time_zone": "UTC",
            "invite-roles": ["engineer"],
        },
        page="/admin/users",
    )
    assert invited.status_code == 200, invited.get_data(as_text=True)[:2000]
    link = re.search(r'<code id="one-time-secret">([^<]+)</code>', invited.get_data(as_text=True))
    audit.secrets += [link.group(1), link.group(1).rsplit("/", 1)[1]]
    person = _user("invited@acme.example")
    entry = audit.one_since(mark)
    _check(entry, "user.invited", "user", person.id)
    assert entry.changes["roles"] == ["engineer"]

    mark = audit.mark()
    resent = post_form(alice, f"/admin/users/{person.id}/invitation", {}, page="/admin/users")
    assert resent.status_code == 200
    link = re.search(r'<code id="one-time-secret">([^<]+)</code>', resent.get_data(as_text=True))
    audit.secrets += [link.group(1), link.group(1).rsplit("/", 1)[1]]
    _check(audit.one_since(mark), "user.invitation_resent", "user", person.id)

    mark = audit.mark()
    edit = {"roles": ["engineer", "escalation_manager"], "active": "y"}
    _redirected(post_form(alice, f"/admin/users/{person.id}", edit, page="/admin/users"))
    entry = audit.one_since(mark)
    _check(entry, "user.role_changed", "user", person.id)
    assert entry.changes == {
        "roles": {"from": ["engineer"], "to": ["engineer", "escalation_manager"]}
    }

    mark = audit.mark()
    _redirected(
        post_form(alice, f"/admin/users/{person.id}/active", {"active": "0"}, page="/admin/users")
    )
    _check(audit.one_since(mark), "user.deactivated", "user", person.id)
    mark = audit.mark()
    _redirected(
        post_form(alice, f"/admin/users/{person.id}/active", {"active": "1"}, page="/admin/users")
    )
    _check(audit.one_since(mark), "user.reactivated", "user", person.id)

    password = "a password the admin chose"
    audit.secrets.append(password)
    mark = audit.mark()
    added = post_form(
        alice,
        "/admin/users",
        {
            "email": "added@acme.example",
            "name": "Added Person",
            "time_zone": "UTC",
            "roles": ["engineer"],
            "password": password,
        },
        page="/admin/users",
    )
    _redirected(added)
    _check(audit.one_since(mark), "user.created", "user", _user("added@acme.example").id)
    audit.assert_no_secret_anywhere()


def test_clients(audit, db_session):
    alice = audit.person(ALICE)
    mark = audit.mark()
    created = post_form(
        alice, "/admin/clients", {"name": "Jira", "scopes": ["cases:read"]}, page="/admin/clients"
    )
    assert created.status_code == 201, created.get_data(as_text=True)[:2000]
    entry = audit.one_since(mark)
    _check(entry, "client.created", "client")
    assert entry.changes == {"name": "Jira", "scopes": ["cases:read"]}
    page = created.get_data(as_text=True)
    audit.secrets += re.findall(r'<code id="one-time-secret">([^<]+)</code>', page)

    mark = audit.mark()
    revoke = f"/admin/clients/{entry.target_id}/revoke"
    _redirected(post_form(alice, revoke, {}, page="/admin/clients"))
    _check(audit.one_since(mark), "client.revoked", "client", entry.target_id)
    audit.assert_no_secret_anywhere()


def test_webhook_endpoints(audit, db_session):
    alice = audit.person(ALICE)
    mark = audit.mark()
    created = post_form(
        alice,
        "/admin/webhooks",
        {
            "url": "https://8.8.4.4/in?key=page-query-key",
            "event_types": ["case.*"],
            "enabled": "y",
        },
        page="/admin/webhooks",
    )
    assert created.status_code == 201, created.get_data(as_text=True)[:2000]
    audit.secrets.append("page-query-key")
    audit.secrets += re.findall(r"whsec_[A-Za-z0-9+/=]+", created.get_data(as_text=True))
    entry = audit.one_since(mark)
    _check(entry, "endpoint.created", "endpoint")
    assert entry.changes["url"] == "https://8.8.4.4/in?key=[redacted]"
    endpoint_id = entry.target_id
    page = f"/admin/webhooks/{endpoint_id}"

    fields = form_fields(alice.http.get(page).get_data(as_text=True), "endpoint-form")
    fields["description"] = ["Jira connector"]
    mark = audit.mark()
    _redirected(post_form(alice, page, fields, page=page))
    entry = audit.one_since(mark)
    _check(entry, "endpoint.updated", "endpoint", endpoint_id)
    assert entry.changes == {"description": {"from": "", "to": "Jira connector"}}

    mark = audit.mark()
    _redirected(post_form(alice, page + "/enabled", {"enabled": "0"}, page=page))
    entry = audit.one_since(mark)
    _check(entry, "endpoint.updated", "endpoint", endpoint_id)
    assert entry.changes == {"enabled": {"from": True, "to": False}}

    mark = audit.mark()
    rotated = post_form(alice, page + "/rotate", {"grace_seconds": "60"}, page=page)
    assert rotated.status_code == 200, rotated.get_data(as_text=True)[:2000]
    audit.secrets += re.findall(r"whsec_[A-Za-z0-9+/=]+", rotated.get_data(as_text=True))
    entry = audit.one_since(mark)
    _check(entry, "endpoint.secret_rotated", "endpoint", endpoint_id)
    assert entry.changes == {"grace_seconds": 60}

    mark = audit.mark()
    _redirected(post_form(alice, page + "/delete", {}, page=page))
    _check(audit.one_since(mark), "endpoint.deleted", "endpoint", endpoint_id)
    audit.assert_no_secret_anywhere()


def test_contacts_and_processes(audit, db_session):
    from sqlalchemy import select

    from exchange.db import db

    alice = audit.person(ALICE)
    mark = audit.mark()
    _redirected(
        post_form(
            alice,
            "/admin/contacts",
            {"name": "Night Desk", "role": "support_manager", "time_zone": "UTC"},
            page="/admin/contacts",
        )
    )
    entry = audit.one_since(mark)
    _check(entry, "contact.created", "contact")
    url = f"/admin/contacts/{entry.target_id}"

    mark = audit.mark()
    edit = {"name": "Night Desk", "role": "escalation_manager", "time_zone": "UTC"}
    _redirected(post_form(alice, url, edit, page=url))
    entry = audit.one_since(mark)
    _check(entry, "contact.updated", "contact")
    assert entry.changes["role"] == {"from": "support_manager", "to": "escalation_manager"}

    mark = audit.mark()
    _redirected(post_form(alice, url + "/retire", {}, page=url))
    _check(audit.one_since(mark), "contact.removed", "contact")

    mark = audit.mark()
    created = post_form(
        alice,
        "/admin/processes",
        {"name": "Audited process", "standard_severities": "y"},
        page="/admin/processes",
    )
    _redirected(created)
    process = db.session.scalar(select(Process).where(Process.name == "Audited process"))
    _check(audit.one_since(mark), "process.created", "process", process.id)

    draft = f"/admin/processes/{process.id}/draft"
    fields = form_fields(alice.http.get(draft).get_data(as_text=True), "draft-form")
    mark = audit.mark()
    _redirected(post_form(alice, draft, {**fields, "action": ["publish"]}, page=draft))
    entry = audit.one_since(mark)
    _check(entry, "process.published", "process", process.id)
    assert entry.changes["version"] == 1
