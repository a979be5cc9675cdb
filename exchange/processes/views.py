"""The member admin's pages for contacts and support processes: the process list, the
draft editor for every part of a version, publishing, and the version history with a
diff between two versions.

The draft editor's inputs are named by the paths the service's messages use
(``severities.1.key``), so a 422 from ``save_draft`` or ``publish`` lands at the input it
names. This module only reshapes the posted form into a process document; every rule
is the service's (and its schema's).
"""

from __future__ import annotations

import copy
import functools
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, EmailField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from exchange import clock
from exchange.db import transaction
from exchange.errors import NotFound, Problem, ValidationFailed, flatten_errors
from exchange.members import service as members
from exchange.processes import service
from exchange.processes.defaults import DAYS, STANDARD_SEVERITIES
from exchange.processes.models import ContactRole
from exchange.processes.schemas import FIELD_TYPES, SECTIONS, DiffArgs
from exchange.web.forms import admin_actor as _admin_actor
from exchange.web.forms import run as _run
from exchange.zones import known_time_zones

bp = Blueprint("processes", __name__, template_folder="templates")

CONTACT_ROLES = [
    (ContactRole.senior_engineer.value, "Senior engineer"),
    (ContactRole.escalation_manager.value, "Escalation manager"),
    (ContactRole.designated_support_contact.value, "Designated support contact"),
    (ContactRole.support_manager.value, "Support manager"),
]
# How the editor names a list (and one of its rows) in messages.
LIST_LABELS = {
    "severities": ("Severity levels", "Severity"),
    "intake_fields": ("Intake fields", "Intake field"),
    "escalation_path": ("Escalation path", "Escalation tier"),
    "rejection_reasons": ("Rejection reasons", "Rejection reason"),
    "products": ("Products", "Product"),
    "scope": ("In scope", "In scope item"),
    "out_of_scope": ("Out of scope", "Out of scope item"),
    "communities": ("Communities", "Community"),
    "coverage.hours": ("Weekly hours", "Hours"),
    "coverage.holidays": ("Holidays", "Holiday"),
}


class ContactForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Role", choices=[SelectChoice(v, label) for v, label in CONTACT_ROLES])
    email = EmailField("E-mail", validators=[Length(max=320)])
    phone = StringField("Phone", validators=[Length(max=50)])
    time_zone = StringField("Time zone", default="UTC", validators=[DataRequired()])
    availability = TextAreaField("Availability", validators=[Length(max=1000)])
    user = SelectField("Linked user", choices=[], default="")


class ProcessForm(FlaskForm):
    name = StringField("Process name", validators=[DataRequired(), Length(max=200)])
    standard_severities = BooleanField("Start with the standard severity levels", default=True)


# -- helpers --------------------------------------------------------------------------


@functools.cache
def _sorted_zones() -> list[str]:
    return sorted(known_time_zones())


@bp.context_processor
def _page_globals():
    return {"time_zones": _sorted_zones()}


def _own_process(actor, process_id: int):
    process = service.get_process(actor=actor, process_id=process_id)
    if process.member_id != actor.member.id:
        raise NotFound(f"No process {process_id} of yours.")
    return process


def _or_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


# -- contacts ---------------------------------------------------------------------------


def _contact_form(actor, contact=None, submitted: bool = False) -> ContactForm:
    if submitted:
        form = ContactForm()
    elif contact is not None:
        form = ContactForm(
            formdata=None, obj=contact, user=contact.user.email if contact.user else ""
        )
    else:
        form = ContactForm(formdata=None)
    users = members.list_users(actor=actor, member=actor.member)
    form.user.choices = [SelectChoice("", "Nobody")] + [
        SelectChoice(u.email, f"{u.name} <{u.email}>") for u in users
    ]
    return form


def _contact_data(form: ContactForm) -> dict:
    return {
        "name": form.name.data.strip(),
        "role": form.role.data,
        "email": _or_none(form.email.data),
        "phone": _or_none(form.phone.data),
        "time_zone": form.time_zone.data.strip(),
        "availability": form.availability.data or "",
        "user": _or_none(form.user.data),
    }


@bp.route("/admin/contacts", methods=["GET", "POST"])
@login_required
def contacts():
    actor = _admin_actor()
    form = _contact_form(actor, submitted=request.method == "POST")
    ok, contact = _run(
        form,
        lambda: service.create_contact(actor=actor, member=actor.member, data=_contact_data(form)),
    )
    if ok:
        flash(f"Added the contact {contact.name}.")
        return redirect(url_for("processes.contacts"))
    return render_template(
        "processes/contacts.html",
        contacts=service.list_contacts(actor=actor, member=actor.member),
        form=form,
        role_labels=dict(CONTACT_ROLES),
    ), 422 if form.errors else 200


