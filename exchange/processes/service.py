"""Support processes: drafts, publishing, versions, visibility, and contacts.

A member's admins (scope ``processes:write``) edit one draft per process and publish it
as the next numbered version. Everyone who may see a process (all members, or only
members of the communities it names) reads its current version, history and diff.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

from marshmallow import ValidationError
from sqlalchemy import bindparam, select

from exchange import clock
from exchange.db import db, get_by_id
from exchange.errors import Conflict, NotFound, ValidationFailed, flatten_errors
from exchange.members import service as members
from exchange.members.models import Member, User
from exchange.processes.diff import diff_content
from exchange.processes.intake import intake_json_schema
from exchange.processes.models import Contact, Process, ProcessVersion, VersionStatus
from exchange.processes.schemas import ContactIn, ProcessContentIn
from exchange.processes.signals import (
    contact_created,
    contact_removed,
    contact_updated,
    process_created,
    process_published,
)

# Publishing may be dated slightly in the past to absorb clock skew, never more.
EFFECTIVE_SKEW = timedelta(minutes=5)


def _require_writer(actor, member: Member) -> None:
    if actor.member.id != member.id:
        raise NotFound(f"No such resource of {member.slug!r}.")
    actor.require("processes:write")


def load_content(raw) -> dict:
    """Validate a process version's content; the answer is plain, normalised JSON."""
    try:
        return ProcessContentIn().load(raw)
    except ValidationError as exc:
        raise ValidationFailed(
            "The process has invalid fields.", errors=flatten_errors(exc.messages)
        ) from exc


def _check_references(member: Member, content: dict) -> None:
    """Escalation contacts must be this member's active contacts; communities must exist
    and include this member."""
    errors: dict[str, list[str]] = {}
    wanted = {c for tier in content["escalation_path"] for c in tier["contacts"]}
    found = {
        c.id
        for c in db.session.scalars(
            select(Contact).where(
                Contact.id.in_(wanted), Contact.member_id == member.id, Contact.active.is_(True)
            )
        )
    }
    for i, tier in enumerate(content["escalation_path"]):
        for j, contact_id in enumerate(tier["contacts"]):
            if contact_id not in found:
                errors[f"escalation_path.{i}.contacts.{j}"] = [
                    f"No active contact {contact_id} of your member."
                ]
    usable = members.communities.community_slugs_of(member)
    for i, slug in enumerate(content["communities"]):
        if slug not in usable:
            errors[f"communities.{i}"] = [f"Your member is not in a community {slug!r}."]
    if errors:
        raise ValidationFailed("The process refers to things it cannot use.", errors=errors)


# -- reading ------------------------------------------------------------------------


def current_version(process: Process, now: datetime | None = None) -> ProcessVersion | None:
    """The published version in force: the newest whose ``effective_at`` has come."""
    now = now or clock.now()
    live = [
        v for v in process.versions if v.status == VersionStatus.published and v.effective_at <= now
    ]
    return max(live, key=lambda v: v.number) if live else None


def draft_of(process: Process) -> ProcessVersion | None:
    return next((v for v in process.versions if v.status == VersionStatus.draft), None)


def published_versions(process: Process) -> list[ProcessVersion]:
    return sorted(
        (v for v in process.versions if v.status == VersionStatus.published), key=lambda v: v.number
    )


def can_see(actor, process: Process, now: datetime | None = None) -> bool:
    return member_can_see(actor.member, process, now)


def member_can_see(member: Member, process: Process, now: datetime | None = None) -> bool:
    """The owner always; others once a version is in force, within its visibility."""
    if member.id == process.member_id:
        return True
    version = current_version(process, now)
    if version is None:
        return False
    content = version.content
    if content.get("visibility", "all") == "all":
        return True
    return bool(
        set(content.get("communities", [])) & members.communities.community_slugs_of(member)
    )


def get_process(*, actor, process_id: int, now: datetime | None = None) -> Process:
    process = get_by_id(Process, process_id)
    if process is None or not can_see(actor, process, now):
        raise NotFound(f"No process {process_id}.")
    return process


# Built once (every case open that names no process reads it).
_PROCESSES_OF = (
    select(Process).where(Process.member_id == bindparam("member_id")).order_by(Process.id)
)


