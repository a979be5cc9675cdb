"""Processes and contacts over the REST API, as a member admin's program and another
member's program use them: build, publish, read, diff, intake schema, drafts, bad input,
visibility through communities, and contacts."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from exchange.db import db
from exchange.processes.models import Contact, Process, ProcessVersion
from exchange.processes.signals import process_published
from tests.processes.test_content import sample_content

WRITER_SCOPES = ("processes:write", "directory:read")
ADMIN_SCOPES = ("processes:write", "directory:read", "members:admin")


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["code"] == code
    assert body["status"] == status
    return body


def put(caller, url, json):
    return caller.http.put(url, headers={"Authorization": f"Bearer {caller.token}"}, json=json)


@pytest.fixture()
def vendor(make_member):
    return make_member("vendor", "Vendor Storage")


@pytest.fixture()
def partner(make_member):
    return make_member("partner", "Partner Virtualization")


@pytest.fixture()
def stranger(make_member):
    return make_member("stranger", "Stranger Databases")


@pytest.fixture()
def admin(api, vendor):
    """The vendor's member-admin program."""
    return api(vendor, scopes=WRITER_SCOPES)


@pytest.fixture()
def community_admin(api, vendor):
    return api(vendor, scopes=ADMIN_SCOPES)


@pytest.fixture()
def other(api, partner):
    """Another member's program, reading the directory."""
    return api(partner, scopes=("directory:read",))


@pytest.fixture()
def outsider(api, stranger):
    return api(stranger, scopes=("directory:read",))


