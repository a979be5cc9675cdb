"""REST endpoints for processes, their drafts and versions, and contacts."""

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from exchange.auth.actor import current_actor, requires
from exchange.db import transaction
from exchange.members import service as members
from exchange.processes import service
from exchange.processes.defaults import STANDARD_SEVERITIES
from exchange.processes.schemas import (
    ContactIn,
    ContactOut,
    ContactPatchIn,
    DiffArgs,
    DiffOut,
    IntakeSchemaArgs,
    ProcessContentIn,
    ProcessOut,
    PublishIn,
    SeverityIn,
    VersionOut,
)

blp = Blueprint(
    "processes_api", __name__, url_prefix="/api/v1", description="Support processes and contacts"
)


def process_body(actor, process) -> dict:
    own = actor.member.id == process.member_id
    current = service.current_version(process)
    # ``process.name`` follows the draft, which only its own member may see.
    name = process.name if own or current is None else current.content["name"]
    return {
        "id": process.id,
        "member": process.member.slug,
        "name": name,
        "created_at": process.created_at,
        "updated_at": process.updated_at,
        "current_version": current,
        "versions": service.published_versions(process),
        "has_draft": service.draft_of(process) is not None if own else None,
    }


@blp.route("/members/<slug>/processes")
class MemberProcesses(MethodView):
    @blp.response(200, ProcessOut(many=True))
    @requires("directory:read")
    def get(self, slug):
        """The member's processes you may use, each with its current version."""
        actor = current_actor()
        member = members.get_member(slug=slug)
        return [process_body(actor, p) for p in service.list_processes(actor=actor, member=member)]

    @blp.arguments(ProcessContentIn)
    @blp.response(201, ProcessOut)
    @requires("processes:write")
    def post(self, content, slug):
        """Create a process of your own member; its content becomes the first draft."""
        actor = current_actor()
        with transaction():
            process = service.create_process(
                actor=actor, member=members.get_member(slug=slug), content=content
            )
            return (
                process_body(actor, process),
                201,
                {"Location": url_for("processes_api.ProcessItem", process_id=process.id)},
            )


@blp.route("/processes/severity-template")
class SeverityTemplate(MethodView):
    @blp.response(200, SeverityIn(many=True))
    @requires("directory:read")
    def get(self):
        """The standard severity levels from the source documents, to start a process from."""
        return STANDARD_SEVERITIES


@blp.route("/processes/<int:process_id>")
class ProcessItem(MethodView):
    @blp.response(200, ProcessOut)
    @requires("directory:read")
    def get(self, process_id):
        """A process with its current version and version list."""
        actor = current_actor()
        return process_body(actor, service.get_process(actor=actor, process_id=process_id))


@blp.route("/processes/<int:process_id>/draft")
class Draft(MethodView):
    @blp.response(200, VersionOut)
    @requires("processes:write")
    def get(self, process_id):
        """The draft of one of your processes."""
        actor = current_actor()
        process = service.get_process(actor=actor, process_id=process_id)
        return service.get_draft(actor=actor, process=process)

    @blp.response(201, VersionOut)
    @requires("processes:write")
    def post(self, process_id):
        """Start a draft from the newest published version (escalation contacts as ids),
        or return the draft that exists."""
        actor = current_actor()
        with transaction():
            process = service.get_process(actor=actor, process_id=process_id)
            return service.start_draft(actor=actor, process=process)

    @blp.arguments(ProcessContentIn)
    @blp.response(200, VersionOut)
    @requires("processes:write")
    def put(self, content, process_id):
        """Replace the draft (starting one if needed). Published versions never change."""
        actor = current_actor()
        with transaction():
            process = service.get_process(actor=actor, process_id=process_id)
            return service.save_draft(actor=actor, process=process, content=content)

    @blp.response(204)
    @requires("processes:write")
    def delete(self, process_id):
        """Discard the draft (a process needs a published version first)."""
        actor = current_actor()
        with transaction():
            process = service.get_process(actor=actor, process_id=process_id)
            service.discard_draft(actor=actor, process=process)


