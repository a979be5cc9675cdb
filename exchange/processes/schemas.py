"""Shapes of a process version's content, contacts and the process API.

The content schema's output is plain JSON (dates and times stay ISO strings), so loading
loaded data again gives the same result: the API validates on the way in and the
service validates again for every other caller (demo data, pages) with the same rules.
"""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from exchange.markdown import render_markdown
from exchange.processes.defaults import DAYS, DEFAULT_REJECTION_REASONS
from exchange.processes.escalation import paths
from exchange.processes.models import ContactRole
from exchange.schemas import patch_schema
from exchange.text import Email, Line
from exchange.zones import known_time_zones

KEY = validate.Regexp(
    r"^[a-z0-9][a-z0-9_-]{0,39}$", error="Use 1-40 lowercase letters, digits, '_' or '-'."
)
SLUG = validate.Regexp(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$", error="Not a slug.")
MINUTES = validate.Range(min=1, max=90 * 24 * 60)
FIELD_TYPES = ["string", "text", "email", "phone", "integer", "url", "select", "date"]
SECTIONS = ["problem", "contact", "customer"]
TIME_RE = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")


def _iso_date(value: str) -> None:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError("Not an ISO date (YYYY-MM-DD).") from exc


def _time_zone(value: str) -> None:
    if value not in known_time_zones():
        raise ValidationError(f"Unknown IANA time zone {value!r}.")


def _duplicates(items: list, key: str, path: str) -> dict:
    seen, errors = set(), {}
    for i, item in enumerate(items):
        value = item.get(key) if isinstance(item, dict) else None
        # Only text can be a key; anything else already failed the field's own check
        # (and a list or object cannot even be compared this way).
        if not isinstance(value, str):
            continue
        if value in seen:
            errors[f"{path}.{i}.{key}"] = [f"Duplicate {key} {value!r}."]
        seen.add(value)
    return errors


class SeverityIn(Schema):
    key = fields.Str(required=True, validate=KEY)
    name = Line(required=True, min=1, max=100)
    definition = fields.Str(load_default="", validate=validate.Length(max=2000))
    response_minutes = fields.Int(
        load_default=None,
        allow_none=True,
        validate=MINUTES,
        metadata={"description": "Initial-response commitment; null means as negotiated."},
    )
    update_minutes = fields.Int(
        load_default=None,
        allow_none=True,
        validate=MINUTES,
        metadata={"description": "Update cadence; null means none."},
    )
    declarable_by = fields.Str(
        load_default="both", validate=validate.OneOf(["submitter", "receiver", "both"])
    )


class IntakeFieldIn(Schema):
    key = fields.Str(required=True, validate=KEY)
    label = Line(required=True, min=1, max=200)
    type = fields.Str(required=True, validate=validate.OneOf(FIELD_TYPES))
    required = fields.Bool(load_default=False)
    options = fields.List(Line(min=1, max=200), load_default=list)
    max_length = fields.Int(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=100_000)
    )
    pattern = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=500))
    section = fields.Str(load_default="problem", validate=validate.OneOf(SECTIONS))
    help = fields.Str(load_default="", validate=validate.Length(max=1000))

    @validates_schema
    def _consistent(self, data, **kwargs):
        kind, errors = data.get("type"), {}
        if kind == "select":
            if not data.get("options"):
                errors["options"] = ["A select field needs at least one option."]
            elif len(set(data["options"])) != len(data["options"]):
                errors["options"] = ["Options must be unique."]
        elif data.get("options"):
            errors["options"] = ["Only select fields have options."]
        if data.get("pattern") is not None:
            if kind not in ("string", "text", "phone"):
                errors["pattern"] = ["Only string, text and phone fields take a pattern."]
            else:
                try:
                    re.compile(data["pattern"])
                except re.error as exc:
                    errors["pattern"] = [f"Not a valid regular expression: {exc}."]
        if data.get("max_length") is not None and kind not in ("string", "text", "phone", "url"):
            errors["max_length"] = ["Only text-like fields take a max_length."]
        if errors:
            raise ValidationError(errors)