def new_contact(caller, slug, name, role="escalation_manager", **extra):
    response = caller.post(
        f"/api/v1/members/{slug}/contacts",
        json={"name": name, "role": role, "email": f"{name.split()[0].lower()}@x.example", **extra},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


@pytest.fixture()
def contacts(admin, vendor):
    return [
        new_contact(admin, vendor.slug, "Max Manager", phone="+1 555 0101"),
        new_contact(admin, vendor.slug, "Vera President", role="support_manager"),
    ]


def document(contacts, **overrides) -> dict:
    return sample_content(
        escalation_path=[
            {"name": "Escalation manager", "after_minutes": 60, "contacts": [contacts[0]["id"]]},
            {"name": "VP", "after_minutes": 120, "contacts": [contacts[1]["id"]]},
        ],
        **overrides,
    )


def create(admin, slug, content) -> dict:
    response = admin.post(f"/api/v1/members/{slug}/processes", json=content)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def publish(admin, process_id, **body) -> dict:
    response = admin.post(f"/api/v1/processes/{process_id}/publish", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


@pytest.fixture()
def draft_process(admin, vendor, contacts):
    return create(admin, vendor.slug, document(contacts))


@pytest.fixture()
def published(admin, draft_process):
    publish(admin, draft_process["id"])
    return draft_process


# -- the story: build, publish 1, edit, publish 2, another member reads it ---------------


def test_a_member_admin_builds_publishes_and_revises_a_process(admin, other, vendor, contacts):
    # Build: the first draft, then a fuller draft.
    created = create(admin, vendor.slug, {"name": "Storage support"})
    pid = created["id"]
    assert created["member"] == "vendor"
    assert created["current_version"] is None
    assert created["versions"] == []
    assert created["has_draft"] is True

    v1_content = document(contacts)
    saved = put(admin, f"/api/v1/processes/{pid}/draft", v1_content)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.json["status"] == "draft"
    assert saved.json["number"] is None
    assert saved.json["content"]["name"] == "Storage collaborative support"

    # Publish version 1.
    v1 = admin.post(f"/api/v1/processes/{pid}/publish", json={})
    assert v1.status_code == 201, v1.get_data(as_text=True)
    assert v1.headers["Location"].endswith(f"/api/v1/processes/{pid}/versions/1")
    assert v1.json["number"] == 1
    assert v1.json["status"] == "published"
    assert v1.json["published_by"] is not None
    assert v1.json["effective_at"] is not None

    # Edit and publish version 2.
    v2_content = copy.deepcopy(v1_content)
    v2_content["severities"][0]["response_minutes"] = 30
    v2_content["intake_fields"].append(
        {"key": "ticket", "label": "Customer ticket", "type": "string", "required": True}
    )
    v2_content["coverage"]["time_zone"] = "America/New_York"
    assert put(admin, f"/api/v1/processes/{pid}/draft", v2_content).status_code == 200
    v2 = publish(admin, pid)
    assert v2["number"] == 2

    # Another member sees version 2 as current, in the member's list and on its own.
    listed = other.get(f"/api/v1/members/{vendor.slug}/processes")
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json] == [pid]
    assert listed.json[0]["current_version"]["number"] == 2
    assert listed.json[0]["has_draft"] is None
    item = other.get(f"/api/v1/processes/{pid}")
    assert item.status_code == 200
    assert item.json["current_version"]["number"] == 2
    assert item.json["current_version"]["content"]["severities"][0]["response_minutes"] == 30
    assert [v["number"] for v in item.json["versions"]] == [1, 2]
    assert item.json["has_draft"] is None

    versions = other.get(f"/api/v1/processes/{pid}/versions")
    assert versions.status_code == 200
    assert [v["number"] for v in versions.json] == [1, 2]
    first = other.get(f"/api/v1/processes/{pid}/versions/1")
    second = other.get(f"/api/v1/processes/{pid}/versions/2")
    assert first.json["content"]["severities"][0]["response_minutes"] == 60
    assert second.json["content"]["severities"][0]["response_minutes"] == 30
    assert first.json["content"]["coverage"]["time_zone"] == "Europe/Berlin"
    assert other.get(f"/api/v1/processes/{pid}/versions/3").status_code == 404

    diff = other.get(f"/api/v1/processes/{pid}/diff?from=1&to=2")
    assert diff.status_code == 200, diff.get_data(as_text=True)
    assert diff.json["from"] == 1
    assert diff.json["to"] == 2
    assert [c["path"] for c in diff.json["changes"]] == [
        "coverage.time_zone",
        "intake_fields.ticket",
        "severities.1.response_minutes",
    ]
    by_path = {c["path"]: c for c in diff.json["changes"]}
    assert by_path["severities.1.response_minutes"] == {
        "path": "severities.1.response_minutes",
        "from": 60,
        "to": 30,
    }
    assert by_path["intake_fields.ticket"]["from"] is None
    assert by_path["intake_fields.ticket"]["to"]["label"] == "Customer ticket"

    schema = other.get(f"/api/v1/processes/{pid}/intake-schema")
    assert schema.status_code == 200, schema.get_data(as_text=True)
    assert schema.json["$id"] == f"http://exchange.test/api/v1/processes/{pid}/intake-schema"
    assert schema.json["title"].endswith("v2")
    assert schema.json["required"] == ["serial", "os_version", "ticket"]
    schema_v1 = other.get(f"/api/v1/processes/{pid}/intake-schema?version=1")
    assert schema_v1.status_code == 200
    assert schema_v1.json["title"].endswith("v1")
    assert schema_v1.json["required"] == ["serial", "os_version"]
    assert "ticket" not in schema_v1.json["properties"]


def test_the_intake_schema_matches_the_intake_fields(admin, other, published):
    schema = other.get(f"/api/v1/processes/{published['id']}/intake-schema").json
    fields = {f["key"]: f for f in sample_content()["intake_fields"]}

    props = schema["properties"]
    # JSON objects have no order (the API sorts keys); `required` and the version's
    # intake_fields list keep the receiver's order.
    assert set(props) == set(fields)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == [k for k, f in fields.items() if f.get("required")]
    assert props["serial"]["pattern"] == f"^(?:{fields['serial']['pattern']})$"
    assert props["serial"]["maxLength"] == fields["serial"]["max_length"]
    assert props["serial"]["description"] == fields["serial"]["help"]
    assert props["os_version"]["enum"] == fields["os_version"]["options"]
    assert props["hosts"]["type"] == "integer"
    assert props["admin_email"]["format"] == "email"
    assert props["bundle"]["format"] == "uri"
    assert props["started"]["format"] == "date"
    assert {k: p["title"] for k, p in props.items()} == {k: f["label"] for k, f in fields.items()}
    assert {k: p["x-section"] for k, p in props.items()} == {
        k: f.get("section", "problem") for k, f in fields.items()
    }


def test_a_published_version_shows_its_instructions_rendered_safely(admin, vendor, contacts, other):
    process = create(
        admin,
        vendor.slug,
        document(contacts, engagement_instructions="**Call** us <script>alert(1)</script>"),
    )
    publish(admin, process["id"])

    version = other.get(f"/api/v1/processes/{process['id']}/versions/1").json

    html = version["engagement_instructions_html"]
    assert "<strong>Call</strong>" in html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_the_severity_template_has_the_standard_levels(other):
    response = other.get("/api/v1/processes/severity-template")

    assert response.status_code == 200
    levels = response.json
    assert [s["key"] for s in levels] == ["1", "2", "3", "4"]
    assert [s["response_minutes"] for s in levels] == [60, 120, 240, None]
    assert levels[0]["update_minutes"] == 60


def test_the_owner_sees_its_draft_flag_and_the_version_it_is_editing(admin, published, contacts):
    pid = published["id"]
    assert admin.get(f"/api/v1/processes/{pid}").json["has_draft"] is False

    put(admin, f"/api/v1/processes/{pid}/draft", document(contacts, name="Next"))

    body = admin.get(f"/api/v1/processes/{pid}").json
    assert body["has_draft"] is True
    assert body["name"] == "Next"
    assert body["current_version"]["content"]["name"] == "Storage collaborative support"
    draft = admin.get(f"/api/v1/processes/{pid}/draft")
    assert draft.status_code == 200
    assert draft.json["content"]["name"] == "Next"
    to_draft = admin.get(f"/api/v1/processes/{pid}/diff?from=1&to=draft")
    assert to_draft.status_code == 200
    assert to_draft.json["to"] == "draft"
    assert [c["path"] for c in to_draft.json["changes"]] == ["name"]


def test_other_members_never_see_the_name_of_an_unpublished_draft(
    admin, other, vendor, published, contacts
):
    pid = published["id"]
    put(admin, f"/api/v1/processes/{pid}/draft", document(contacts, name="Secret merger plan"))

    item = other.get(f"/api/v1/processes/{pid}").json
    listed = other.get(f"/api/v1/members/{vendor.slug}/processes").json

    assert item["name"] == "Storage collaborative support"
    assert [p["name"] for p in listed] == ["Storage collaborative support"]
    assert "Secret merger plan" not in other.get(f"/api/v1/processes/{pid}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("from=1&to=9", 404),
        ("from=9&to=1", 404),
        ("to=1", 422),
        ("from=1", 422),
        ("from=0&to=1", 422),
        ("from=1&to=latest", 422),
    ],
)
def test_a_diff_of_unknown_or_bad_versions(other, published, query, status):
    response = other.get(f"/api/v1/processes/{published['id']}/diff?{query}")

    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("query", "status"), [("version=2", 404), ("version=0", 422), ("version=x", 422)]
)
def test_the_intake_schema_of_an_unknown_or_bad_version(other, published, query, status):
    response = other.get(f"/api/v1/processes/{published['id']}/intake-schema?{query}")

    assert response.status_code == status, response.get_data(as_text=True)


