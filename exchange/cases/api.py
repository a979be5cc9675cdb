"""REST endpoints for cases: open, list, read, act, notes, attachments and history."""

from __future__ import annotations

from flask import request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from exchange import clock, idempotency
from exchange.api_support import (
    body_types,
    honours_idempotency_key,
    honours_if_match,
    json_response,
    page_body,
    problem_responses,
)
from exchange.auth.actor import current_actor, requires
from exchange.cases import service
from exchange.cases.documents import case_json
from exchange.cases.downloads import send_attachment
from exchange.cases.schemas import (
    AcceptIn,
    AnswerIn,
    AssignIn,
    AttachmentOut,
    CaseIn,
    CaseListArgs,
    CaseOut,
    CasePageOut,
    CasePatchIn,
    CloseIn,
    EscalationManagerIn,
    EventArgs,
    EventOut,
    ExplanationIn,
    NoteIn,
    NoteOut,
    QuestionIn,
    ReasonIn,
    RejectIn,
    ResolutionIn,
    SeverityChangeIn,
)
from exchange.db import transaction
from exchange.errors import ValidationFailed

blp = Blueprint("cases_api", __name__, url_prefix="/api/v1", description="Collaborative cases")


def _document(actor, case) -> dict:
    return case_json(case, service.side_of(actor, case), clock.now())


def _answer(actor, case, status: int = 200):
    # JSON built directly (``case_json``); ``CaseOut`` documents it.
    return json_response(_document(actor, case), status, {"ETag": service.etag(case)})


@blp.route("/cases")
class Cases(MethodView):
    @blp.arguments(CaseListArgs, location="query")
    @blp.response(200, CasePageOut)
    @requires("cases:read")
    def get(self, args):
        """Your cases, newest activity first; the first page also counts them per status
        (`counts=false` skips that, later pages never count)."""
        actor = current_actor()
        limit, cursor = args.pop("limit", None), args.pop("cursor", None)
        wants_counts = args.pop("counts", True) and not cursor
        page = service.list_cases(actor=actor, limit=limit, cursor=cursor, **args)
        body = page_body(page, "cases_api.Cases")
        body["items"] = [_document(actor, case) for case in page.items]
        # Counting reads every case of the member: once per listing, not once per page.
        body["counts"] = service.counts_by_status(actor=actor, **args) if wants_counts else None
        return json_response(body)

    @blp.arguments(CaseIn)
    @blp.response(201, CaseOut)
    @requires("cases:write")
    # An unknown receiver, or a process the caller may not see, is a 404 (a hidden
    # process must not be told apart from a missing one).
    @problem_responses(404)
    @honours_idempotency_key
    def post(self, data):
        """Open a case against another member (honours `Idempotency-Key`)."""
        actor = current_actor()
        key = idempotency.request_key()
        with transaction():
            replayed = idempotency.replay(member_id=actor.member.id, key=key)
            if replayed is not None:
                return replayed
            case = service.open_case(actor=actor, **data)
            body = _document(actor, case)
            headers = {
                "Location": url_for("cases_api.CaseItem", case_id=case.id),
                "ETag": service.etag(case),
            }
            idempotency.remember(
                member_id=actor.member.id, key=key, status=201, body=body, headers=headers
            )
        return json_response(body, 201, headers)


@blp.route("/cases/<int:case_id>")
class CaseItem(MethodView):
    @blp.response(200, CaseOut)
    @requires("cases:read")
    def get(self, case_id):
        """A case you are party to, with `allowed_actions` for you and an `ETag`."""
        actor = current_actor()
        return _answer(actor, service.get_case(actor=actor, case_id=case_id))

    @blp.arguments(CasePatchIn)
    @blp.response(200, CaseOut)
    @requires("cases:write")
    @honours_if_match
    def patch(self, data, case_id):
        """Set your own side's tracker reference (honours `If-Match`)."""
        actor = current_actor()
        with transaction():
            case = service.set_reference(
                actor=actor,
                case_id=case_id,
                reference=data["reference"],
                if_match=request.headers.get("If-Match"),
            )
            return _answer(actor, case)


# action -> (body schema, service function, summary)
ACTIONS = {
    "accept": (
        AcceptIn,
        service.accept,
        "Receiver accepts, giving its reference, engineer and next steps.",
    ),
    "request-information": (
        QuestionIn,
        service.request_information,
        "Receiver asks the submitter for information.",
    ),
    "provide-information": (
        AnswerIn,
        service.provide_information,
        "Submitter answers the information request.",
    ),
    "reject": (RejectIn, service.reject, "Receiver rejects with a reason code of its process."),
    "withdraw": (ExplanationIn, service.withdraw, "Submitter withdraws before acceptance."),
    "resolve": (ResolutionIn, service.resolve, "Receiver resolves the case."),
    "close": (CloseIn, service.close, "Submitter closes the case."),
    "reopen": (ReasonIn, service.reopen, "Submitter reopens within 30 days of closing."),
    "assign": (AssignIn, service.assign, "Name another engineer for your own side."),
    "escalate": (ReasonIn, service.escalate, "Escalate; pairs both sides' escalation managers."),
    "assign-escalation-manager": (
        EscalationManagerIn,
        service.assign_escalation_manager,
        "Name or replace your own side's escalation manager.",
    ),
    "change-severity": (
        SeverityChangeIn,
        service.change_severity,
        "Change the severity with a business-impact statement.",
    ),
}