def list_processes(*, actor, member: Member, now: datetime | None = None) -> list[Process]:
    """The processes of ``member`` the actor may use at ``now`` (its own member sees all,
    drafts too)."""
    processes = db.session.scalars(_PROCESSES_OF, {"member_id": member.id})
    return [p for p in processes if can_see(actor, p, now)]


def processes_of(member: Member) -> list[Process]:
    """All of a member's processes, oldest first (for the member's own bookkeeping)."""
    return list(
        db.session.scalars(
            select(Process).where(Process.member_id == member.id).order_by(Process.id)
        )
    )


def get_version(*, actor, process: Process, number: int) -> ProcessVersion:
    for version in published_versions(process):
        if version.number == number:
            return version
    raise NotFound(f"Process {process.id} has no version {number}.")


def get_draft(*, actor, process: Process) -> ProcessVersion:
    _require_writer(actor, process.member)
    draft = draft_of(process)
    if draft is None:
        raise NotFound(f"Process {process.id} has no draft; save one to start editing.")
    return draft


def diff_versions(*, actor, process: Process, from_number: int, to_number: int | str) -> dict:
    """Changes between two published versions (or, for its own member, to the draft)."""
    old = get_version(actor=actor, process=process, number=from_number)
    new = (
        get_draft(actor=actor, process=process)
        if to_number == "draft"
        else get_version(actor=actor, process=process, number=int(to_number))
    )
    return {
        "from": old.number,
        "to": new.number if new.number else "draft",
        "changes": diff_content(_comparable(old.content), _comparable(new.content)),
    }


def _comparable(content: dict) -> dict:
    """Escalation contacts as ids, so a draft (ids) and a version (snapshots) compare."""
    content = copy.deepcopy(content)
    for tier in content.get("escalation_path", []):
        tier["contacts"] = [c["id"] if isinstance(c, dict) else c for c in tier["contacts"]]
    return content


def intake_schema(*, actor, process: Process, number: int | None = None, schema_id: str) -> dict:
    version = (
        get_version(actor=actor, process=process, number=number)
        if number
        else current_version(process)
    )
    if version is None:
        raise NotFound(f"Process {process.id} has no published version yet.")
    title = f"Intake for {process.member.name}: {version.content['name']} v{version.number}"
    return intake_json_schema(version.content, title=title, schema_id=schema_id)


# -- writing ------------------------------------------------------------------------


def create_process(*, actor, member: Member, content: dict) -> Process:
    """A new process with its first draft."""
    _require_writer(actor, member)
    content = load_content(content)
    _check_references(member, content)
    process = Process(member=member, name=content["name"])
    db.session.add(process)
    db.session.add(ProcessVersion(process=process, status=VersionStatus.draft, content=content))
    db.session.flush()
    process_created.send(process, actor=actor)
    return process


def save_draft(*, actor, process: Process, content: dict) -> ProcessVersion:
    """Replace the draft's content (starting a draft when there is none)."""
    _require_writer(actor, process.member)
    content = load_content(content)
    _check_references(process.member, content)
    draft = draft_of(process)
    if draft is None:
        draft = ProcessVersion(process=process, status=VersionStatus.draft, content=content)
        db.session.add(draft)
    else:
        draft.content = content
    process.name = content["name"]
    db.session.flush()
    return draft


def start_draft(*, actor, process: Process) -> ProcessVersion:
    """The draft, or a new one copied from the newest published version."""
    _require_writer(actor, process.member)
    draft = draft_of(process)
    if draft is not None:
        return draft
    versions = published_versions(process)
    if not versions:
        raise Conflict("This process has neither a draft nor a published version.")
    draft = ProcessVersion(
        process=process, status=VersionStatus.draft, content=_comparable(versions[-1].content)
    )
    db.session.add(draft)
    db.session.flush()
    return draft


def discard_draft(*, actor, process: Process) -> None:
    draft = get_draft(actor=actor, process=process)
    versions = published_versions(process)
    if not versions:
        raise Conflict("The only draft of an unpublished process cannot be discarded.")
    # The name followed the draft; it goes back to the newest published version's.
    process.name = versions[-1].content["name"]
    db.session.delete(draft)
    db.session.flush()


