"""API shapes of cases, their notes, attachments and events."""

from marshmallow import Schema, fields, validate

from exchange.cases.models import CaseStatus
from exchange.schemas import ListArgs, page_schema
from exchange.text import Email, Line, Text, single_line, visible

# Mandatory texts need visible text; single-line fields refuse control characters
# (exchange/text.py: the same rules on every entrance).
TEXT = [validate.Length(min=1, max=10_000), visible]
REFERENCE = [validate.Length(min=1, max=100), single_line, visible]


class CustomerIn(Schema):
    company = Line(required=True, min=1, max=200)
    contact_name = Line(required=True, min=1, max=200)
    contact_email = Email(required=True)
    contact_phone = Line(load_default=None, allow_none=True, max=50)


class CaseProductIn(Schema):
    name = Line(required=True, min=1, max=200)
    version = Line(load_default=None, allow_none=True, max=50)


class CaseIn(Schema):
    receiver = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    process = fields.Int(load_default=None, allow_none=True)
    severity = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    summary = Line(required=True, min=1, max=300)
    description = Text(required=True, max=10_000)
    customer = fields.Nested(CustomerIn, required=True)
    product = fields.Nested(CaseProductIn, load_default=None, allow_none=True)
    intake = fields.Dict(keys=fields.Str(), load_default=dict)
    submitter_reference = fields.Str(load_default=None, allow_none=True, validate=REFERENCE)
    engineer = Email(
        load_default=None,
        allow_none=True,
        metadata={"description": "Default: the signed-in person."},
    )
    test = fields.Bool(load_default=False)


class PersonOut(Schema):
    name = fields.Str()
    email = fields.Str(allow_none=True)
    phone = fields.Str(allow_none=True)


class PartyOut(Schema):
    member = fields.Dict()
    engineer = fields.Nested(PersonOut, allow_none=True)
    reference = fields.Str(allow_none=True)
    escalation_manager = fields.Nested(PersonOut, allow_none=True)


class DeadlineOut(Schema):
    due_at = fields.DateTime(allow_none=True)
    state = fields.Str(metadata={"description": "none, running, paused, met or breached"})
    remaining_seconds = fields.Int(
        allow_none=True, metadata={"description": "Negative once overdue."}
    )


class DeadlinesOut(Schema):
    response = fields.Nested(DeadlineOut)
    update = fields.Nested(DeadlineOut)


class CaseOut(Schema):
    id = fields.Int()
    number = fields.Str()
    status = fields.Str()
    side = fields.Str(metadata={"description": "Your side of the case."})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Int(metadata={"description": "Sequence of the last event; see ETag."})
    test = fields.Bool()
    summary = fields.Str()
    description = fields.Str()
    severity = fields.Dict()
    customer = fields.Dict()
    intake = fields.Dict()
    product = fields.Dict(allow_none=True)
    process = fields.Dict()
    submitter = fields.Nested(PartyOut)
    receiver = fields.Nested(PartyOut)
    escalation_level = fields.Int()
    response_due_at = fields.DateTime(allow_none=True)
    responded_at = fields.DateTime(allow_none=True)
    next_update_due_at = fields.DateTime(allow_none=True)
    deadlines = fields.Nested(DeadlinesOut)
    accepted_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    next_steps = fields.Str(allow_none=True)
    resolution = fields.Str(allow_none=True)
    rejection = fields.Dict(allow_none=True)
    allowed_actions = fields.List(fields.Str())


class CasePageOut(page_schema(CaseOut, "CaseList")):
    counts = fields.Dict(
        keys=fields.Str(),
        values=fields.Int(),
        allow_none=True,
        metadata={
            "description": "Cases per status (test cases excluded); on the first "
            "page only (null on later pages or with counts=false)."
        },
    )


class CaseListArgs(ListArgs):
    direction = fields.Str(validate=validate.OneOf(["inbound", "outbound"]))
    status = fields.List(
        fields.Str(validate=validate.OneOf([s.value for s in CaseStatus])),
        metadata={"description": "Repeat for several statuses."},
    )
    severity = fields.Str(validate=validate.Length(max=40))
    partner = fields.Str(validate=validate.Length(max=40))
    updated_after = fields.AwareDateTime()
    q = fields.Str(validate=validate.Length(max=200))
    test = fields.Bool()
    counts = fields.Bool(
        metadata={"description": "Count per status on the first page (default true)."}
    )


class CasePatchIn(Schema):
    reference = fields.Str(
        required=True,
        allow_none=True,
        validate=REFERENCE,
        metadata={"description": "Your own tracker's id for this case."},
    )


class AcceptIn(Schema):
    receiver_reference = fields.Str(load_default=None, allow_none=True, validate=REFERENCE)
    engineer = Email(load_default=None, allow_none=True)
    next_steps = fields.Str(load_default=None, allow_none=True, validate=TEXT)


class QuestionIn(Schema):
    question = fields.Str(required=True, validate=TEXT)


class AnswerIn(Schema):
    answer = fields.Str(required=True, validate=TEXT)


class RejectIn(Schema):
    reason = Line(required=True, min=1, max=40)
    explanation = fields.Str(required=True, validate=TEXT)


class ExplanationIn(Schema):
    explanation = fields.Str(required=True, validate=TEXT)


class ResolutionIn(Schema):
    resolution = fields.Str(required=True, validate=TEXT)


class CloseIn(Schema):
    resolution = fields.Str(load_default=None, allow_none=True, validate=TEXT)


class ReasonIn(Schema):
    reason = fields.Str(required=True, validate=TEXT)


class AssignIn(Schema):
    engineer = Email(required=True)


class EscalationManagerIn(Schema):
    escalation_manager = fields.Email(
        required=True,
        metadata={"description": "E-mail of an active escalation manager of your own member."},
    )


class SeverityChangeIn(Schema):
    severity = Line(required=True, min=1, max=40)
    business_impact = fields.Str(required=True, validate=TEXT)


class NoteIn(Schema):
    # The length limit is the service's (413, not 422), so it is not repeated here.
    body = fields.Str(required=True)


class NoteOut(Schema):
    id = fields.Int()
    side = fields.Str()
    author = fields.Str(attribute="author_label")
    body = fields.Str()
    created_at = fields.DateTime()
    redacted_at = fields.DateTime(allow_none=True)
    redacted_by = fields.Str(allow_none=True)


class AttachmentOut(Schema):
    id = fields.Int()
    side = fields.Str()
    filename = fields.Str()
    content_type = fields.Str()
    size = fields.Int()
    sha256 = fields.Str()
    uploaded_by = fields.Str()
    created_at = fields.DateTime()


class EventOut(Schema):
    sequence = fields.Int()
    type = fields.Str()
    side = fields.Str()
    origin = fields.Str()
    actor = fields.Str(attribute="actor_label")
    created_at = fields.DateTime()
    data = fields.Dict()


class EventArgs(Schema):
    after = fields.Int(
        # Bounded like the column (a 32-bit integer): PostgreSQL refuses to bind a larger
        # number at all (a 500, not a 422).
        validate=validate.Range(min=0, max=2**31 - 1),
        metadata={"description": "Only events with a higher sequence."},
    )


# Dumping is stateless, and building a schema costs more than using one: one instance
# serves every case document the API and the webhooks write.
CASE_OUT = CaseOut()