def _action_view(name: str, schema, perform, summary: str):
    def view(data, case_id):
        actor = current_actor()
        with transaction():
            case = perform(
                actor=actor, case_id=case_id, if_match=request.headers.get("If-Match"), **data
            )
            return _answer(actor, case)

    view.__name__ = "action_" + name.replace("-", "_")
    view.__doc__ = (
        summary + " Honours `If-Match`; 409 `invalid_transition` lists the actions allowed now."
    )
    view = requires("cases:write")(honours_if_match(view))
    view = blp.response(200, CaseOut)(view)
    view = blp.arguments(schema)(view)
    blp.route(f"/cases/<int:case_id>/{name}", methods=["POST"], endpoint=view.__name__)(view)


for _name, (_schema, _perform, _summary) in ACTIONS.items():
    _action_view(_name, _schema, _perform, _summary)


@blp.route("/cases/<int:case_id>/notes")
class Notes(MethodView):
    @blp.response(200, NoteOut(many=True))
    @requires("cases:read")
    def get(self, case_id):
        """The case's notes, oldest first (redacted ones as tombstones)."""
        return service.list_notes(actor=current_actor(), case_id=case_id)

    @blp.arguments(NoteIn)
    @blp.response(201, NoteOut)
    @requires("cases:write")
    @honours_if_match
    def post(self, data, case_id):
        """Add a plain-text note (at most NOTE_MAX_CHARS characters, else 413)."""
        with transaction():
            return service.add_note(
                actor=current_actor(),
                case_id=case_id,
                body=data["body"],
                if_match=request.headers.get("If-Match"),
            )


@blp.route("/cases/<int:case_id>/notes/<int:note_id>")
class NoteItem(MethodView):
    @blp.response(200, NoteOut)
    @requires("cases:read")
    def get(self, case_id, note_id):
        """One note (a tombstone once redacted). Notes are append-only: no PUT, PATCH or
        DELETE (405); redact one instead."""
        return service.get_note(actor=current_actor(), case_id=case_id, note_id=note_id)


@blp.route("/cases/<int:case_id>/notes/<int:note_id>/redact")
class NoteRedaction(MethodView):
    @blp.response(200, NoteOut)
    @requires("cases:write")
    @honours_if_match
    def post(self, case_id, note_id):
        """Redact a note of your own side (member admins): its text becomes a tombstone."""
        with transaction():
            return service.redact_note(
                actor=current_actor(),
                case_id=case_id,
                note_id=note_id,
                if_match=request.headers.get("If-Match"),
            )


@blp.route("/cases/<int:case_id>/attachments")
class Attachments(MethodView):
    @blp.response(200, AttachmentOut(many=True))
    @requires("cases:read")
    def get(self, case_id):
        """Files shared on the case."""
        return service.list_attachments(actor=current_actor(), case_id=case_id)

    @blp.response(201, AttachmentOut)
    @blp.doc(
        requestBody={
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                }
            }
        }
    )
    @requires("cases:write")
    @honours_if_match
    @body_types("multipart/form-data")
    def post(self, case_id):
        """Attach a file (multipart field `file`; ATTACHMENT_MAX_BYTES, else 413)."""
        upload = request.files.get("file")
        if upload is None:
            raise ValidationFailed(
                errors={"file": ["Send the file in the multipart field 'file'."]}
            )
        with transaction():
            return service.add_attachment(
                actor=current_actor(),
                case_id=case_id,
                stream=upload.stream,
                filename=upload.filename,
                content_type=upload.mimetype,
                if_match=request.headers.get("If-Match"),
            )


@blp.route("/cases/<int:case_id>/attachments/<int:attachment_id>")
class AttachmentItem(MethodView):
    @blp.response(200, AttachmentOut)
    @requires("cases:read")
    def get(self, case_id, attachment_id):
        """One attachment's details (its bytes are at `.../content`); no PUT, PATCH or
        DELETE (405)."""
        return service.get_attachment(
            actor=current_actor(), case_id=case_id, attachment_id=attachment_id
        )


@blp.route("/cases/<int:case_id>/attachments/<int:attachment_id>/content")
class AttachmentContent(MethodView):
    @blp.response(200)
    @requires("cases:read")
    def get(self, case_id, attachment_id):
        """Download a file, always as an attachment (never rendered inline)."""
        attachment = service.get_attachment(
            actor=current_actor(), case_id=case_id, attachment_id=attachment_id
        )
        return send_attachment(
            service.open_attachment(attachment),
            filename=attachment.filename,
            content_type=attachment.content_type,
            etag=attachment.sha256,
        )


@blp.route("/cases/<int:case_id>/events")
class Events(MethodView):
    @blp.arguments(EventArgs, location="query")
    @blp.response(200, EventOut(many=True))
    @requires("cases:read")
    def get(self, args, case_id):
        """The case's full history in sequence order (`after` for what is new)."""
        return service.list_events(actor=current_actor(), case_id=case_id, after=args.get("after"))
