"""The member admin's pages, driven through their real forms (with CSRF tokens): every
page is for admins only, each form's success changes what the service says, and an
invalid submission shows the server's message at its field and keeps what was typed."""

from __future__ import annotations

import html
import re
import time
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from exchange.auth import service as auth_service
from exchange.auth.actor import actor_for_user
from exchange.db import transaction
from exchange.members import service
from exchange.notifications.models import Message
from exchange.processes import service as processes
from exchange.webhooks import service as webhooks
from exchange.webhooks.models import Delivery
from tests.conftest import csrf_token_from

# -- helpers ----------------------------------------------------------------------------


def _text(response) -> str:
    return response.get_data(as_text=True)


def _post(client, url, data, page="/admin"):
    """POST ``data`` with a CSRF token taken from ``page``, under every name the page's
    forms give it (a prefixed form's is ``<prefix>-csrf_token``), as a browser would."""
    html = _text(client.get(page))
    token = csrf_token_from(html)
    names = set(re.findall(r'name="([\w-]*csrf_token)"', html)) | {"csrf_token"}
    return client.post(url, data={**data, **dict.fromkeys(names, token)})


class _FormReader(HTMLParser):
    """What a browser submits for the form with ``form_id`` (its buttons aside); the
    rows inside <template> elements (for JavaScript) are not part of it."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.in_template = form_id, False, 0
        self.values: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "template":
            self.in_template += 1
        if self.in_template or ("name" not in a and tag != "option"):
            return
        if tag == "input" and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.values.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], []

    def handle_endtag(self, tag):
        if tag == "template" and self.inside:
            self.in_template -= 1
        elif tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            chosen = [v for v, selected in self._options if selected] or [self._options[0][0]]
            self.values.append((self._select, chosen[0]))
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.values.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)


def form_fields(html: str, form_id: str) -> dict[str, list[str]]:
    reader = _FormReader(form_id)
    reader.feed(html)
    fields: dict[str, list[str]] = {}
    for name, value in reader.values:
        fields.setdefault(name, []).append(value)
    return fields


def _input_value(html: str, input_id: str) -> str:
    match = re.search(rf'<input[^>]*id="{re.escape(input_id)}"[^>]*>', html)
    assert match, f"no input {input_id}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


@pytest.fixture()
def admin(make_user):
    return make_user(roles=["admin"], name="Ada Admin", time_zone="Europe/Berlin")


@pytest.fixture()
def engineer(make_user, admin):
    return make_user(member=admin.member, roles=["engineer"], name="Ed Engineer")


@pytest.fixture()
def world(admin, make_member, make_user, app):
    """A little of everything, so every admin page has something to show."""
    actor = actor_for_user(admin)
    other = make_member(slug="globex", name="Globex")
    make_user(member=other, roles=["admin"], email="greta@globex.example")
    app.config["WEBHOOKS_ALLOW_PRIVATE_NETWORKS"] = False
    with transaction():
        contact = processes.create_contact(
            actor=actor,
            member=admin.member,
            data={"name": "Duty Manager", "role": "support_manager"},
        )
        process = processes.create_process(
            actor=actor,
            member=admin.member,
            content={
                "name": "Storage support",
                "severities": [{"key": "1", "name": "Down", "response_minutes": 60}],
            },
        )
        processes.publish(actor=actor, process=process)
        product = service.products.create_product(
            actor=actor,
            member=admin.member,
            name="Array",
            versions=[{"version": "5.0", "release_date": date(2020, 1, 1)}],
        )
        community = service.communities.create_community(actor=actor, slug="storage", name="S")
        endpoint, _ = webhooks.create_endpoint(
            actor=actor, url="https://8.8.8.8/hook", event_types=["case.*"]
        )
        delivery = webhooks.ping(actor=actor, endpoint=endpoint)
    return {
        "contact": contact,
        "process": process,
        "version": product.versions[0],
        "community": community,
        "endpoint": endpoint,
        "delivery": delivery,
        "other": other,
    }


def _admin_pages(world) -> list[str]:
    p, e = world["process"].id, world["endpoint"].id
    return [
        "/admin",
        "/admin/member",
        "/admin/users",
        "/admin/contacts",
        f"/admin/contacts/{world['contact'].id}",
        "/admin/processes",
        f"/admin/processes/{p}",
        f"/admin/processes/{p}/draft",
        f"/admin/processes/{p}/diff?from=1&to=1",
        "/admin/products",
        f"/admin/products/versions/{world['version'].id}",
        "/admin/communities",
        "/admin/clients",
        "/admin/webhooks",
        f"/admin/webhooks/{e}",
        f"/admin/webhooks/deliveries/{world['delivery'].id}",
    ]


# -- access -----------------------------------------------------------------------------


def test_every_admin_page_renders_for_an_admin(client, login, admin, world):
    login(admin)
    for url in [*_admin_pages(world), "/settings/notifications"]:
        response = client.get(url)
        assert response.status_code == 200, url
        page = _text(response)
        assert "admin.css" in page and "admin.js" in page, url
        for form in re.findall(r'<form method="post".*?</form>', page, re.S):
            assert re.search(r'name="[\w-]*csrf_token"', form), (url, form[:200])


def test_admin_pages_are_403_for_an_engineer(client, login, admin, engineer, world):
    login(engineer)
    for url in _admin_pages(world):
        response = client.get(url, headers={"Accept": "text/html"})
        assert response.status_code == 403, url
        assert "forbidden" in _text(response)
    # Changes too, not only pages.
    for url, data in [
        ("/admin/clients", {"name": "x", "scopes": ["cases:read"]}),
        (f"/admin/webhooks/{world['endpoint'].id}/rotate", {}),
        (f"/admin/contacts/{world['contact'].id}/retire", {}),
        ("/admin/users/invite", {"invite-email": "x@y.example", "invite-name": "X"}),
    ]:
        response = _post(client, url, data, page="/settings/notifications")
        assert response.status_code == 403, url
    assert auth_service.list_clients(actor=actor_for_user(admin), member=admin.member) == []


def test_the_hub_links_to_every_admin_page(client, login, admin, world):
    login(admin)
    hub = _text(client.get("/admin"))
    for url in [
        "/admin/member",
        "/admin/users",
        "/admin/contacts",
        "/admin/processes",
        "/admin/products",
        "/admin/communities",
        "/admin/clients",
        "/admin/webhooks",
        "/admin/mail",
        "/settings/notifications",
    ]:
        assert f'href="{url}"' in hub, url


def test_pages_need_a_signed_in_person(client):
    for url in ("/admin", "/admin/processes", "/settings/notifications"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- member profile ---------------------------------------------------------------------


def test_member_profile_edit(client, login, admin, db_session):
    login(admin)
    response = _post(
        client,
        "/admin/member",
        {
            "name": "Acme Storage",
            "description": "Arrays.",
            "website": "https://acme.example",
            "email_domains": "acme.example\nacme-storage.example",
            "support_contact_name": "Sam Support",
            "support_contact_email": "support@acme.example",
            "support_contact_phone": "+1 555 0100",
        },
    )
    assert response.status_code == 302
    assert "Saved the member profile" in _text(client.get("/admin/member"))
    member = service.get_member(slug=admin.member.slug)
    db_session.refresh(member)
    assert member.name == "Acme Storage"
    assert member.email_domains == ["acme.example", "acme-storage.example"]
    assert member.support_contact == {
        "name": "Sam Support",
        "email": "support@acme.example",
        "phone": "+1 555 0100",
    }

    bad = _post(
        client,
        "/admin/member",
        {"name": "Typed Name", "website": "not a url", "support_contact_email": "nope"},
    )
    assert bad.status_code == 422
    page = _text(bad)
    assert "Not a valid URL." in page and "Not a valid email address." in page
    assert _input_value(page, "name") == "Typed Name"
    assert _input_value(page, "website") == "not a url"
    db_session.refresh(member)
    assert member.name == "Acme Storage"


# -- users, invitations, set-password links ---------------------------------------------


def _invite(client, email="new.person@example.com", name="New Person"):
    return _post(
        client,
        "/admin/users/invite",
        {
            "invite-email": email,
            "invite-name": name,
            "invite-time_zone": "Europe/Paris",
            "invite-roles": ["engineer"],
        },
        page="/admin/users",
    )


def _link_from(page: str) -> str:
    match = re.search(r'<code id="one-time-secret">([^<]+)</code>', page)
    assert match, "no set-password link on the page"
    return match.group(1).replace("http://127.0.0.1:8000", "")


def test_invite_by_email_and_set_password_once(client, login, admin, db_session):
    login(admin)
    response = _invite(client)
    assert response.status_code == 200
    page = _text(response)
    assert "Invited new.person@example.com" in page
    link = _link_from(page)
    user = service.find_user_by_email(email="new.person@example.com")
    assert user.member_id == admin.member_id and user.password_hash is None
    assert user.roles == ["engineer"] and user.time_zone == "Europe/Paris"
    [mail] = Message.query.filter_by(kind="invitation").all()
    assert mail.to_address == "new.person@example.com"
    assert link in mail.text_body and link in mail.html_body.replace("&amp;", "&")
    assert "invited, no password yet" in _text(client.get("/admin/users"))
    assert link not in _text(client.get("/admin/users"))  # shown once

    client.post("/logout", data={"csrf_token": csrf_token_from(_text(client.get("/admin")))})
    form = client.get(link)
    assert form.status_code == 200 and "Choose your password" in _text(form)
    short = _post(client, link, {"password": "short", "confirm": "short"}, page=link)
    assert short.status_code == 422 and "Use at least 12 characters." in _text(short)
    differ = _post(client, link, {"password": "a" * 12, "confirm": "b" * 12}, page=link)
    assert differ.status_code == 422 and "The two passwords differ." in _text(differ)
    done = _post(client, link, {"password": "my own secret", "confirm": "my own secret"}, page=link)
    assert done.status_code == 302
    db_session.refresh(user)
    assert user.check_password("my own secret")
    assert "New Person" in _text(client.get("/"))  # signed in as the new person

    again = client.get(link, headers={"Accept": "text/html"})
    assert again.status_code == 400 and "not valid" in _text(again)


def test_expired_and_forged_set_password_links_are_refused(client, login, admin, app, monkeypatch):
    login(admin)
    fresh = _link_from(_text(_invite(client)))
    token = fresh.rsplit("/", 1)[1]
    # The same link, made eight days ago (the brief's key, salt and seven-day limit).
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="set-password")
    payload = serializer.loads(token)
    real = time.time
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: int(real()) - 8 * 86400)
        expired = serializer.dumps(payload)
    refused = client.get(f"/set-password/{expired}", headers={"Accept": "text/html"})
    assert refused.status_code == 400 and "expired" in _text(refused)
    forged = URLSafeTimedSerializer("another key", salt="set-password").dumps(payload)
    assert client.get(f"/set-password/{forged}", headers={"Accept": "text/html"}).status_code == 400
    tampered = token[:-2] + ("xx" if not token.endswith("xx") else "yy")
    assert (
        client.get(f"/set-password/{tampered}", headers={"Accept": "text/html"}).status_code == 400
    )
    assert client.get("/set-password/nonsense", headers={"Accept": "text/html"}).status_code == 400
    assert client.get(fresh).status_code == 200


def test_invalid_invitation_keeps_what_was_typed(client, login, admin):
    login(admin)
    response = _invite(client, email=admin.email, name="Typed Again")
    assert response.status_code == 422
    page = _text(response)
    assert "Already in use." in page
    assert _input_value(page, "invite-name") == "Typed Again"
    bad_zone = _post(
        client,
        "/admin/users/invite",
        {"invite-email": "z@example.com", "invite-name": "Z", "invite-time_zone": "Mars/Base"},
        page="/admin/users",
    )
    assert bad_zone.status_code == 422 and "Unknown IANA time zone" in _text(bad_zone)
    assert service.find_user_by_email(email="z@example.com") is None


def test_new_link_for_a_pending_invitation_and_deactivate_reactivate(
    client, login, admin, engineer, db_session
):
    login(admin)
    _invite(client)
    user = service.find_user_by_email(email="new.person@example.com")
    response = _post(client, f"/admin/users/{user.id}/invitation", {})
    assert response.status_code == 200 and "a new set-password link" in _text(response)
    assert Message.query.filter_by(kind="invitation").count() == 2

    # Someone with a password gets no link.
    refused = _post(client, f"/admin/users/{engineer.id}/invitation", {})
    assert refused.status_code == 302
    assert "chosen a password already" in _text(client.get("/admin/users"))

    assert _post(client, f"/admin/users/{engineer.id}/active", {"active": "0"}).status_code == 302
    db_session.refresh(engineer)
    assert engineer.active is False
    assert "Deactivated" in _text(client.get("/admin/users"))
    _post(client, f"/admin/users/{engineer.id}/active", {"active": "1"})
    db_session.refresh(engineer)
    assert engineer.active is True

    # The last admin stays.
    _post(client, f"/admin/users/{admin.id}/active", {"active": "0"})
    db_session.refresh(admin)
    assert admin.active is True
    assert "without an active admin" in _text(client.get("/admin/users"))


# -- notification preferences -----------------------------------------------------------


def test_each_person_edits_their_own_notifications(client, login, engineer, db_session):
    login(engineer)
    page = _text(client.get("/settings/notifications"))
    fields = form_fields(page, "settings-form")
    assert set(fields["notifications"]) == {
        "case_progress",
        "assignments",
        "notes",
        "escalations",
        "breaches",
        "reminders",
    }
    response = _post(
        client,
        "/settings/notifications",
        {
            "name": "Ed E. Engineer",
            "phone": "+49 30 1234",
            "time_zone": "Asia/Tokyo",
            "notifications": ["case_opened", "breaches"],
        },
        page="/settings/notifications",
    )
    assert response.status_code == 302
    assert "Saved your settings" in _text(client.get("/settings/notifications"))
    db_session.refresh(engineer)
    assert engineer.name == "Ed E. Engineer" and engineer.time_zone == "Asia/Tokyo"
    assert engineer.notification_settings() == {
        "case_opened": True,
        "case_progress": False,
        "assignments": False,
        "notes": False,
        "escalations": False,
        "breaches": True,
        "reminders": False,
    }
    bad = _post(
        client,
        "/settings/notifications",
        {"name": "Typed", "time_zone": "Nowhere/City", "notifications": ["notes"]},
        page="/settings/notifications",
    )
    assert bad.status_code == 422
    page = _text(bad)
    assert "Unknown IANA time zone" in page and _input_value(page, "time_zone") == "Nowhere/City"
    assert _input_value(page, "name") == "Typed"
    db_session.refresh(engineer)
    assert engineer.time_zone == "Asia/Tokyo"


# -- contacts ---------------------------------------------------------------------------


def test_contacts_add_edit_retire(client, login, admin, db_session):
    login(admin)
    actor = actor_for_user(admin)
    response = _post(
        client,
        "/admin/contacts",
        {
            "name": "Mia Manager",
            "role": "escalation_manager",
            "email": "mia@acme.example",
            "phone": "+1 555",
            "time_zone": "America/New_York",
            "availability": "24x7 for severity 1",
            "user": admin.email,
        },
        page="/admin/contacts",
    )
    assert response.status_code == 302
    [contact] = processes.list_contacts(actor=actor, member=admin.member)
    assert contact.name == "Mia Manager" and contact.user_id == admin.id
    assert "Added the contact Mia Manager" in _text(client.get("/admin/contacts"))

    bad = _post(
        client,
        "/admin/contacts",
        {
            "name": "Typed Contact",
            "role": "senior_engineer",
            "email": "not-mail",
            "time_zone": "UTC",
        },
        page="/admin/contacts",
    )
    assert bad.status_code == 422
    page = _text(bad)
    assert "Not a valid email address." in page
    assert _input_value(page, "name") == "Typed Contact"

    edit_url = f"/admin/contacts/{contact.id}"
    bad_zone = _post(
        client,
        edit_url,
        {"name": "Mia", "role": "escalation_manager", "time_zone": "Moon/Sea"},
        page=edit_url,
    )
    assert bad_zone.status_code == 422 and "Unknown IANA time zone" in _text(bad_zone)
    assert _input_value(_text(bad_zone), "time_zone") == "Moon/Sea"
    ok = _post(
        client,
        edit_url,
        {"name": "Mia M.", "role": "support_manager", "time_zone": "Europe/Rome"},
        page=edit_url,
    )
    assert ok.status_code == 302
    db_session.refresh(contact)
    assert (contact.name, contact.role, contact.time_zone) == (
        "Mia M.",
        "support_manager",
        "Europe/Rome",
    )

    assert _post(client, f"{edit_url}/retire", {}).status_code == 302
    assert processes.list_contacts(actor=actor, member=admin.member) == []
    assert "Retired the contact" in _text(client.get("/admin/contacts"))


def test_another_members_contact_is_404(client, login, admin, make_user, db_session):
    stranger = make_user(roles=["admin"])
    with transaction():
        theirs = processes.create_contact(
            actor=actor_for_user(stranger),
            member=stranger.member,
            data={"name": "T", "role": "support_manager"},
        )
    login(admin)
    assert (
        client.get(f"/admin/contacts/{theirs.id}", headers={"Accept": "text/html"}).status_code
        == 404
    )
    assert _post(client, f"/admin/contacts/{theirs.id}/retire", {}).status_code == 404
    db_session.refresh(theirs)
    assert theirs.active


# -- processes --------------------------------------------------------------------------


def _editor(client, process_id) -> tuple[str, dict[str, list[str]]]:
    page = _text(client.get(f"/admin/processes/{process_id}/draft"))
    return page, form_fields(page, "draft-form")


def _save(client, process_id, fields, action="save"):
    url = f"/admin/processes/{process_id}/draft"
    return client.post(url, data={**fields, "action": action})


def test_process_editor_round_trip(client, login, admin, db_session):
    login(admin)
    actor = actor_for_user(admin)
    with transaction():
        tier_contact = processes.create_contact(
            actor=actor, member=admin.member, data={"name": "Vic VP", "role": "support_manager"}
        )
        community = service.communities.create_community(actor=actor, slug="partners", name="P")

    created = _post(
        client,
        "/admin/processes",
        {"name": "Acme storage support", "standard_severities": "y"},
        page="/admin/processes",
    )
    assert created.status_code == 302
    [process] = processes.processes_of(admin.member)
    assert created.headers["Location"].endswith(f"/admin/processes/{process.id}/draft")
    page, fields = _editor(client, process.id)
    assert "Created the process Acme storage support" in page
    assert fields["severities.0.key"] == ["1"] and fields["severities.3.key"] == ["4"]
    assert fields["severities.0.response_minutes"] == ["60"]
    assert fields["severities.4.key"] == [""]  # the blank row for adding one
    assert "__i__" in page  # the row template for JavaScript

    # Edit severities and intake fields, coverage, escalation path, scope, visibility.
    fields.update(
        {
            "severities.0.response_minutes": ["30"],
            "severities.0.declarable_by": ["receiver"],
            "severities.3._remove": ["1"],
            "intake_fields.0.key": ["serial"],
            "intake_fields.0.label": ["Array serial number"],
            "intake_fields.0.type": ["string"],
            "intake_fields.0.required": ["y"],
            "intake_fields.0.pattern": ["[A-Z0-9]{8}"],
            "intake_fields.0.section": ["problem"],
            "intake_fields.0.help": ["On the back of the array."],
            "coverage.mode": ["business_hours"],
            "coverage.time_zone": ["Europe/Berlin"],
            "coverage.hours.0.day": ["mon"],
            "coverage.hours.0.start": ["08:00"],
            "coverage.hours.0.end": ["18:00"],
            "coverage.holidays.0": ["2030-12-25"],
            "escalation_path.0.name": ["VP"],
            "escalation_path.0.after_minutes": ["120"],
            "escalation_path.0.contacts": [str(tier_contact.id)],
            "products.0": ["Array"],
            "scope.0": ["Array firmware"],
            "out_of_scope.0": ["Third-party disks"],
            "visibility": ["communities"],
            "communities": [community.slug],
        }
    )
    saved = _save(client, process.id, fields)
    assert saved.status_code == 302, _text(saved)
    draft = processes.draft_of(process)
    db_session.refresh(draft)
    content = draft.content
    assert [s["key"] for s in content["severities"]] == ["1", "2", "3"]
    assert content["severities"][0]["response_minutes"] == 30
    assert content["severities"][0]["declarable_by"] == "receiver"
    assert content["intake_fields"] == [
        {
            "key": "serial",
            "label": "Array serial number",
            "type": "string",
            "required": True,
            "options": [],
            "max_length": None,
            "pattern": "[A-Z0-9]{8}",
            "section": "problem",
            "help": "On the back of the array.",
        }
    ]
    assert content["coverage"]["hours"] == [{"day": "mon", "start": "08:00", "end": "18:00"}]
    assert content["coverage"]["holidays"] == ["2030-12-25"]
    assert content["escalation_path"] == [
        {"name": "VP", "after_minutes": 120, "contacts": [tier_contact.id]}
    ]
    assert content["visibility"] == "communities" and content["communities"] == ["partners"]
    assert content["scope"] == ["Array firmware"] and content["products"] == ["Array"]

    # An invalid submission: messages at the right rows, typed values kept, nothing saved.
    page, fields = _editor(client, process.id)
    assert "Saved the draft" in page
    fields.update(
        {
            "severities.1.key": ["1"],
            "severities.2.response_minutes": ["soon"],
            "intake_fields.0.type": ["select"],
            "escalation_path.0.after_minutes": ["-5"],
        }
    )
    bad = _save(client, process.id, fields)
    assert bad.status_code == 422
    page = _text(bad)
    assert re.search(r'id="f-severities-1-key-error">Duplicate key', page)
    assert re.search(r'id="f-severities-2-response_minutes-error">Not a valid integer', page)
    assert re.search(r'id="f-intake_fields-0-options-error">A select field needs', page)
    assert 'id="f-escalation_path-0-after_minutes-error"' in page
    assert _input_value(page, "f-severities-2-response_minutes") == "soon"
    assert 'aria-invalid="true"' in page and "error-summary" in page
    assert "Severity 2 · key" in page  # the summary names the row for people
    db_session.refresh(draft)
    assert draft.content["severities"][1]["key"] == "2"

    # The standard template replaces the severity rows in the form, saving nothing yet.
    page, fields = _editor(client, process.id)
    loaded = _save(client, process.id, fields, action="standard_severities")
    assert loaded.status_code == 200
    loaded_fields = form_fields(_text(loaded), "draft-form")
    assert loaded_fields["severities.3.key"] == ["4"]
    assert loaded_fields["intake_fields.0.key"] == ["serial"]  # the rest stays as typed
    db_session.refresh(draft)
    assert len(draft.content["severities"]) == 3

    # Publish version 1.
    published = _save(client, process.id, fields, action="publish")
    assert published.status_code == 302
    assert published.headers["Location"].endswith(f"/admin/processes/{process.id}")
    [v1] = processes.published_versions(process)
    assert v1.number == 1 and v1.content["escalation_path"][0]["contacts"][0]["name"] == "Vic VP"
    assert "Published version 1" in _text(client.get(f"/admin/processes/{process.id}"))

    # Edit again (starting from version 1) and publish version 2, dated in the future.
    page, fields = _editor(client, process.id)
    assert "New version of" in page
    fields["severities.0.response_minutes"] = ["15"]
    fields["intake_fields.0.required"] = []
    fields["effective_at"] = ["2031-01-01T09:00"]
    v2_response = _save(client, process.id, fields, action="publish")
    assert v2_response.status_code == 302
    v1, v2 = processes.published_versions(process)
    assert v2.number == 2 and v2.content["severities"][0]["response_minutes"] == 15
    assert v2.effective_at == datetime(2031, 1, 1, 8, 0, tzinfo=UTC)  # Berlin, in winter
    assert processes.current_version(process).number == 1  # v2 is scheduled

    history = _text(client.get(f"/admin/processes/{process.id}"))
    assert "scheduled" in history and "in force" in history
    diff = _text(client.get(f"/admin/processes/{process.id}/diff?from=1&to=2"))
    assert "Changes from version 1 to version 2" in diff
    assert "severities.1.response_minutes" in diff and "Severity 1 · response minutes" in diff
    assert "intake_fields.serial.required" in diff
    assert re.search(r'class="diff-from"><pre class="value">30</pre>', diff)
    assert re.search(r'class="diff-to"><pre class="value">15</pre>', diff)
    bad_diff = client.get(f"/admin/processes/{process.id}/diff?from=x&to=2")
    assert bad_diff.status_code == 422 and "Choose two versions" in _text(bad_diff)


def test_publishing_an_empty_process_shows_why(client, login, admin):
    login(admin)
    _post(client, "/admin/processes", {"name": "Empty"}, page="/admin/processes")
    [process] = processes.processes_of(admin.member)
    _, fields = _editor(client, process.id)
    response = _save(client, process.id, fields, action="publish")
    assert response.status_code == 422
    assert "Publish at least one severity level." in _text(response)
    assert processes.published_versions(process) == []
    bad_name = _post(client, "/admin/processes", {"name": ""}, page="/admin/processes")
    assert bad_name.status_code == 422 and "This field is required." in _text(bad_name)


def test_a_past_effective_date_is_refused(client, login, admin):
    login(admin)
    _post(
        client,
        "/admin/processes",
        {"name": "P", "standard_severities": "y"},
        page="/admin/processes",
    )
    [process] = processes.processes_of(admin.member)
    _, fields = _editor(client, process.id)
    fields["effective_at"] = ["2001-01-01T00:00"]
    response = _save(client, process.id, fields, action="publish")
    assert response.status_code == 422
    page = _text(response)
    assert re.search(r'id="f-effective_at-error">Cannot take effect in the past', page)
    assert _input_value(page, "f-effective_at") == "2001-01-01T00:00"


# -- products ---------------------------------------------------------------------------


def test_products_and_versions(client, login, admin, db_session):
    login(admin)
    response = _post(
        client,
        "/admin/products",
        {"product-name": "Array", "product-description": "Storage arrays"},
        page="/admin/products",
    )
    assert response.status_code == 302
    [(product, _)] = service.products.list_products(member=admin.member)
    assert product.name == "Array"
    duplicate = _post(client, "/admin/products", {"product-name": "Array"}, page="/admin/products")
    assert duplicate.status_code == 422 and "Already in use." in _text(duplicate)
    assert _input_value(_text(duplicate), "product-name") == "Array"

    prefix = f"v{product.id}-"
    url = f"/admin/products/{product.id}/versions"
    bad = _post(
        client,
        url,
        {
            prefix + "version": "6.0",
            prefix + "release_date": "2024-06-01",
            prefix + "end_of_support_date": "2024-01-01",
        },
        page="/admin/products",
    )
    assert bad.status_code == 422
    page = _text(bad)
    assert "Cannot end before the release date." in page
    assert _input_value(page, prefix + "version") == "6.0"
    for version, released, end in [("5.0", "2020-01-01", "2024-03-01"), ("6.0", "2024-01-01", "")]:
        ok = _post(
            client,
            url,
            {
                prefix + "version": version,
                prefix + "release_date": released,
                prefix + "end_of_support_date": end,
            },
            page="/admin/products",
        )
        assert ok.status_code == 302
    page = _text(client.get("/admin/products"))
    assert "obsolete" in page and "supported" in page
    assert "Lifecycle warning" in page and "less than six months" in page

    five = next(v for v in product.versions if v.version == "5.0")
    edit = f"/admin/products/versions/{five.id}"
    bad_edit = _post(client, edit, {"version": "5.0", "end_of_support_date": "someday"}, page=edit)
    assert bad_edit.status_code == 422 and "Not a valid date value." in _text(bad_edit)
    assert _input_value(_text(bad_edit), "end_of_support_date") == "someday"
    done = _post(
        client,
        edit,
        {"version": "5.0", "release_date": "2020-01-01", "end_of_support_date": "2099-12-31"},
        page=edit,
    )
    assert done.status_code == 302
    db_session.refresh(five)
    assert five.end_of_support_date == date(2099, 12, 31)
    assert five.status_on(date.today()) == "supported"
    assert "Lifecycle warning" not in _text(client.get("/admin/products"))


# -- communities ------------------------------------------------------------------------


def test_communities_create_invite_accept_leave_remove(
    client, login, admin, make_member, make_user, db_session
):
    other = make_member(slug="globex", name="Globex")
    greta = make_user(member=other, roles=["admin"])
    third = make_member(slug="initech", name="Initech")
    login(admin)
    bad = _post(
        client,
        "/admin/communities",
        {"community-slug": "Not A Slug", "community-name": "Typed Community"},
        page="/admin/communities",
    )
    assert bad.status_code == 422
    page = _text(bad)
    assert "lowercase letters" in page and _input_value(page, "community-name") == "Typed Community"

    ok = _post(
        client,
        "/admin/communities",
        {"community-slug": "storage-alliance", "community-name": "Storage alliance"},
        page="/admin/communities",
    )
    assert ok.status_code == 302
    actor = actor_for_user(admin)
    community = service.communities.get_community(actor=actor, slug="storage-alliance")
    assert community.owner_id == admin.member_id

    field = "invite-storage-alliance-member"
    url = "/admin/communities/storage-alliance/invitations"
    unknown = _post(client, url, {field: "nobody"}, page="/admin/communities")
    assert unknown.status_code == 422
    assert "No member &#39;nobody&#39;" in _text(unknown)
    assert _input_value(_text(unknown), field) == "nobody"
    for slug in ("globex", "initech"):
        assert _post(client, url, {field: slug}, page="/admin/communities").status_code == 302
    again = _post(client, url, {field: "globex"}, page="/admin/communities")
    assert again.status_code == 422 and "already invited" in _text(again)
    statuses = {m.member.slug: m.status for m in community.memberships}
    assert statuses == {admin.member.slug: "active", "globex": "invited", "initech": "invited"}

    remove = f"/admin/communities/storage-alliance/members/{third.slug}/remove"
    assert _post(client, remove, {}).status_code == 302
    db_session.expire_all()
    assert {m.member.slug for m in community.memberships} == {admin.member.slug, "globex"}

    # Globex's admin sees the invitation on the hub and accepts it, then leaves.
    client.post("/logout", data={"csrf_token": csrf_token_from(_text(client.get("/admin")))})
    login(greta)
    assert "Storage alliance" in _text(client.get("/admin"))
    accept = _post(client, "/admin/communities/storage-alliance/accept", {})
    assert accept.status_code == 302
    assert "joined Storage alliance" in _text(client.get("/admin/communities"))
    db_session.expire_all()
    assert service.communities.community_slugs_of(other) == {"storage-alliance"}
    accept_again = _post(client, "/admin/communities/storage-alliance/accept", {})
    assert accept_again.status_code == 302
    assert "already in this community" in _text(client.get("/admin/communities"))
    assert _post(client, "/admin/communities/storage-alliance/leave", {}).status_code == 302
    db_session.expire_all()
    assert service.communities.community_slugs_of(other) == set()


# -- API clients ------------------------------------------------------------------------


def test_api_client_secret_is_shown_once_and_revoke(client, login, admin, db_session):
    login(admin)
    bad = _post(client, "/admin/clients", {"name": "Typed Client"}, page="/admin/clients")
    assert bad.status_code == 422
    page = _text(bad)
    assert "Grant at least one scope." in page and _input_value(page, "name") == "Typed Client"

    created = _post(
        client,
        "/admin/clients",
        {"name": "ServiceNow connector", "scopes": ["cases:read", "cases:write"]},
        page="/admin/clients",
    )
    assert created.status_code == 201
    page = _text(created)
    secret = re.search(r'<code id="one-time-secret">([^<]+)</code>', page).group(1)
    actor = actor_for_user(admin)
    [oauth_client] = auth_service.list_clients(actor=actor, member=admin.member)
    assert oauth_client.scopes == ["cases:read", "cases:write"]
    assert oauth_client.check_client_secret(secret)
    later = _text(client.get("/admin/clients"))
    assert secret not in later and oauth_client.client_id in later

    # The secret works at the token endpoint until the client is revoked.
    token = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(oauth_client.client_id, secret),
    )
    assert token.status_code == 200
    revoked = _post(client, f"/admin/clients/{oauth_client.client_id}/revoke", {})
    assert revoked.status_code == 302
    db_session.refresh(oauth_client)
    assert oauth_client.revoked_at is not None
    assert "Revoked the API client" in _text(client.get("/admin/clients"))


# -- webhooks ---------------------------------------------------------------------------


def test_webhook_endpoint_create_edit_rotate_ping_log_retry_recover(
    client, login, admin, make_member, db_session, app
):
    make_member(slug="globex")
    login(admin)
    actor = actor_for_user(admin)
    app.config["WEBHOOKS_ALLOW_PRIVATE_NETWORKS"] = False

    bad = _post(
        client,
        "/admin/webhooks",
        {
            "url": "http://127.0.0.1/hook",
            "description": "Typed description",
            "event_types": ["case.*"],
            "partners": "globex, nobody",
        },
        page="/admin/webhooks",
    )
    assert bad.status_code == 422
    page = _text(bad)
    assert "No member &#39;nobody&#39;" in page
    assert _input_value(page, "description") == "Typed description"
    assert _input_value(page, "partners") == "globex, nobody"
    none_chosen = _post(
        client, "/admin/webhooks", {"url": "https://8.8.8.8/hook"}, page="/admin/webhooks"
    )
    assert none_chosen.status_code == 422
    assert "Subscribe to at least one event type" in _text(none_chosen)
    assert webhooks.list_endpoints(actor=actor) == []

    created = _post(
        client,
        "/admin/webhooks",
        {
            "url": "https://8.8.8.8/hook",
            "description": "ServiceNow prod",
            "event_types": ["case.opened", "case.note_added"],
            "partners": "globex",
            "exclude_own_changes": "y",
            "enabled": "y",
        },
        page="/admin/webhooks",
    )
    assert created.status_code == 201
    secret = re.search(r'<code id="one-time-secret">(whsec_[^<]+)</code>', _text(created)).group(1)
    [endpoint] = webhooks.list_endpoints(actor=actor)
    assert endpoint.event_types == ["case.opened", "case.note_added"]
    assert endpoint.partners == ["globex"] and endpoint.exclude_own_changes
    assert webhooks.signing_secrets(endpoint, datetime.now(UTC)) == [secret]
    url = f"/admin/webhooks/{endpoint.id}"
    assert secret not in _text(client.get(url)) and secret not in _text(
        client.get("/admin/webhooks")
    )

    # Edit: the form shows what is stored; a wildcard replaces the list.
    fields = form_fields(_text(client.get(url)), "endpoint-form")
    assert fields["event_types"] == ["case.opened", "case.note_added"]
    invalid = {**fields, "url": ["https://10.0.0.1/internal"], "description": ["Typed edit"]}
    refused = client.post(url, data=invalid)
    assert refused.status_code == 422
    assert re.search(r'id="url-error">[^<]*non-public address', _text(refused), re.I)
    assert _input_value(_text(refused), "url") == "https://10.0.0.1/internal"
    assert _input_value(_text(refused), "description") == "Typed edit"
    db_session.refresh(endpoint)
    assert endpoint.url == "https://8.8.8.8/hook"
    fields.update({"event_types": ["*"], "description": "All events", "partners": [""]})
    assert client.post(url, data=fields).status_code == 302
    db_session.refresh(endpoint)
    assert endpoint.event_types == ["*"] and endpoint.partners == []
    assert endpoint.description == "All events"

    # Disable and enable.
    assert _post(client, f"{url}/enabled", {"enabled": "0"}, page=url).status_code == 302
    db_session.refresh(endpoint)
    assert endpoint.enabled is False
    _post(client, f"{url}/enabled", {"enabled": "1"}, page=url)
    db_session.refresh(endpoint)
    assert endpoint.enabled is True

    # Rotate with a grace period: the new secret once, the old one still signs.
    bad_grace = _post(client, f"{url}/rotate", {"grace_seconds": "999999999"}, page=url)
    assert bad_grace.status_code == 422
    assert "Must be greater than or equal to 0" in _text(bad_grace)
    assert _input_value(_text(bad_grace), "grace_seconds") == "999999999"
    rotated = _post(client, f"{url}/rotate", {"grace_seconds": "3600"}, page=url)
    assert rotated.status_code == 200
    new_secret = re.search(
        r'<code id="one-time-secret">(whsec_[^<]+)</code>', _text(rotated)
    ).group(1)
    assert new_secret != secret
    assert webhooks.signing_secrets(endpoint, datetime.now(UTC)) == [new_secret, secret]
    assert new_secret not in _text(client.get(url))

    # A test ping lands in the log; the status filter and a retry.
    assert _post(client, f"{url}/ping", {}, page=url).status_code == 302
    page = _text(client.get(url))
    assert "Queued a test ping" in page and "ping" in page
    [delivery] = webhooks.list_deliveries(actor=actor, endpoint=endpoint).items
    with transaction():
        delivery.status = "failed"
        delivery.attempts = delivery.attempts_since_requeue = 8
        delivery.last_error = "connection refused"
    failed_log = _text(client.get(f"{url}?status=failed"))
    assert f'id="delivery-{delivery.id}"' in failed_log and "connection refused" in failed_log
    assert f'id="delivery-{delivery.id}"' not in _text(client.get(f"{url}?status=succeeded"))
    detail = html.unescape(_text(client.get(f"/admin/webhooks/deliveries/{delivery.id}")))
    assert delivery.message_id in detail and '"type":"ping"' in detail
    retried = _post(
        client, f"/admin/webhooks/deliveries/{delivery.id}/retry", {"status": "failed"}, page=url
    )
    assert retried.status_code == 302 and "status=failed" in retried.headers["Location"]
    db_session.refresh(delivery)
    # A fresh retry schedule, and every attempt still counted.
    assert (delivery.status, delivery.attempts_since_requeue, delivery.attempts) == (
        "pending",
        0,
        8,
    )

    # Recover since a date (in the viewer's time zone).
    with transaction():
        delivery.status = "failed"
    bad_since = _post(client, f"{url}/recover", {"since": "yesterday"}, page=url)
    assert bad_since.status_code == 422 and "Not a valid datetime value." in _text(bad_since)
    assert _input_value(_text(bad_since), "since") == "yesterday"
    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    recovered = _post(client, f"{url}/recover", {"since": since}, page=url)
    assert recovered.status_code == 302
    assert "Re-queued 1 failed delivery" in _text(client.get(url))
    db_session.refresh(delivery)
    assert delivery.status == "pending"

    # Delete.
    assert _post(client, f"{url}/delete", {}, page=url).status_code == 302
    assert webhooks.list_endpoints(actor=actor) == []
    assert client.get(url, headers={"Accept": "text/html"}).status_code == 404
    assert db_session.get(Delivery, delivery.id).status == "failed"  # given up, the log stays


def test_editor_names_unusable_contacts_and_communities_and_discards(
    client, login, admin, make_member, db_session
):
    login(admin)
    actor = actor_for_user(admin)
    with transaction():
        contact = processes.create_contact(
            actor=actor, member=admin.member, data={"name": "Old Timer", "role": "support_manager"}
        )
        process = processes.create_process(
            actor=actor,
            member=admin.member,
            content={
                "name": "P",
                "severities": [{"key": "1", "name": "Down"}],
                "escalation_path": [{"after_minutes": 60, "contacts": [contact.id]}],
            },
        )
        processes.publish(actor=actor, process=process)
        processes.remove_contact(actor=actor, contact=contact)
        theirs = service.communities.create_community(
            actor=actor_for_user(admin), slug="mine", name="Mine"
        )
    page, fields = _editor(client, process.id)
    assert "not an active contact" in page  # the retired one stays visible, ticked
    assert fields["escalation_path.0.contacts"] == [str(contact.id)]
    fields.update({"visibility": ["communities"], "communities": [theirs.slug, "elsewhere"]})
    response = _save(client, process.id, fields)
    assert response.status_code == 422
    page = _text(response)
    assert f"No active contact {contact.id} of your member." in page
    assert "Your member is not in a community &#39;elsewhere&#39;." in page
    assert "Escalation tier 1 · contacts · 0" in page

    # A draft exists once saved; discarding it leaves version 1 alone.
    del fields["escalation_path.0.contacts"]
    fields["escalation_path.0.after_minutes"] = [""]
    fields["communities"] = [theirs.slug]
    assert _save(client, process.id, fields).status_code == 302
    assert processes.draft_of(process) is not None
    discard = _post(client, f"/admin/processes/{process.id}/draft/discard", {})
    assert discard.status_code == 302
    assert processes.draft_of(process) is None
    assert "Discarded the draft" in _text(client.get(f"/admin/processes/{process.id}"))
    assert len(processes.published_versions(process)) == 1