def _own_contact(actor, contact_id: int):
    contact = service.get_contact(actor=actor, contact_id=contact_id)
    if contact.member_id != actor.member.id:
        raise NotFound(f"No contact {contact_id}.")
    return contact


@bp.route("/admin/contacts/<int:contact_id>", methods=["GET", "POST"])
@login_required
def edit_contact(contact_id):
    actor = _admin_actor()
    contact = _own_contact(actor, contact_id)
    form = _contact_form(actor, contact, submitted=request.method == "POST")
    ok, _ = _run(
        form,
        lambda: service.update_contact(actor=actor, contact=contact, changes=_contact_data(form)),
    )
    if ok:
        flash(f"Saved the contact {contact.name}.")
        return redirect(url_for("processes.contacts"))
    return render_template(
        "processes/contact_edit.html", contact=contact, form=form
    ), 422 if form.errors else 200


@bp.route("/admin/contacts/<int:contact_id>/retire", methods=["POST"])
@login_required
def retire_contact(contact_id):
    actor = _admin_actor()
    with transaction():
        contact = _own_contact(actor, contact_id)
        service.remove_contact(actor=actor, contact=contact)
    flash(
        f"Retired the contact {contact.name}. Published versions keep their copy; "
        "remove it from your draft's escalation path before the next publish."
    )
    return redirect(url_for("processes.contacts"))


# -- the process list -------------------------------------------------------------------


@bp.route("/admin/processes", methods=["GET", "POST"])
@login_required
def process_list():
    actor = _admin_actor()
    form = ProcessForm()

    def change():
        content = {"name": form.name.data.strip()}
        if form.standard_severities.data:
            content["severities"] = copy.deepcopy(STANDARD_SEVERITIES)
        return service.create_process(actor=actor, member=actor.member, content=content)

    ok, process = _run(form, change)
    if ok:
        flash(f"Created the process {process.name}; its first draft is open below.")
        return redirect(url_for("processes.edit_draft", process_id=process.id))
    rows = [
        (p, service.current_version(p), service.published_versions(p), service.draft_of(p))
        for p in service.processes_of(actor.member)
    ]
    return render_template(
        "processes/list.html", rows=rows, form=form, member=actor.member
    ), 422 if form.errors else 200


# -- history and diff -------------------------------------------------------------------


def _render_history(actor, process, *, diff=None, chosen=None, status=200):
    return render_template(
        "processes/history.html",
        process=process,
        versions=list(reversed(service.published_versions(process))),
        current=service.current_version(process),
        draft=service.draft_of(process),
        now=clock.now(),
        diff=diff,
        chosen=chosen or {},
        show=_show_value,
        diff_label=_diff_label,
    ), status


@bp.route("/admin/processes/<int:process_id>")
@login_required
def process(process_id):
    actor = _admin_actor()
    return _render_history(actor, _own_process(actor, process_id))


@bp.route("/admin/processes/<int:process_id>/diff")
@login_required
def diff(process_id):
    actor = _admin_actor()
    process = _own_process(actor, process_id)
    chosen = {"from": request.args.get("from", ""), "to": request.args.get("to", "")}
    try:
        args = DiffArgs().load(chosen)
    except ValidationError as exc:
        errors = flatten_errors(exc.messages)
        flash("Choose two versions to compare: " + _messages_text(errors), "error")
        return _render_history(actor, process, chosen=chosen, status=422)
    result = service.diff_versions(
        actor=actor, process=process, from_number=args["from_"], to_number=args["to"]
    )
    return _render_history(actor, process, diff=result, chosen=chosen)


def _messages_text(errors: dict) -> str:
    return "; ".join(f"{k.rstrip('_')}: {' '.join(v)}" for k, v in errors.items())