def test_the_intake_schema_of_an_unpublished_process_is_404_even_for_its_owner(
    admin, draft_process
):
    assert_problem(
        admin.get(f"/api/v1/processes/{draft_process['id']}/intake-schema"), 404, "not_found"
    )


# -- published versions are immutable ------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch"])
def test_editing_a_published_version_is_a_409(admin, published, contacts, method):
    pid = published["id"]
    before = admin.get(f"/api/v1/processes/{pid}/versions/1").json
    headers = {"Authorization": f"Bearer {admin.token}"}

    response = getattr(admin.http, method)(
        f"/api/v1/processes/{pid}/versions/1", headers=headers, json=document(contacts, name="X")
    )

    body = assert_problem(response, 409, "version_immutable")
    assert "draft" in body["detail"]
    assert admin.get(f"/api/v1/processes/{pid}/versions/1").json == before


def test_a_published_version_does_not_change_with_later_drafts_and_publishes(
    admin, published, contacts, vendor
):
    pid = published["id"]
    before = admin.get(f"/api/v1/processes/{pid}/versions/1").json

    changed = document(contacts, name="Changed")
    changed["severities"] = changed["severities"][:1]
    put(admin, f"/api/v1/processes/{pid}/draft", changed)
    publish(admin, pid)
    admin.patch(f"/api/v1/contacts/{contacts[0]['id']}", json={"name": "Someone Else"})
    put(admin, f"/api/v1/processes/{pid}/draft", document(contacts, name="Third"))

    assert admin.get(f"/api/v1/processes/{pid}/versions/1").json == before
    db.session.expire_all()
    stored = db.session.scalar(
        select(ProcessVersion).where(ProcessVersion.process_id == pid, ProcessVersion.number == 1)
    )
    assert stored.content == before["content"]


# -- effective dates -----------------------------------------------------------------