class HoursIn(Schema):
    day = fields.Str(required=True, validate=validate.OneOf(DAYS))
    start = fields.Str(required=True, validate=validate.Regexp(TIME_RE, error="Use HH:MM."))
    end = fields.Str(required=True, validate=validate.Regexp(TIME_RE, error="Use HH:MM."))

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["start"] >= data["end"]:
            raise ValidationError({"end": ["Must be after start."]})


class CoverageIn(Schema):
    mode = fields.Str(required=True, validate=validate.OneOf(["24x7", "business_hours"]))
    time_zone = fields.Str(load_default="UTC", validate=_time_zone)
    hours = fields.List(fields.Nested(HoursIn), load_default=list)
    holidays = fields.List(fields.Str(validate=_iso_date), load_default=list)

    @validates_schema
    def _consistent(self, data, **kwargs):
        if data.get("mode") == "24x7":
            if data.get("hours"):
                raise ValidationError({"hours": ["24x7 coverage has no weekly hours."]})
            return
        hours = data.get("hours") or []
        if not hours:
            raise ValidationError({"hours": ["Business-hours coverage needs weekly hours."]})
        errors = {}
        for i, a in enumerate(hours):
            for b in hours[:i]:
                if a["day"] == b["day"] and a["start"] < b["end"] and b["start"] < a["end"]:
                    errors[f"hours.{i}"] = [f"Overlaps another {a['day']} window."]
        if errors:
            raise ValidationError(errors)


class TierIn(Schema):
    name = Line(load_default="", max=200)
    after_minutes = fields.Int(required=True, validate=validate.Range(min=0, max=90 * 24 * 60))
    # Contact ids within the INTEGER column's range: a larger one is no contact (and
    # PostgreSQL would refuse to bind it).
    contacts = fields.List(
        fields.Int(validate=validate.Range(min=1, max=2**31 - 1)),
        required=True,
        validate=validate.Length(min=1),
    )
    severities = fields.List(
        fields.Str(validate=KEY),
        load_default=list,
        metadata={
            "description": "Keys of the severities whose path this tier belongs to. Empty or "
            "absent: the default path, walked by every severity no tier names."
        },
    )

    @post_load
    def _default_path(self, data, **kwargs):
        # One spelling of "the default path": a tier without the key, as every process
        # written before paths per severity has them (so old versions compare equal).
        if not data.get("severities"):
            data.pop("severities", None)
        return data


class RejectionReasonIn(Schema):
    code = fields.Str(required=True, validate=KEY)
    label = Line(required=True, min=1, max=200)


def _escalation_errors(data: dict) -> dict:
    """Each path (per severity, and the default one) is ordered, and a tier names only
    severities of this process, each once."""
    errors: dict[str, list[str]] = {}
    tiers = data.get("escalation_path") or []
    known = {s.get("key") for s in data.get("severities") or []}
    for i, tier in enumerate(tiers):
        named = tier.get("severities") or []
        for j, key in enumerate(named):
            if key not in known:
                errors[f"escalation_path.{i}.severities.{j}"] = [
                    f"This process has no severity {key!r}."
                ]
            elif key in named[:j]:
                errors[f"escalation_path.{i}.severities.{j}"] = [f"Severity {key!r} twice."]
    for positions in paths(tiers).values():
        for before, i in pairwise(positions):
            if tiers[i].get("after_minutes", 0) < tiers[before].get("after_minutes", 0):
                errors[f"escalation_path.{i}.after_minutes"] = [
                    "Tiers are ordered: a later tier of a path cannot trigger before an "
                    "earlier one."
                ]
    return errors