def _show_value(value) -> str:
    """A diff value for people: text as is, structures as indented JSON."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False)


def _diff_label(path: str) -> str:
    """A diff path for people. Severities, intake fields and rejection reasons are
    compared by key (``severities.1.name`` is the level with key "1"); other lists as a
    whole."""
    parts = path.split(".")
    keyed = {"severities", "intake_fields", "rejection_reasons"}
    if parts[0] in keyed and len(parts) > 1:
        one = LIST_LABELS[parts[0]][1]
        tail = " · ".join(p.replace("_", " ") for p in parts[2:])
        return f"{one} {parts[1]}" + (f" · {tail}" if tail else "")
    whole = LIST_LABELS.get(path)
    return whole[0] if whole else " · ".join(p.replace("_", " ") for p in parts)


def _path_label(path: str) -> str:
    """``severities.1.key`` -> "Severity 2 · key" (people count from one)."""
    parts = path.split(".")
    for prefix, (whole, one) in sorted(LIST_LABELS.items(), key=lambda kv: -len(kv[0])):
        head = prefix.split(".")
        if parts[: len(head)] == head:
            rest = parts[len(head) :]
            if rest and rest[0].isdigit():
                tail = " · ".join(p.replace("_", " ") for p in rest[1:])
                return f"{one} {int(rest[0]) + 1}" + (f" · {tail}" if tail else "")
            if not rest:
                return whole
    return " · ".join(p.replace("_", " ") for p in parts)


# -- the draft editor --------------------------------------------------------------------


def _rows(form: MultiDict, prefix: str) -> list[dict[str, list[str]]]:
    """The rows of a repeatable part, from inputs named ``prefix.N.field``, by index."""
    rows: dict[int, dict[str, list[str]]] = {}
    start = prefix + "."
    for name in form:
        if not name.startswith(start):
            continue
        index, _, field = name[len(start) :].partition(".")
        if index.isdigit() and field:
            values = [v.strip() for v in form.getlist(name)]
            rows.setdefault(int(index), {})[field] = values
    return [rows[i] for i in sorted(rows)]


def _items(form: MultiDict, prefix: str) -> list[str]:
    """A list of texts from inputs named ``prefix.N``; emptied inputs are dropped."""
    found = {}
    start = prefix + "."
    for name in form:
        rest = name[len(start) :] if name.startswith(start) else ""
        if rest.isdigit():
            found[int(rest)] = form.get(name, "").strip()
    return [found[i] for i in sorted(found) if found[i]]


def _one(row: dict, field: str) -> str:
    return (row.get(field) or [""])[0]


def _kept(rows: list[dict], significant: tuple[str, ...]) -> list[dict]:
    """Rows not marked for removal, with something typed into them (the blank row each
    list offers for adding one is not a row)."""
    return [r for r in rows if not _one(r, "_remove") and any(_one(r, f) for f in significant)]


def _number(text: str):
    # Empty means "none"; anything else goes to the schema, which says if it is no number.
    return text if text else None


def _content_from_form(form: MultiDict) -> dict:
    """The process document as the editor posted it, ready for ``save_draft``."""
    severities = [
        {
            "key": _one(r, "key"),
            "name": _one(r, "name"),
            "definition": _one(r, "definition"),
            "response_minutes": _number(_one(r, "response_minutes")),
            "update_minutes": _number(_one(r, "update_minutes")),
            "declarable_by": _one(r, "declarable_by") or "both",
        }
        for r in _kept(
            _rows(form, "severities"),
            ("key", "name", "definition", "response_minutes", "update_minutes"),
        )
    ]
    intake_fields = [
        {
            "key": _one(r, "key"),
            "label": _one(r, "label"),
            "type": _one(r, "type") or "string",
            "required": bool(_one(r, "required")),
            "options": [o.strip() for o in _one(r, "options").splitlines() if o.strip()],
            "max_length": _number(_one(r, "max_length")),
            "pattern": _one(r, "pattern") or None,
            "section": _one(r, "section") or "problem",
            "help": _one(r, "help"),
        }
        for r in _kept(
            _rows(form, "intake_fields"),
            ("key", "label", "options", "max_length", "pattern", "help"),
        )
    ]
    escalation_path = [
        {
            "name": _one(r, "name"),
            "after_minutes": _one(r, "after_minutes"),
            "contacts": [c for c in r.get("contacts", []) if c],
            "severities": [s for s in r.get("severities", []) if s],
        }
        for r in _kept(
            _rows(form, "escalation_path"), ("name", "after_minutes", "contacts", "severities")
        )
    ]
    hours = [
        {"day": _one(r, "day"), "start": _one(r, "start"), "end": _one(r, "end")}
        for r in _kept(_rows(form, "coverage.hours"), ("start", "end"))
    ]
    reasons = [
        {"code": _one(r, "code"), "label": _one(r, "label")}
        for r in _kept(_rows(form, "rejection_reasons"), ("code", "label"))
    ]
    return {
        "name": form.get("name", "").strip(),
        "products": _items(form, "products"),
        "engagement_instructions": form.get("engagement_instructions", "").strip(),
        "coverage": {
            "mode": form.get("coverage.mode", "24x7"),
            "time_zone": form.get("coverage.time_zone", "").strip() or "UTC",
            "hours": hours,
            "holidays": _items(form, "coverage.holidays"),
        },
        "severities": severities,
        "intake_fields": intake_fields,
        "escalation_path": escalation_path,
        "scope": _items(form, "scope"),
        "out_of_scope": _items(form, "out_of_scope"),
        "rejection_reasons": reasons,
        "visibility": form.get("visibility", "all"),
        "communities": [c for c in form.getlist("communities") if c],
    }


def _editable_content(process) -> tuple[dict, bool]:
    """What the editor starts from: the draft, else a copy of the newest version (with
    escalation contacts as ids, as a draft holds them). True when a draft exists."""
    draft = service.draft_of(process)
    if draft is not None:
        return copy.deepcopy(draft.content), True
    versions = service.published_versions(process)
    content = copy.deepcopy(versions[-1].content) if versions else {"name": process.name}
    for tier in content.get("escalation_path", []):
        tier["contacts"] = [c["id"] if isinstance(c, dict) else c for c in tier["contacts"]]
    return content, False


def _effective_at(text: str) -> datetime | None:
    """A ``datetime-local`` (or date) value, read in the viewer's own time zone."""
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationFailed(
            errors={"effective_at": ["Use a date and time, e.g. 2030-01-31 09:00."]}
        ) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(current_user.time_zone or "UTC"))
    return value