def test_publishing_with_a_past_effective_at_is_a_422(admin, draft_process):
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()

    response = admin.post(
        f"/api/v1/processes/{draft_process['id']}/publish", json={"effective_at": past}
    )

    body = assert_problem(response, 422, "validation_failed")
    assert set(body["errors"]) == {"effective_at"}
    assert admin.get(f"/api/v1/processes/{draft_process['id']}").json["versions"] == []


def test_publishing_with_a_future_effective_at_keeps_the_current_version(
    admin, other, published, contacts
):
    pid = published["id"]
    put(admin, f"/api/v1/processes/{pid}/draft", document(contacts, name="Next year"))
    starts = datetime.now(UTC) + timedelta(days=365)

    v2 = publish(admin, pid, effective_at=starts.isoformat())

    assert v2["number"] == 2
    assert datetime.fromisoformat(v2["effective_at"]) == starts
    body = other.get(f"/api/v1/processes/{pid}").json
    assert body["current_version"]["number"] == 1
    assert [v["number"] for v in body["versions"]] == [1, 2]
    schema = other.get(f"/api/v1/processes/{pid}/intake-schema").json
    assert schema["title"].endswith("v1")


def test_a_naive_effective_at_is_a_422(admin, draft_process):
    response = admin.post(
        f"/api/v1/processes/{draft_process['id']}/publish",
        json={"effective_at": "2099-01-01T00:00:00"},
    )

    body = assert_problem(response, 422, "validation_failed")
    assert "effective_at" in body["errors"]


# -- drafts: who may see them, publishing rules --------------------------------------


def test_another_members_program_gets_404_for_the_draft(api, partner, published, contacts):
    writer = api(partner, scopes=WRITER_SCOPES)
    pid = published["id"]

    assert_problem(writer.get(f"/api/v1/processes/{pid}/draft"), 404, "not_found")
    assert_problem(
        put(writer, f"/api/v1/processes/{pid}/draft", document(contacts)), 404, "not_found"
    )
    assert_problem(writer.post(f"/api/v1/processes/{pid}/publish", json={}), 404, "not_found")
    assert_problem(writer.delete(f"/api/v1/processes/{pid}/draft"), 404, "not_found")
    assert_problem(writer.get(f"/api/v1/processes/{pid}/diff?from=1&to=draft"), 404, "not_found")


def test_a_program_without_processes_write_gets_403(api, vendor, draft_process, contacts):
    reader = api(vendor, scopes=("directory:read",))
    pid = draft_process["id"]

    for response in (
        reader.get(f"/api/v1/processes/{pid}/draft"),
        put(reader, f"/api/v1/processes/{pid}/draft", document(contacts)),
        reader.post(f"/api/v1/processes/{pid}/publish", json={}),
        reader.post(f"/api/v1/members/{vendor.slug}/processes", json=document(contacts)),
    ):
        assert_problem(response, 403, "insufficient_scope")


def test_an_engineer_session_gets_403_for_the_draft(
    client, login, make_user, vendor, draft_process
):
    login(make_user(member=vendor, roles=("engineer",)))

    response = client.get(f"/api/v1/processes/{draft_process['id']}/draft")

    assert_problem(response, 403, "insufficient_scope")
    # Their own member's unpublished process is visible to them, the draft is not.
    assert client.get(f"/api/v1/processes/{draft_process['id']}").status_code == 200


def test_an_admin_session_reads_the_draft(client, login, make_user, vendor, draft_process):
    login(make_user(member=vendor, roles=("admin",)))

    response = client.get(f"/api/v1/processes/{draft_process['id']}/draft")

    assert response.status_code == 200
    assert response.json["status"] == "draft"


def test_publishing_needs_no_body(admin, draft_process):
    response = admin.post(f"/api/v1/processes/{draft_process['id']}/publish")

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["number"] == 1


def test_publishing_with_no_draft_is_a_409(admin, published):
    response = admin.post(f"/api/v1/processes/{published['id']}/publish", json={})

    assert_problem(response, 409, "conflict")
    assert [
        v["number"] for v in admin.get(f"/api/v1/processes/{published['id']}").json["versions"]
    ] == [1]


def test_publishing_an_empty_draft_is_a_422_naming_severities(admin, vendor):
    process = create(admin, vendor.slug, {"name": "Nothing yet"})

    response = admin.post(f"/api/v1/processes/{process['id']}/publish", json={})

    body = assert_problem(response, 422, "validation_failed")
    assert set(body["errors"]) == {"severities"}
    assert admin.get(f"/api/v1/processes/{process['id']}/draft").json["status"] == "draft"


def test_a_draft_is_404_when_there_is_none(admin, published):
    assert_problem(admin.get(f"/api/v1/processes/{published['id']}/draft"), 404, "not_found")