def publish(
    *, actor, process: Process, effective_at: datetime | None = None, now: datetime | None = None
) -> ProcessVersion:
    """Publish the draft as the next version: immutable, with escalation contacts copied
    in, effective now or at a later ``effective_at``."""
    _require_writer(actor, process.member)
    now = now or clock.now()
    draft = draft_of(process)
    if draft is None:
        raise Conflict("There is no draft to publish.")
    content = load_content(draft.content)
    if not content["severities"]:
        raise ValidationFailed(
            "An empty process cannot be published.",
            errors={"severities": ["Publish at least one severity level."]},
        )
    _check_references(process.member, content)
    effective_at = effective_at or now
    if effective_at < now - EFFECTIVE_SKEW:
        raise ValidationFailed(errors={"effective_at": ["Cannot take effect in the past."]})
    contacts = {
        c.id: c
        for c in db.session.scalars(select(Contact).where(Contact.member_id == process.member_id))
    }
    for tier in content["escalation_path"]:
        tier["contacts"] = [contacts[c].snapshot() for c in tier["contacts"]]
    numbers = [v.number for v in published_versions(process)]
    draft.content = content
    draft.number = max(numbers, default=0) + 1
    draft.status = VersionStatus.published
    draft.published_at = now
    draft.effective_at = effective_at
    draft.published_by = actor.user
    draft.published_by_client = actor.client.client_id if actor.client else None
    process.name = content["name"]
    db.session.flush()
    process_published.send(draft, actor=actor)
    return draft


def refuse_version_edit(*, actor, process: Process, number: int) -> None:
    """Published versions are immutable: say so (409) rather than pretend to edit."""
    get_version(actor=actor, process=process, number=number)
    _require_writer(actor, process.member)
    raise Conflict(
        f"Version {number} is published and cannot change; edit the draft "
        "and publish a new version.",
        code="version_immutable",
    )


# -- contacts -----------------------------------------------------------------------


def list_contacts(*, actor, member: Member) -> list[Contact]:
    return list(
        db.session.scalars(
            select(Contact)
            .where(Contact.member_id == member.id, Contact.active.is_(True))
            .order_by(Contact.id)
        )
    )


def get_contact(*, actor, contact_id: int) -> Contact:
    contact = get_by_id(Contact, contact_id)
    if contact is None or not contact.active:
        raise NotFound(f"No contact {contact_id}.")
    return contact


def _contact_fields(member: Member, data: dict) -> dict:
    try:
        data = ContactIn(partial=True).load(data)
    except ValidationError as exc:
        raise ValidationFailed(errors=flatten_errors(exc.messages)) from exc
    if "user" in data:
        email = data.pop("user")
        user = members.find_user_by_email(email=email) if email else None
        if email and (user is None or user.member_id != member.id):
            raise ValidationFailed(errors={"user": ["No user of your member has this e-mail."]})
        data["user"] = user
    return data


def create_contact(*, actor, member: Member, data: dict) -> Contact:
    _require_writer(actor, member)
    fields = _contact_fields(member, data)
    missing = [k for k in ("name", "role") if k not in fields]
    if missing:
        raise ValidationFailed(errors={k: ["Missing data for required field."] for k in missing})
    contact = Contact(member=member, **fields)
    db.session.add(contact)
    db.session.flush()
    contact_created.send(contact, actor=actor)
    return contact


def _plain(value):
    # A contact's person is named by e-mail in what the audit log keeps.
    return value.email if isinstance(value, User) else value


def update_contact(*, actor, contact: Contact, changes: dict) -> Contact:
    _require_writer(actor, contact.member)
    changed = {}
    for key, value in _contact_fields(contact.member, changes).items():
        old = _plain(getattr(contact, key))
        setattr(contact, key, value)
        if old != _plain(value):
            changed[key] = {"from": old, "to": _plain(value)}
    db.session.flush()
    if changed:
        contact_updated.send(contact, actor=actor, changes=changed)
    return contact


def remove_contact(*, actor, contact: Contact) -> None:
    """Retire a contact; published versions keep their copy of it."""
    _require_writer(actor, contact.member)
    contact.active = False
    db.session.flush()
    contact_removed.send(contact, actor=actor)
