"""The processes service without HTTP: drafts, publishing, versions and their
immutability, effective dates, references to contacts and communities, visibility, the
process_published signal, and contacts."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from exchange.auth.actor import Actor
from exchange.db import db
from exchange.errors import Conflict, NotFound, Problem, ValidationFailed
from exchange.members import service as members
from exchange.processes import service
from exchange.processes.models import Process, ProcessVersion, VersionStatus
from exchange.processes.signals import process_published
from tests.processes.test_content import sample_content

WRITE = ("directory:read", "processes:write")
ADMIN = ("directory:read", "processes:write", "members:admin")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def program(member, *scopes: str) -> Actor:
    """A program (no person) acting for ``member``."""
    return Actor(member=member, scopes=frozenset(scopes or WRITE))


@pytest.fixture()
def vendor(make_member):
    return make_member()


@pytest.fixture()
def partner(make_member):
    return make_member()


@pytest.fixture()
def owner(vendor):
    return program(vendor, *ADMIN)


@pytest.fixture()
def reader(partner):
    return program(partner, "directory:read")


def add_contact(actor, name="Max Manager", role="escalation_manager", **data):
    email = data.pop("email", f"{name.split()[0].lower()}@{actor.member.slug}.example")
    return service.create_contact(
        actor=actor, member=actor.member, data={"name": name, "role": role, "email": email, **data}
    )


def content_with(contacts, **overrides) -> dict:
    path = [
        {"name": "Escalation manager", "after_minutes": 60, "contacts": [contacts[0].id]},
        {"name": "VP", "after_minutes": 120, "contacts": [c.id for c in contacts[1:]]},
    ]
    return sample_content(escalation_path=path, **overrides)


@pytest.fixture()
def contacts(owner):
    return [
        add_contact(owner, "Max Manager", phone="+1 555 0101"),
        add_contact(owner, "Vera President", role="support_manager"),
    ]


@pytest.fixture()
def process(owner, contacts):
    return service.create_process(actor=owner, member=owner.member, content=content_with(contacts))


def reload(process: Process) -> Process:
    """The process as the database has it now (nothing cached in the session)."""
    db.session.expire_all()
    return db.session.get(Process, process.id)


# -- drafts --------------------------------------------------------------------------


def test_a_new_process_is_a_draft_without_versions(owner, process):
    process = reload(process)

    assert process.name == "Storage collaborative support"
    assert process.member_id == owner.member.id
    assert service.published_versions(process) == []
    assert service.current_version(process) is None
    draft = service.get_draft(actor=owner, process=process)
    assert draft.status == VersionStatus.draft
    assert draft.number is None
    assert draft.content["escalation_path"][0]["contacts"] == [
        process.versions[0].content["escalation_path"][0]["contacts"][0]
    ]
    assert isinstance(draft.content["escalation_path"][0]["contacts"][0], int)


def test_saving_the_draft_replaces_its_content_and_the_process_name(owner, process, contacts):
    draft = service.save_draft(
        actor=owner, process=process, content=content_with(contacts, name="Renamed")
    )

    process = reload(process)
    assert process.name == "Renamed"
    assert service.get_draft(actor=owner, process=process).id == draft.id
    assert len(process.versions) == 1


def test_an_invalid_save_changes_nothing(owner, process, contacts):
    before = copy.deepcopy(service.draft_of(process).content)
    bad = content_with(contacts, name="Broken")
    bad["severities"][1]["key"] = "1"

    with pytest.raises(ValidationFailed) as caught:
        service.save_draft(actor=owner, process=process, content=bad)

    assert "severities.1.key" in caught.value.errors
    process = reload(process)
    assert service.draft_of(process).content == before
    assert process.name == "Storage collaborative support"


def test_only_the_owning_member_reads_the_draft(process, reader, vendor):
    with pytest.raises(NotFound):
        service.get_draft(actor=reader, process=process)
    with pytest.raises(Problem) as caught:
        service.get_draft(actor=program(vendor, "directory:read"), process=process)
    assert caught.value.code == "insufficient_scope"
    assert caught.value.status == 403


def test_another_member_cannot_create_or_save_a_process(reader, partner, vendor, process):
    partner_writer = program(partner, *WRITE)

    with pytest.raises(NotFound):
        service.create_process(actor=partner_writer, member=vendor, content=sample_content())
    with pytest.raises(NotFound):
        service.save_draft(actor=partner_writer, process=process, content=sample_content())
    with pytest.raises(NotFound):
        service.publish(actor=partner_writer, process=process)
    assert service.draft_of(reload(process)).content["name"] == "Storage collaborative support"


def test_writing_needs_the_processes_write_scope(vendor):
    with pytest.raises(Problem) as caught:
        service.create_process(
            actor=program(vendor, "directory:read"), member=vendor, content=sample_content()
        )

    assert caught.value.code == "insufficient_scope"
    assert db.session.query(Process).filter_by(member_id=vendor.id).count() == 0


# -- publishing ----------------------------------------------------------------------


def test_publishing_makes_version_1_current_with_contact_snapshots(owner, process, contacts):
    version = service.publish(actor=owner, process=process, now=NOW)

    assert version.number == 1
    assert version.status == VersionStatus.published
    assert version.published_at == NOW
    assert version.effective_at == NOW
    process = reload(process)
    assert service.draft_of(process) is None
    assert service.current_version(process, NOW).number == 1
    tiers = service.current_version(process, NOW).content["escalation_path"]
    assert tiers[0]["contacts"] == [
        {
            "id": contacts[0].id,
            "name": "Max Manager",
            "role": "escalation_manager",
            "email": f"max@{owner.member.slug}.example",
            "phone": "+1 555 0101",
            "time_zone": "UTC",
            "availability": "",
        }
    ]
    assert tiers[1]["contacts"][0]["name"] == "Vera President"


def test_a_second_publish_is_version_2_and_version_1_stays_as_it_was(owner, process, contacts):
    v1 = service.publish(actor=owner, process=process, now=NOW)
    v1_content = copy.deepcopy(v1.content)
    changed = content_with(contacts, name="Version two")
    changed["severities"][0]["response_minutes"] = 30
    service.save_draft(actor=owner, process=process, content=changed)
    later = NOW + timedelta(days=1)

    v2 = service.publish(actor=owner, process=process, now=later)

    assert v2.number == 2
    process = reload(process)
    assert [v.number for v in service.published_versions(process)] == [1, 2]
    assert service.current_version(process, later).number == 2
    assert service.current_version(process, later - timedelta(hours=1)).number == 1
    assert service.get_version(actor=owner, process=process, number=1).content == v1_content
    assert process.name == "Version two"


def test_published_content_survives_a_later_draft(owner, process, contacts):
    service.publish(actor=owner, process=process, now=NOW)
    before = copy.deepcopy(service.get_version(actor=owner, process=process, number=1).content)

    service.save_draft(actor=owner, process=process, content=sample_content(name="Scratch"))

    process = reload(process)
    assert service.get_version(actor=owner, process=process, number=1).content == before
    assert service.get_draft(actor=owner, process=process).content["name"] == "Scratch"


def test_a_published_version_refuses_edits(owner, process, reader):
    service.publish(actor=owner, process=process)

    with pytest.raises(Conflict) as caught:
        service.refuse_version_edit(actor=owner, process=process, number=1)

    assert caught.value.code == "version_immutable"
    assert caught.value.status == 409
    with pytest.raises(NotFound):
        service.refuse_version_edit(actor=owner, process=process, number=2)


def test_publishing_without_a_draft_is_a_conflict(owner, process):
    service.publish(actor=owner, process=process)

    with pytest.raises(Conflict) as caught:
        service.publish(actor=owner, process=process)

    assert caught.value.code == "conflict"
    assert [v.number for v in service.published_versions(reload(process))] == [1]


def test_publishing_an_empty_draft_names_the_severities(owner):
    process = service.create_process(actor=owner, member=owner.member, content={"name": "Empty"})

    with pytest.raises(ValidationFailed) as caught:
        service.publish(actor=owner, process=process)

    assert set(caught.value.errors) == {"severities"}
    assert service.draft_of(reload(process)).status == VersionStatus.draft


def test_a_future_effective_at_publishes_but_is_not_current_until_then(owner, process, reader):
    starts = NOW + timedelta(days=7)

    version = service.publish(actor=owner, process=process, effective_at=starts, now=NOW)

    assert version.number == 1
    assert version.status == VersionStatus.published
    assert version.effective_at == starts
    process = reload(process)
    assert service.current_version(process, NOW) is None
    assert service.current_version(process, starts - timedelta(seconds=1)) is None
    assert service.current_version(process, starts).number == 1
    # Until then, other members cannot see a process that has nothing in force.
    assert service.can_see(reader, process, NOW) is False
    assert service.can_see(reader, process, starts) is True
    assert service.can_see(owner, process, NOW) is True


def test_a_future_version_2_leaves_version_1_current_until_it_starts(owner, process, contacts):
    service.publish(actor=owner, process=process, now=NOW)
    service.save_draft(actor=owner, process=process, content=content_with(contacts, name="Next"))
    starts = NOW + timedelta(days=30)

    service.publish(actor=owner, process=process, effective_at=starts, now=NOW + timedelta(hours=1))

    process = reload(process)
    assert service.current_version(process, NOW + timedelta(days=29)).number == 1
    assert service.current_version(process, starts).number == 2


def test_a_past_effective_at_is_refused(owner, process):
    with pytest.raises(ValidationFailed) as caught:
        service.publish(
            actor=owner, process=process, effective_at=NOW - timedelta(hours=1), now=NOW
        )

    assert set(caught.value.errors) == {"effective_at"}
    assert service.published_versions(reload(process)) == []


def test_an_effective_at_a_moment_ago_absorbs_clock_skew(owner, process):
    version = service.publish(
        actor=owner, process=process, effective_at=NOW - timedelta(minutes=2), now=NOW
    )

    assert version.effective_at == NOW - timedelta(minutes=2)


def test_the_signal_is_sent_once_per_publish_with_the_version(owner, process, contacts):
    received = []

    def receiver(sender, **kwargs):
        received.append((sender, kwargs))

    process_published.connect(receiver)
    try:
        v1 = service.publish(actor=owner, process=process)
        service.save_draft(actor=owner, process=process, content=content_with(contacts))
        v2 = service.publish(actor=owner, process=process)
        with pytest.raises(Conflict):
            service.publish(actor=owner, process=process)
    finally:
        process_published.disconnect(receiver)

    assert [sender for sender, _ in received] == [v1, v2]
    assert all(isinstance(sender, ProcessVersion) for sender, _ in received)
    assert [sender.number for sender, _ in received] == [1, 2]
    assert all(kwargs == {"actor": owner} for _, kwargs in received)


def test_a_failed_publish_sends_no_signal(owner):
    process = service.create_process(actor=owner, member=owner.member, content={"name": "Empty"})
    received = []

    def receiver(sender, **kwargs):
        received.append(sender)

    process_published.connect(receiver)
    try:
        with pytest.raises(ValidationFailed):
            service.publish(actor=owner, process=process)
    finally:
        process_published.disconnect(receiver)

    assert received == []


# -- start and discard a draft -------------------------------------------------------


def test_start_draft_copies_the_latest_version_with_contact_ids(owner, process, contacts):
    service.publish(actor=owner, process=process, now=NOW)
    service.save_draft(actor=owner, process=process, content=content_with(contacts, name="Two"))
    v2 = service.publish(actor=owner, process=process, now=NOW + timedelta(hours=1))

    draft = service.start_draft(actor=owner, process=process)

    assert draft.status == VersionStatus.draft
    assert draft.number is None
    assert draft.content["name"] == "Two"
    assert draft.content["escalation_path"][0]["contacts"] == [contacts[0].id]
    assert draft.content["escalation_path"][1]["contacts"] == [contacts[1].id]
    assert {k: v for k, v in draft.content.items() if k != "escalation_path"} == {
        k: v for k, v in v2.content.items() if k != "escalation_path"
    }
    # The copy is the draft's own: the published version keeps its snapshots.
    assert isinstance(v2.content["escalation_path"][0]["contacts"][0], dict)
    # Publishing the copy unchanged gives a version 3 with no changes.
    service.publish(actor=owner, process=process, now=NOW + timedelta(hours=2))
    diff = service.diff_versions(actor=owner, process=process, from_number=2, to_number=3)
    assert diff == {"from": 2, "to": 3, "changes": []}


def test_start_draft_returns_the_existing_draft(owner, process):
    existing = service.draft_of(process)

    assert service.start_draft(actor=owner, process=process).id == existing.id


def test_start_draft_without_any_version_is_a_conflict(owner, vendor):
    # Not reachable through the rules (a process is born with a draft and keeps one
    # until published); a process row alone stands for a damaged one.
    bare = Process(member=vendor, name="Bare")
    db.session.add(bare)
    db.session.flush()

    with pytest.raises(Conflict):
        service.start_draft(actor=owner, process=bare)


def test_start_draft_is_for_the_owner_only(owner, process, partner):
    service.publish(actor=owner, process=process)

    with pytest.raises(NotFound):
        service.start_draft(actor=program(partner, *WRITE), process=process)
    assert service.draft_of(reload(process)) is None


def test_the_only_draft_of_an_unpublished_process_cannot_be_discarded(owner, process):
    with pytest.raises(Conflict):
        service.discard_draft(actor=owner, process=process)

    assert service.draft_of(reload(process)) is not None


def test_a_draft_after_publishing_can_be_discarded(owner, process):
    service.publish(actor=owner, process=process)
    service.start_draft(actor=owner, process=process)

    service.discard_draft(actor=owner, process=process)

    process = reload(process)
    assert service.draft_of(process) is None
    assert [v.number for v in service.published_versions(process)] == [1]
    with pytest.raises(NotFound):
        service.discard_draft(actor=owner, process=process)


def test_another_member_cannot_discard_the_draft(owner, process, partner):
    service.publish(actor=owner, process=process)
    service.start_draft(actor=owner, process=process)

    with pytest.raises(NotFound):
        service.discard_draft(actor=program(partner, *WRITE), process=process)

    assert service.draft_of(reload(process)) is not None


# -- references: contacts and communities --------------------------------------------


def test_a_tier_pointing_at_another_members_contact_is_refused(owner, partner, contacts):
    theirs = add_contact(program(partner, *WRITE), "Their Manager")
    content = content_with(contacts)
    content["escalation_path"][0]["contacts"] = [theirs.id]

    with pytest.raises(ValidationFailed) as caught:
        service.create_process(actor=owner, member=owner.member, content=content)

    assert set(caught.value.errors) == {"escalation_path.0.contacts.0"}
    assert db.session.query(Process).filter_by(member_id=owner.member.id).count() == 0


def test_a_tier_pointing_at_a_contact_that_does_not_exist_is_refused(owner, process, contacts):
    content = content_with(contacts)
    content["escalation_path"][1]["contacts"] = [contacts[1].id, 10**9]

    with pytest.raises(ValidationFailed) as caught:
        service.save_draft(actor=owner, process=process, content=content)

    assert set(caught.value.errors) == {"escalation_path.1.contacts.1"}


def test_a_retired_contact_cannot_be_named(owner, process, contacts):
    service.remove_contact(actor=owner, contact=contacts[1])

    with pytest.raises(ValidationFailed) as caught:
        service.save_draft(actor=owner, process=process, content=content_with(contacts))

    assert set(caught.value.errors) == {"escalation_path.1.contacts.0"}


def test_a_contact_retired_after_the_draft_was_saved_stops_the_publish(owner, process, contacts):
    service.remove_contact(actor=owner, contact=contacts[0])

    with pytest.raises(ValidationFailed) as caught:
        service.publish(actor=owner, process=process)

    assert set(caught.value.errors) == {"escalation_path.0.contacts.0"}
    assert service.published_versions(reload(process)) == []


def test_a_community_the_member_is_not_in_is_refused(owner, partner, contacts):
    partner_admin = program(partner, *ADMIN)
    members.communities.create_community(actor=partner_admin, slug="elsewhere", name="Elsewhere")

    content = content_with(contacts, visibility="communities", communities=["elsewhere"])
    with pytest.raises(ValidationFailed) as caught:
        service.create_process(actor=owner, member=owner.member, content=content)
    assert set(caught.value.errors) == {"communities.0"}

    content["communities"] = ["nowhere"]
    with pytest.raises(ValidationFailed) as caught:
        service.create_process(actor=owner, member=owner.member, content=content)
    assert set(caught.value.errors) == {"communities.0"}


def test_an_invitation_alone_does_not_let_a_member_restrict_to_a_community(
    owner, partner, contacts
):
    partner_admin = program(partner, *ADMIN)
    community = members.communities.create_community(
        actor=partner_admin, slug="theirs", name="Theirs"
    )
    members.communities.invite(
        actor=partner_admin, community=community, member_slug=owner.member.slug
    )
    content = content_with(contacts, visibility="communities", communities=["theirs"])

    with pytest.raises(ValidationFailed):
        service.create_process(actor=owner, member=owner.member, content=content)

    members.communities.accept(actor=owner, community=community)
    process = service.create_process(actor=owner, member=owner.member, content=content)
    assert service.draft_of(process).content["communities"] == ["theirs"]


# -- visibility ----------------------------------------------------------------------


def test_an_unpublished_process_is_invisible_to_others(owner, process, reader, vendor):
    assert service.can_see(owner, process) is True
    assert service.can_see(reader, process) is False
    with pytest.raises(NotFound):
        service.get_process(actor=reader, process_id=process.id)
    assert service.list_processes(actor=reader, member=vendor) == []
    assert service.list_processes(actor=owner, member=vendor) == [process]


def test_a_published_process_is_visible_to_every_member(owner, process, reader, vendor):
    service.publish(actor=owner, process=process)

    assert service.get_process(actor=reader, process_id=process.id) is process
    assert service.list_processes(actor=reader, member=vendor) == [process]


def test_a_community_process_follows_community_membership(owner, contacts, partner, vendor):
    community = members.communities.create_community(actor=owner, slug="inner", name="Inner")
    process = service.create_process(
        actor=owner,
        member=vendor,
        content=content_with(contacts, visibility="communities", communities=["inner"]),
    )
    service.publish(actor=owner, process=process)
    open_process = service.create_process(
        actor=owner, member=vendor, content=content_with(contacts)
    )
    service.publish(actor=owner, process=open_process)
    partner_admin = program(partner, *ADMIN)

    def sees() -> bool:
        visible = service.list_processes(actor=partner_admin, member=vendor)
        assert open_process in visible
        return process in visible and service.can_see(partner_admin, process)

    assert sees() is False
    members.communities.invite(actor=owner, community=community, member_slug=partner.slug)
    assert sees() is False
    members.communities.accept(actor=partner_admin, community=community)
    assert sees() is True
    assert service.get_process(actor=partner_admin, process_id=process.id) is process
    members.communities.leave(actor=partner_admin, community=community)
    assert sees() is False
    with pytest.raises(NotFound):
        service.get_process(actor=partner_admin, process_id=process.id)


def test_visibility_follows_the_current_version(owner, process, contacts, reader):
    """A later version that restricts the process hides it once it is in force."""
    members.communities.create_community(actor=owner, slug="closed", name="Closed")
    service.publish(actor=owner, process=process, now=NOW)
    restricted = content_with(contacts, visibility="communities", communities=["closed"])
    service.save_draft(actor=owner, process=process, content=restricted)
    starts = NOW + timedelta(days=1)
    service.publish(actor=owner, process=process, effective_at=starts, now=NOW)

    assert service.can_see(reader, process, NOW) is True
    assert service.can_see(reader, process, starts) is False


# -- diff and intake schema ----------------------------------------------------------


def test_diff_between_versions_and_to_the_draft(owner, process, contacts, reader):
    service.publish(actor=owner, process=process)
    changed = content_with(contacts)
    changed["severities"][3]["response_minutes"] = 480
    changed["coverage"]["time_zone"] = "America/New_York"
    service.save_draft(actor=owner, process=process, content=changed)

    to_draft = service.diff_versions(actor=owner, process=process, from_number=1, to_number="draft")

    assert to_draft["from"] == 1
    assert to_draft["to"] == "draft"
    assert [c["path"] for c in to_draft["changes"]] == [
        "coverage.time_zone",
        "severities.4.response_minutes",
    ]
    with pytest.raises(NotFound):
        service.diff_versions(actor=reader, process=process, from_number=1, to_number="draft")
    with pytest.raises(NotFound):
        service.diff_versions(actor=owner, process=process, from_number=1, to_number=2)


def test_a_changed_escalation_contact_shows_in_the_diff_by_id(owner, process, contacts):
    service.publish(actor=owner, process=process)
    spare = add_contact(owner, "Sam Spare")
    changed = content_with(contacts)
    changed["escalation_path"][0]["contacts"] = [spare.id]
    service.save_draft(actor=owner, process=process, content=changed)
    service.publish(actor=owner, process=process)

    diff = service.diff_versions(actor=owner, process=process, from_number=1, to_number=2)

    assert [c["path"] for c in diff["changes"]] == ["escalation_path"]
    [change] = diff["changes"]
    assert change["from"][0]["contacts"] == [contacts[0].id]
    assert change["to"][0]["contacts"] == [spare.id]
    assert change["from"][1] == change["to"][1]


def test_the_intake_schema_is_of_the_current_or_the_named_version(owner, process, contacts):
    with pytest.raises(NotFound):
        service.intake_schema(actor=owner, process=process, schema_id="x")
    service.publish(actor=owner, process=process)
    changed = content_with(contacts)
    changed["intake_fields"].append({"key": "ticket", "label": "Ticket", "type": "string"})
    service.save_draft(actor=owner, process=process, content=changed)
    service.publish(actor=owner, process=process)

    current = service.intake_schema(actor=owner, process=process, schema_id="x")
    first = service.intake_schema(actor=owner, process=process, number=1, schema_id="x")

    assert "ticket" in current["properties"]
    assert "ticket" not in first["properties"]
    assert current["title"].endswith("v2")
    assert first["title"].endswith("v1")
    assert owner.member.name in current["title"]
    with pytest.raises(NotFound):
        service.intake_schema(actor=owner, process=process, number=3, schema_id="x")


# -- contacts ------------------------------------------------------------------------


def test_contacts_are_created_listed_edited_and_retired(owner, vendor, reader):
    contact = add_contact(owner, "Ann Agent", role="senior_engineer", time_zone="Asia/Kolkata")
    other = add_contact(owner, "Bob Boss", role="support_manager")

    assert service.list_contacts(actor=reader, member=vendor) == [contact, other]
    service.update_contact(actor=owner, contact=contact, changes={"phone": "+91 80 555"})
    assert service.get_contact(actor=reader, contact_id=contact.id).phone == "+91 80 555"
    service.remove_contact(actor=owner, contact=contact)
    assert service.list_contacts(actor=reader, member=vendor) == [other]
    with pytest.raises(NotFound):
        service.get_contact(actor=owner, contact_id=contact.id)


def test_a_contact_needs_a_name_and_a_known_role_and_time_zone(owner):
    with pytest.raises(ValidationFailed) as caught:
        service.create_contact(actor=owner, member=owner.member, data={"email": "x@y.example"})
    assert set(caught.value.errors) == {"name", "role"}

    with pytest.raises(ValidationFailed) as caught:
        service.create_contact(
            actor=owner,
            member=owner.member,
            data={"name": "X", "role": "ceo", "time_zone": "Nowhere/City"},
        )
    assert set(caught.value.errors) == {"role", "time_zone"}


def test_a_contact_links_to_a_user_of_its_own_member_only(owner, vendor, partner, make_user):
    ours = make_user(member=vendor)
    theirs = make_user(member=partner)

    linked = add_contact(owner, "Linked", user=ours.email.upper())
    assert linked.user == ours

    with pytest.raises(ValidationFailed) as caught:
        add_contact(owner, "Mole", user=theirs.email)
    assert set(caught.value.errors) == {"user"}
    with pytest.raises(ValidationFailed):
        service.update_contact(actor=owner, contact=linked, changes={"user": theirs.email})
    assert reload_contact(linked).user_id == ours.id

    service.update_contact(actor=owner, contact=linked, changes={"user": None})
    assert reload_contact(linked).user_id is None


def reload_contact(contact):
    db.session.expire(contact)
    return contact


def test_another_member_cannot_edit_or_retire_a_contact(contacts, partner):
    intruder = program(partner, *WRITE)

    with pytest.raises(NotFound):
        service.update_contact(actor=intruder, contact=contacts[0], changes={"name": "Pwned"})
    with pytest.raises(NotFound):
        service.remove_contact(actor=intruder, contact=contacts[0])
    with pytest.raises(NotFound):
        service.create_contact(
            actor=intruder,
            member=contacts[0].member,
            data={"name": "Mole", "role": "senior_engineer"},
        )
    contact = reload_contact(contacts[0])
    assert (contact.name, contact.active) == ("Max Manager", True)


def test_editing_or_retiring_a_contact_never_rewrites_a_published_version(owner, process, contacts):
    v1 = service.publish(actor=owner, process=process)
    before = copy.deepcopy(v1.content)

    service.update_contact(
        actor=owner, contact=contacts[0], changes={"name": "Renamed", "email": "new@x.example"}
    )
    service.remove_contact(actor=owner, contact=contacts[1])

    process = reload(process)
    version = service.get_version(actor=owner, process=process, number=1)
    assert version.content == before
    assert version.content["escalation_path"][0]["contacts"][0]["name"] == "Max Manager"
    assert version.content["escalation_path"][1]["contacts"][0]["name"] == "Vera President"