def test_discarding_a_draft(admin, published, draft_process, contacts, vendor):
    pid = published["id"]
    assert_problem(admin.delete(f"/api/v1/processes/{pid}/draft"), 404, "not_found")
    put(admin, f"/api/v1/processes/{pid}/draft", document(contacts, name="Scrap"))

    assert admin.get(f"/api/v1/processes/{pid}").json["name"] == "Scrap"

    response = admin.delete(f"/api/v1/processes/{pid}/draft")

    assert response.status_code == 204
    body = admin.get(f"/api/v1/processes/{pid}").json
    assert body["has_draft"] is False
    assert_problem(admin.get(f"/api/v1/processes/{pid}/draft"), 404, "not_found")
    # The discarded draft's name goes with it.
    assert body["name"] == "Storage collaborative support"
    assert [v["number"] for v in body["versions"]] == [1]


def test_the_only_draft_of_an_unpublished_process_cannot_be_discarded(admin, vendor, contacts):
    process = create(admin, vendor.slug, document(contacts))

    assert_problem(admin.delete(f"/api/v1/processes/{process['id']}/draft"), 409, "conflict")
    assert admin.get(f"/api/v1/processes/{process['id']}/draft").status_code == 200


def test_creating_a_process_for_another_member_is_404(admin, partner, contacts):
    response = admin.post(f"/api/v1/members/{partner.slug}/processes", json={"name": "Mine now"})

    assert_problem(response, 404, "not_found")
    assert db.session.scalar(select(Process).where(Process.member_id == partner.id)) is None


# -- bad input: each a 422 naming the field, storing nothing -------------------------


def _mutations(foreign_id):
    def tier_contact(c, value):
        c["escalation_path"][0]["contacts"] = [value]

    return {
        "severities.1.key": lambda c: c["severities"][1].update(key="1"),
        "intake_fields.2.key": lambda c: c["intake_fields"][2].update(key="serial"),
        "intake_fields.1.options": lambda c: c["intake_fields"][1].update(options=[]),
        "intake_fields.0.pattern": lambda c: c["intake_fields"][0].update(pattern="(unclosed"),
        "coverage.time_zone": lambda c: c["coverage"].update(time_zone="Europe/Atlantis"),
        "coverage.hours.1": lambda c: c["coverage"]["hours"][1].update(start="10:00"),
        "coverage.hours.2.end": lambda c: c["coverage"]["hours"][2].update(start="19:00"),
        "coverage.hours": lambda c: c["coverage"].update(mode="24x7"),
        "coverage.hours ": lambda c: c["coverage"].update(hours=[]),
        "escalation_path.0.contacts.0": lambda c: tier_contact(c, foreign_id),
        "communities": lambda c: c.update(visibility="communities"),
        "escalation_path.1.after_minutes": lambda c: c["escalation_path"][1].update(
            after_minutes=30
        ),
        "colour": lambda c: c.update(colour="blue"),
        "severities.0.colour": lambda c: c["severities"][0].update(colour="red"),
    }


BAD_INPUT = [
    "severities.1.key",
    "intake_fields.2.key",
    "intake_fields.1.options",
    "intake_fields.0.pattern",
    "coverage.time_zone",
    "coverage.hours.1",
    "coverage.hours.2.end",
    "coverage.hours",
    "coverage.hours ",  # business hours without hours (same path, another cause)
    "escalation_path.0.contacts.0",
    "communities",
    "escalation_path.1.after_minutes",
    "colour",
    "severities.0.colour",
]


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_draft_input_is_a_422_naming_the_field_and_stores_nothing(
    admin, api, partner, draft_process, contacts, case
):
    foreign = new_contact(api(partner, scopes=WRITER_SCOPES), partner.slug, "Their Manager")
    pid = draft_process["id"]
    before = admin.get(f"/api/v1/processes/{pid}/draft").json
    bad = document(contacts, name="Should not be stored")
    _mutations(foreign["id"])[case](bad)

    response = put(admin, f"/api/v1/processes/{pid}/draft", bad)

    body = assert_problem(response, 422, "validation_failed")
    assert case.strip() in body["errors"], body["errors"]
    assert admin.get(f"/api/v1/processes/{pid}/draft").json == before
    assert admin.get(f"/api/v1/processes/{pid}").json["name"] == "Storage collaborative support"