def _render_editor(actor, process, content, *, has_draft, errors=None, effective="", status=200):
    errors = errors or {}
    communities = sorted(members.communities.community_slugs_of(actor.member))
    communities += [c for c in content.get("communities", []) if c not in communities]
    contacts = service.list_contacts(actor=actor, member=actor.member)
    return render_template(
        "processes/editor.html",
        process=process,
        content=content,
        has_draft=has_draft,
        errors=errors,
        summary=[(path, _path_label(path), msgs) for path, msgs in errors.items()],
        contacts=contacts,
        contact_ids={str(c.id) for c in contacts},
        community_choices=communities,
        has_errors=lambda prefix: any(k == prefix or k.startswith(prefix + ".") for k in errors),
        day_options=[(d, d.capitalize()) for d in DAYS],
        field_type_options=[(t, t) for t in FIELD_TYPES],
        section_options=[(s, s) for s in SECTIONS],
        versions=service.published_versions(process),
        effective=effective,
    ), status


@bp.route("/admin/processes/<int:process_id>/draft", methods=["GET", "POST"])
@login_required
def edit_draft(process_id):
    """Edit the draft; "Save draft", "Save and publish", or load the standard severity
    levels into the form (not saved until the draft is)."""
    actor = _admin_actor()
    process = _own_process(actor, process_id)
    if request.method == "GET":
        content, has_draft = _editable_content(process)
        return _render_editor(actor, process, content, has_draft=has_draft)

    content = _content_from_form(request.form)
    action = request.form.get("action", "save")
    effective = request.form.get("effective_at", "")
    has_draft = service.draft_of(process) is not None
    if action == "standard_severities":
        content["severities"] = copy.deepcopy(STANDARD_SEVERITIES)
        flash("Loaded the standard severity levels into the form; review them and save the draft.")
        return _render_editor(actor, process, content, has_draft=has_draft, effective=effective)
    try:
        with transaction():
            service.save_draft(actor=actor, process=process, content=content)
            if action == "publish":
                version = service.publish(
                    actor=actor, process=process, effective_at=_effective_at(effective)
                )
    except Problem as problem:
        if problem.status in (401, 403, 404):
            raise
        flash(f"Nothing was saved: {problem.detail}", "error")
        errors = problem.errors or {"_schema": [problem.detail]}
        return _render_editor(
            actor,
            process,
            content,
            has_draft=has_draft,
            errors=errors,
            effective=effective,
            status=422,
        )
    if action == "publish":
        when = "now" if version.effective_at <= clock.now() else "from the date you chose"
        flash(f"Published version {version.number} of {process.name}; it is in force {when}.")
        return redirect(url_for("processes.process", process_id=process.id))
    flash("Saved the draft. Other members see nothing until you publish it.")
    return redirect(url_for("processes.edit_draft", process_id=process.id))


@bp.route("/admin/processes/<int:process_id>/draft/discard", methods=["POST"])
@login_required
def discard_draft(process_id):
    actor = _admin_actor()
    process = _own_process(actor, process_id)
    try:
        with transaction():
            service.discard_draft(actor=actor, process=process)
        flash("Discarded the draft; the published version stays as it is.")
    except Problem as problem:
        if problem.status in (401, 403):
            raise
        flash(problem.detail, "error")
    return redirect(url_for("processes.process", process_id=process.id))