class ProcessContentIn(Schema):
    """Everything a process version says (a draft may be saved incomplete; publishing
    needs at least one severity)."""

    name = Line(required=True, min=1, max=200)
    products = fields.List(Line(min=1, max=200), load_default=list)
    engagement_instructions = fields.Str(
        load_default="", validate=validate.Length(max=20_000), metadata={"description": "Markdown."}
    )
    coverage = fields.Nested(
        CoverageIn,
        load_default=lambda: {"mode": "24x7", "time_zone": "UTC", "hours": [], "holidays": []},
    )
    severities = fields.List(fields.Nested(SeverityIn), load_default=list)
    intake_fields = fields.List(fields.Nested(IntakeFieldIn), load_default=list)
    escalation_path = fields.List(fields.Nested(TierIn), load_default=list)
    scope = fields.List(fields.Str(validate=validate.Length(min=1, max=500)), load_default=list)
    out_of_scope = fields.List(
        fields.Str(validate=validate.Length(min=1, max=500)), load_default=list
    )
    rejection_reasons = fields.List(
        fields.Nested(RejectionReasonIn),
        load_default=lambda: [dict(r) for r in DEFAULT_REJECTION_REASONS],
    )
    visibility = fields.Str(load_default="all", validate=validate.OneOf(["all", "communities"]))
    communities = fields.List(fields.Str(validate=SLUG), load_default=list)

    # Runs even when single fields failed, on the original input, so one answer names
    # every problem (a duplicate key as well as a bad pattern elsewhere).
    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _keys_unique(self, data, original, **kwargs):
        errors = {}
        original = original if isinstance(original, dict) else {}
        for path, key in (
            ("severities", "key"),
            ("intake_fields", "key"),
            ("rejection_reasons", "code"),
        ):
            items = original.get(path)
            if isinstance(items, list):
                errors.update(_duplicates(items, key, path))
        if data.get("visibility") == "communities" and not data.get("communities"):
            errors["communities"] = ["Name at least one community, or make it visible to all."]
        errors.update(_escalation_errors(data))
        if errors:
            raise ValidationError(errors)


class ContactIn(Schema):
    name = Line(required=True, min=1, max=200)
    role = fields.Str(required=True, validate=validate.OneOf([r.value for r in ContactRole]))
    email = Email(load_default=None, allow_none=True)
    phone = Line(load_default=None, allow_none=True, max=50)
    time_zone = fields.Str(load_default="UTC", validate=_time_zone)
    availability = fields.Str(load_default="", validate=validate.Length(max=1000))
    user = Email(
        load_default=None,
        allow_none=True,
        metadata={"description": "E-mail of a user of your member."},
    )


ContactPatchIn = patch_schema(ContactIn, "ContactPatchIn")


class ContactOut(Schema):
    id = fields.Int()
    name = fields.Str()
    role = fields.Str()
    email = fields.Str(allow_none=True)
    phone = fields.Str(allow_none=True)
    time_zone = fields.Str()
    availability = fields.Str()
    user = fields.Function(lambda c: c.user.email if c.user else None)
    active = fields.Bool()


class VersionOut(Schema):
    process = fields.Int(attribute="process_id")
    number = fields.Int(allow_none=True, metadata={"description": "null for the draft"})
    status = fields.Str()
    effective_at = fields.DateTime(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    published_by = fields.Function(
        lambda v: v.published_by.email if v.published_by else v.published_by_client
    )
    updated_at = fields.DateTime()
    content = fields.Dict(metadata={"description": "The process document (see ProcessContent)."})
    engagement_instructions_html = fields.Function(
        lambda v: str(render_markdown(v.content.get("engagement_instructions"))),
        metadata={"description": "The engagement instructions rendered safely from Markdown."},
    )


class VersionSummaryOut(Schema):
    number = fields.Int()
    effective_at = fields.DateTime()
    published_at = fields.DateTime()
    name = fields.Function(lambda v: v.content["name"])


class ProcessOut(Schema):
    id = fields.Int()
    member = fields.Str()
    name = fields.Str()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    current_version = fields.Nested(VersionOut, allow_none=True)
    versions = fields.List(fields.Nested(VersionSummaryOut))
    has_draft = fields.Bool(allow_none=True, metadata={"description": "Your own processes only."})


class PublishIn(Schema):
    effective_at = fields.AwareDateTime(
        load_default=None, allow_none=True, metadata={"description": "Default: now."}
    )


class DiffArgs(Schema):
    from_ = fields.Int(data_key="from", required=True, validate=validate.Range(min=1))
    to = fields.Str(
        required=True,
        validate=validate.Regexp(r"^(?:[1-9]\d*|draft)$"),
        metadata={"description": "A version number, or `draft`."},
    )


class DiffOut(Schema):
    from_ = fields.Raw(data_key="from", attribute="from")
    to = fields.Raw()
    changes = fields.List(fields.Dict())


class IntakeSchemaArgs(Schema):
    version = fields.Int(validate=validate.Range(min=1))