@pytest.mark.parametrize("case", ["severities.1.key", "escalation_path.0.contacts.0", "colour"])
def test_bad_input_on_create_is_a_422_and_creates_nothing(
    admin, api, vendor, partner, contacts, case
):
    foreign = new_contact(api(partner, scopes=WRITER_SCOPES), partner.slug, "Their Manager")
    bad = document(contacts)
    _mutations(foreign["id"])[case](bad)

    response = admin.post(f"/api/v1/members/{vendor.slug}/processes", json=bad)

    body = assert_problem(response, 422, "validation_failed")
    assert case in body["errors"]
    assert db.session.scalar(select(Process).where(Process.member_id == vendor.id)) is None


def test_a_retired_contact_in_a_tier_is_a_422(admin, draft_process, contacts):
    assert admin.delete(f"/api/v1/contacts/{contacts[1]['id']}").status_code == 204

    response = put(admin, f"/api/v1/processes/{draft_process['id']}/draft", document(contacts))

    body = assert_problem(response, 422, "validation_failed")
    assert set(body["errors"]) == {"escalation_path.1.contacts.0"}


def test_a_community_the_member_is_not_in_is_a_422(admin, api, partner, draft_process, contacts):
    theirs = api(partner, scopes=ADMIN_SCOPES)
    assert (
        theirs.post("/api/v1/communities", json={"slug": "their-club", "name": "Club"}).status_code
        == 201
    )

    response = put(
        admin,
        f"/api/v1/processes/{draft_process['id']}/draft",
        document(contacts, visibility="communities", communities=["their-club"]),
    )

    body = assert_problem(response, 422, "validation_failed")
    assert set(body["errors"]) == {"communities.0"}


def test_a_body_that_is_not_json_object_is_refused(admin, draft_process):
    response = put(admin, f"/api/v1/processes/{draft_process['id']}/draft", ["not", "an", "object"])

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


# -- visibility ----------------------------------------------------------------------


def _process_urls(pid):
    return [
        f"/api/v1/processes/{pid}",
        f"/api/v1/processes/{pid}/versions",
        f"/api/v1/processes/{pid}/versions/1",
        f"/api/v1/processes/{pid}/diff?from=1&to=1",
        f"/api/v1/processes/{pid}/intake-schema",
    ]


def test_an_unpublished_process_is_invisible_to_others(admin, other, vendor, draft_process):
    pid = draft_process["id"]

    for url in _process_urls(pid):
        assert_problem(other.get(url), 404, "not_found")
    assert other.get(f"/api/v1/members/{vendor.slug}/processes").json == []
    assert [p["id"] for p in admin.get(f"/api/v1/members/{vendor.slug}/processes").json] == [pid]


def test_a_process_that_does_not_exist_looks_like_a_hidden_one(other, draft_process):
    hidden = assert_problem(other.get(f"/api/v1/processes/{draft_process['id']}"), 404, "not_found")
    missing = assert_problem(
        other.get(f"/api/v1/processes/{draft_process['id'] + 999}"), 404, "not_found"
    )

    assert hidden["title"] == missing["title"]