@blp.route("/processes/<int:process_id>/publish")
class Publish(MethodView):
    @blp.arguments(PublishIn)
    @blp.response(201, VersionOut)
    @requires("processes:write")
    def post(self, data, process_id):
        """Publish the draft as the next numbered, immutable version."""
        actor = current_actor()
        with transaction():
            process = service.get_process(actor=actor, process_id=process_id)
            version = service.publish(
                actor=actor, process=process, effective_at=data.get("effective_at")
            )
            return (
                version,
                201,
                {
                    "Location": url_for(
                        "processes_api.VersionItem", process_id=process.id, number=version.number
                    )
                },
            )


@blp.route("/processes/<int:process_id>/versions")
class Versions(MethodView):
    @blp.response(200, VersionOut(many=True))
    @requires("directory:read")
    def get(self, process_id):
        """Every published version, oldest first."""
        actor = current_actor()
        return service.published_versions(service.get_process(actor=actor, process_id=process_id))


@blp.route("/processes/<int:process_id>/versions/<int:number>")
class VersionItem(MethodView):
    @blp.response(200, VersionOut)
    @requires("directory:read")
    def get(self, process_id, number):
        """One published version."""
        actor = current_actor()
        process = service.get_process(actor=actor, process_id=process_id)
        return service.get_version(actor=actor, process=process, number=number)

    @blp.response(409)
    @requires("processes:write")
    def put(self, process_id, number):
        """Always 409: a published version is immutable (edit the draft instead)."""
        actor = current_actor()
        process = service.get_process(actor=actor, process_id=process_id)
        service.refuse_version_edit(actor=actor, process=process, number=number)

    patch = put


@blp.route("/processes/<int:process_id>/diff")
class Diff(MethodView):
    @blp.arguments(DiffArgs, location="query")
    @blp.response(200, DiffOut)
    @requires("directory:read")
    def get(self, args, process_id):
        """Field-by-field changes between two versions (`to=draft` for your own draft)."""
        actor = current_actor()
        process = service.get_process(actor=actor, process_id=process_id)
        return service.diff_versions(
            actor=actor, process=process, from_number=args["from_"], to_number=args["to"]
        )


@blp.route("/processes/<int:process_id>/intake-schema")
class IntakeSchema(MethodView):
    @blp.arguments(IntakeSchemaArgs, location="query")
    @blp.response(200)
    @requires("directory:read")
    def get(self, args, process_id):
        """JSON Schema of the `intake` a case under the current (or given) version needs."""
        actor = current_actor()
        process = service.get_process(actor=actor, process_id=process_id)
        schema_id = url_for("processes_api.IntakeSchema", process_id=process_id, _external=True)
        return service.intake_schema(
            actor=actor, process=process, number=args.get("version"), schema_id=schema_id
        )


@blp.route("/members/<slug>/contacts")
class MemberContacts(MethodView):
    @blp.response(200, ContactOut(many=True))
    @requires("directory:read")
    def get(self, slug):
        """A member's contacts (escalation managers, senior engineers...)."""
        return service.list_contacts(actor=current_actor(), member=members.get_member(slug=slug))

    @blp.arguments(ContactIn)
    @blp.response(201, ContactOut)
    @requires("processes:write")
    def post(self, data, slug):
        """Add a contact to your own member."""
        with transaction():
            return service.create_contact(
                actor=current_actor(), member=members.get_member(slug=slug), data=data
            )


@blp.route("/contacts/<int:contact_id>")
class ContactItem(MethodView):
    @blp.response(200, ContactOut)
    @requires("directory:read")
    def get(self, contact_id):
        return service.get_contact(actor=current_actor(), contact_id=contact_id)

    @blp.arguments(ContactPatchIn)
    @blp.response(200, ContactOut)
    @requires("processes:write")
    def patch(self, changes, contact_id):
        """Edit one of your contacts; published versions keep their copy."""
        actor = current_actor()
        with transaction():
            contact = service.get_contact(actor=actor, contact_id=contact_id)
            return service.update_contact(actor=actor, contact=contact, changes=changes)

    @blp.response(204)
    @requires("processes:write")
    def delete(self, contact_id):
        """Retire one of your contacts."""
        actor = current_actor()
        with transaction():
            contact = service.get_contact(actor=actor, contact_id=contact_id)
            service.remove_contact(actor=actor, contact=contact)