def test_a_community_process_is_visible_only_to_accepted_community_members(
    community_admin, admin, api, vendor, partner, contacts, other
):
    partner_admin = api(partner, scopes=ADMIN_SCOPES)
    made = community_admin.post(
        "/api/v1/communities", json={"slug": "inner-circle", "name": "Inner circle"}
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    restricted = create(
        admin,
        vendor.slug,
        document(contacts, visibility="communities", communities=["inner-circle"]),
    )
    publish(admin, restricted["id"])
    open_one = create(admin, vendor.slug, document(contacts, name="Open to all"))
    publish(admin, open_one["id"])
    pid = restricted["id"]

    def listed() -> list[int]:
        response = other.get(f"/api/v1/members/{vendor.slug}/processes")
        assert response.status_code == 200
        return [p["id"] for p in response.json]

    def hidden() -> bool:
        statuses = {other.get(url).status_code for url in _process_urls(pid)}
        assert len(statuses) == 1, statuses
        return statuses == {404} and pid not in listed()

    assert hidden()
    assert open_one["id"] in listed()

    invited = community_admin.post(
        "/api/v1/communities/inner-circle/invitations", json={"member": partner.slug}
    )
    assert invited.status_code == 201, invited.get_data(as_text=True)
    assert hidden(), "an invitation that is not accepted yet shows nothing"

    accepted = partner_admin.post("/api/v1/communities/inner-circle/accept")
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    assert not hidden()
    assert listed() == [pid, open_one["id"]]
    assert other.get(f"/api/v1/processes/{pid}").json["current_version"]["number"] == 1

    left = partner_admin.delete(f"/api/v1/communities/inner-circle/members/{partner.slug}")
    assert left.status_code == 204, left.get_data(as_text=True)
    assert hidden()


def test_an_outsider_cannot_see_a_community_process_the_insider_sees(
    community_admin, admin, api, vendor, partner, contacts, other, outsider
):
    community_admin.post("/api/v1/communities", json={"slug": "club", "name": "Club"})
    community_admin.post("/api/v1/communities/club/invitations", json={"member": partner.slug})
    api(partner, scopes=ADMIN_SCOPES).post("/api/v1/communities/club/accept")
    process = create(
        admin, vendor.slug, document(contacts, visibility="communities", communities=["club"])
    )
    publish(admin, process["id"])

    assert other.get(f"/api/v1/processes/{process['id']}").status_code == 200
    for url in _process_urls(process["id"]):
        assert_problem(outsider.get(url), 404, "not_found")
    assert outsider.get(f"/api/v1/members/{vendor.slug}/processes").json == []


# -- the signal ----------------------------------------------------------------------


def test_each_publish_over_the_api_sends_the_signal_once(admin, draft_process, contacts):
    received = []

    def receiver(sender, **kwargs):
        received.append((sender.process_id, sender.number, kwargs["actor"].member.slug))

    process_published.connect(receiver)
    try:
        pid = draft_process["id"]
        publish(admin, pid)
        admin.post(f"/api/v1/processes/{pid}/publish", json={})  # no draft: 409, no signal
        put(admin, f"/api/v1/processes/{pid}/draft", document(contacts))
        publish(admin, pid)
    finally:
        process_published.disconnect(receiver)

    assert received == [(pid, 1, "vendor"), (pid, 2, "vendor")]


# -- contacts ------------------------------------------------------------------------


def test_contacts_crud(admin, other, vendor):
    created = admin.post(
        f"/api/v1/members/{vendor.slug}/contacts",
        json={
            "name": "Ann Agent",
            "role": "senior_engineer",
            "email": "ann@vendor.example",
            "phone": "+1 555 0199",
            "time_zone": "America/Chicago",
            "availability": "Weekdays",
        },
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    cid = created.json["id"]
    assert created.json == {
        "id": cid,
        "name": "Ann Agent",
        "role": "senior_engineer",
        "email": "ann@vendor.example",
        "phone": "+1 555 0199",
        "time_zone": "America/Chicago",
        "availability": "Weekdays",
        "user": None,
        "active": True,
    }

    assert [c["id"] for c in other.get(f"/api/v1/members/{vendor.slug}/contacts").json] == [cid]
    assert other.get(f"/api/v1/contacts/{cid}").json["name"] == "Ann Agent"

    patched = admin.patch(f"/api/v1/contacts/{cid}", json={"role": "escalation_manager"})
    assert patched.status_code == 200, patched.get_data(as_text=True)
    assert patched.json["role"] == "escalation_manager"
    assert patched.json["phone"] == "+1 555 0199"

    assert admin.delete(f"/api/v1/contacts/{cid}").status_code == 204
    assert_problem(other.get(f"/api/v1/contacts/{cid}"), 404, "not_found")
    assert other.get(f"/api/v1/members/{vendor.slug}/contacts").json == []
    assert db.session.get(Contact, cid) is not None  # retired, not deleted


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"role": "senior_engineer"}, "name"),
        ({"name": "X"}, "role"),
        ({"name": "X", "role": "ceo"}, "role"),
        ({"name": "X", "role": "senior_engineer", "email": "nope"}, "email"),
        ({"name": "X", "role": "senior_engineer", "time_zone": "Moon/Base"}, "time_zone"),
        ({"name": "X", "role": "senior_engineer", "colour": "red"}, "colour"),
    ],
)
def test_a_bad_contact_is_a_422_naming_the_field(admin, vendor, data, field):
    response = admin.post(f"/api/v1/members/{vendor.slug}/contacts", json=data)

    body = assert_problem(response, 422, "validation_failed")
    assert field in body["errors"]
    assert admin.get(f"/api/v1/members/{vendor.slug}/contacts").json == []


def test_a_contact_links_to_a_user_of_its_own_member(admin, vendor, partner, make_user):
    ours = make_user(member=vendor, email="ours@vendor.example")
    theirs = make_user(member=partner, email="theirs@partner.example")

    linked = admin.post(
        f"/api/v1/members/{vendor.slug}/contacts",
        json={"name": "Ours", "role": "senior_engineer", "user": ours.email},
    )
    assert linked.status_code == 201, linked.get_data(as_text=True)
    assert linked.json["user"] == "ours@vendor.example"

    foreign = admin.post(
        f"/api/v1/members/{vendor.slug}/contacts",
        json={"name": "Theirs", "role": "senior_engineer", "user": theirs.email},
    )
    body = assert_problem(foreign, 422, "validation_failed")
    assert set(body["errors"]) == {"user"}
    assert body["errors"]["user"] == ["No user of your member has this e-mail."]

    unknown = admin.patch(
        f"/api/v1/contacts/{linked.json['id']}", json={"user": "ghost@vendor.example"}
    )
    assert_problem(unknown, 422, "validation_failed")
    assert admin.get(f"/api/v1/contacts/{linked.json['id']}").json["user"] == "ours@vendor.example"
    assert [c["name"] for c in admin.get(f"/api/v1/members/{vendor.slug}/contacts").json] == [
        "Ours"
    ]


def test_another_member_cannot_change_a_contact(api, partner, vendor, contacts):
    intruder = api(partner, scopes=WRITER_SCOPES)
    cid = contacts[0]["id"]

    assert_problem(
        intruder.patch(f"/api/v1/contacts/{cid}", json={"name": "Pwned"}), 404, "not_found"
    )
    assert_problem(intruder.delete(f"/api/v1/contacts/{cid}"), 404, "not_found")
    assert_problem(
        intruder.post(
            f"/api/v1/members/{vendor.slug}/contacts",
            json={"name": "Mole", "role": "senior_engineer"},
        ),
        404,
        "not_found",
    )
    contact = intruder.get(f"/api/v1/contacts/{cid}").json
    assert (contact["name"], contact["active"]) == ("Max Manager", True)


def test_editing_and_retiring_contacts_never_changes_a_published_snapshot(
    admin, other, published, contacts
):
    pid = published["id"]
    before = other.get(f"/api/v1/processes/{pid}/versions/1").json["content"]["escalation_path"]
    assert before[0]["contacts"][0]["name"] == "Max Manager"
    assert before[0]["contacts"][0]["email"] == "max@x.example"
    assert before[0]["contacts"][0]["phone"] == "+1 555 0101"
    assert before[1]["contacts"][0]["name"] == "Vera President"

    admin.patch(
        f"/api/v1/contacts/{contacts[0]['id']}", json={"name": "New Name", "email": "new@x.example"}
    )
    admin.delete(f"/api/v1/contacts/{contacts[1]['id']}")

    after = other.get(f"/api/v1/processes/{pid}/versions/1").json["content"]["escalation_path"]
    assert after == before
    current = other.get(f"/api/v1/processes/{pid}").json["current_version"]["content"]
    assert current["escalation_path"] == before


# -- ids out of range are simply not there -------------------------------------------


@pytest.mark.parametrize("n", [2**31, 2**63, 10**30])
def test_an_id_beyond_the_database_range_is_a_404(admin, other, n):
    for response in (
        other.get(f"/api/v1/processes/{n}"),
        other.get(f"/api/v1/processes/{n}/versions"),
        other.get(f"/api/v1/processes/{n}/intake-schema"),
        admin.get(f"/api/v1/processes/{n}/draft"),
        other.get(f"/api/v1/contacts/{n}"),
        admin.patch(f"/api/v1/contacts/{n}", json={"name": "X"}),
    ):
        assert_problem(response, 404, "not_found")


@pytest.mark.parametrize("n", [2**31, 2**63, 10**30, 0, -1])
def test_a_tier_contact_id_beyond_the_range_is_a_422(admin, draft_process, contacts, n):
    bad = document(contacts)
    bad["escalation_path"][0]["contacts"] = [n]

    response = put(admin, f"/api/v1/processes/{draft_process['id']}/draft", bad)

    body = assert_problem(response, 422, "validation_failed")
    assert set(body["errors"]) == {"escalation_path.0.contacts.0"}


def test_post_draft_starts_one_from_the_newest_version_with_contact_ids(admin, published, other):
    url = f"/api/v1/processes/{published['id']}/draft"
    started = admin.post(url)
    assert started.status_code == 201
    tiers = started.json["content"]["escalation_path"]
    assert all(isinstance(c, int) for tier in tiers for c in tier["contacts"])
    again = admin.post(url)
    assert again.status_code == 201 and again.json["updated_at"] == started.json["updated_at"]
    assert other.post(url).status_code == 403  # a program without processes:write
