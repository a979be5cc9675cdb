"""Case pages for engineers: the list, opening a case from the receiver's intake form,
the case page with its timeline, notes, attachments and the allowed actions, and the
service reports.

Every page calls the same service functions as the API; nothing here decides what is
allowed (the case's ``allowed_actions`` does).
"""

from __future__ import annotations

import csv
import io
import re
import uuid

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from marshmallow import ValidationError

from exchange import clock, idempotency
from exchange.auth.actor import actor_for_user
from exchange.cases import service
from exchange.cases.api import ACTIONS
from exchange.cases.documents import case_document
from exchange.cases.downloads import send_attachment
from exchange.cases.schemas import CaseIn, CaseListArgs
from exchange.cases.service import reports
from exchange.db import transaction
from exchange.errors import Problem, ValidationFailed, flatten_errors
from exchange.members import service as members
from exchange.members.models import Role
from exchange.processes import service as processes
from exchange.processes.intake import validate_intake
from exchange.web.charts import bar_chart

bp = Blueprint("cases", __name__, template_folder="templates")


def _actor():
    return actor_for_user(current_user)


@bp.route("/cases")
@login_required
def index():
    actor = _actor()
    raw = {k: v for k, v in request.args.items() if v and k != "status"}
    if any(request.args.getlist("status")):
        raw["status"] = [s for s in request.args.getlist("status") if s]
    try:
        args = CaseListArgs().load(raw)
    except ValidationError as exc:
        raise ValidationFailed(errors=flatten_errors(exc.messages)) from exc
    limit, cursor = args.pop("limit", None), args.pop("cursor", None)
    args.pop("counts", None)
    page = service.list_cases(actor=actor, limit=limit, cursor=cursor, **args)
    now = clock.now()
    rows = [case_document(c, service.side_of(actor, c), now) for c in page.items]
    next_url = None
    if page.next_cursor:
        next_url = url_for("cases.index", **{**request.args.to_dict(), "cursor": page.next_cursor})
    return render_template(
        "cases/index.html",
        rows=rows,
        next_url=next_url,
        args=request.args,
        counts=service.counts_by_status(actor=actor, **args),
    )


# -- opening ------------------------------------------------------------------------


def _intake_value(field: dict, raw: str):
    if raw == "":
        return None
    if field["type"] == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw  # the service says what is wrong with it
    return raw


def _case_data(form, content: dict, receiver: str, process_id: int) -> dict:
    intake = {}
    for field in content["intake_fields"]:
        value = _intake_value(field, form.get(f"intake.{field['key']}", "").strip())
        if value is not None:
            intake[field["key"]] = value
    data = {
        "receiver": receiver,
        "process": process_id,
        "severity": form.get("severity", ""),
        "summary": form.get("summary", "").strip(),
        "description": form.get("description", "").strip(),
        "customer": {
            k: form.get(f"customer.{k}", "").strip() or None
            for k in ("company", "contact_name", "contact_email", "contact_phone")
        },
        "intake": intake,
        "test": form.get("test") == "on",
        "submitter_reference": form.get("submitter_reference", "").strip() or None,
    }
    if form.get("product.name"):
        data["product"] = {
            "name": form["product.name"],
            "version": form.get("product.version") or None,
        }
    return data


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
def new():
    """Pick the partner and its process, then fill in what that process requires."""
    actor = _actor()
    partners = [
        m
        for m in members.search_members(limit=200).items
        if m.id != actor.member.id and m.is_active
    ]
    receiver_slug = request.values.get("receiver", "")
    receiver = next((m for m in partners if m.slug == receiver_slug), None)
    usable, process, version = [], None, None
    if receiver is not None:
        usable = [
            p
            for p in processes.list_processes(actor=actor, member=receiver)
            if processes.current_version(p) is not None
        ]
        chosen = request.values.get("process", type=int)
        process = next((p for p in usable if p.id == chosen), None)
        if process is None and len(usable) == 1:
            process = usable[0]
        version = processes.current_version(process) if process else None
    errors: dict = {}
    if request.method == "POST" and version is not None:
        key = request.form.get("form_key", "")
        done = idempotency.lookup(member_id=actor.member.id, key=key) if key else None
        if done is not None:  # the same form sent twice: one case, shown again
            return redirect(url_for("cases.show", case_id=done.body["case_id"]), 303)
        data = _case_data(request.form, version.content, receiver.slug, process.id)
        try:
            loaded = CaseIn().load(data)
            with transaction():
                # The same form sent twice at once: the second waits for the first, then
                # shows the case it opened (see idempotency.claim).
                done = idempotency.claim(member_id=actor.member.id, key=key) if key else None
                if done is not None:
                    return redirect(url_for("cases.show", case_id=done.body["case_id"]), 303)
                case = service.open_case(actor=actor, **loaded)
                if key:
                    idempotency.remember(
                        member_id=actor.member.id, key=key, status=303, body={"case_id": case.id}
                    )
            flash(f"{case.number} opened with {receiver.name}.")
            return redirect(url_for("cases.show", case_id=case.id), 303)
        except ValidationError as exc:
            # Say everything at once: the intake's own checks as well as the form's.
            errors = {
                **validate_intake(version.content, data["intake"]),
                **flatten_errors(exc.messages),
            }
        except Problem as problem:
            errors = problem.errors or {"_schema": [problem.detail]}
    products = []
    if receiver is not None:
        products = members.products.list_products(member=receiver)
    status = 422 if errors else 200
    return render_template(
        "cases/new.html",
        partners=partners,
        receiver=receiver,
        usable=usable,
        process=process,
        version=version,
        values=request.form,
        errors=errors,
        products=products,
        today=clock.today(),
        form_key=request.form.get("form_key") or uuid.uuid4().hex,
    ), status


# -- the case page ------------------------------------------------------------------


def _page(case_id: int, *, status: int = 200, action_errors=None, values=None):
    actor = _actor()
    case = service.get_case(actor=actor, case_id=case_id)
    side = service.side_of(actor, case)
    now = clock.now()
    notes = {n.id: n for n in service.list_notes(actor=actor, case_id=case.id)}
    attachments = {a.id: a for a in service.list_attachments(actor=actor, case_id=case.id)}
    own = case.submitter if side == "submitter" else case.receiver
    engineers = [
        u
        for u in own.users
        if u.is_active and (u.has_role(Role.engineer) or u.has_role(Role.escalation_manager))
    ]
    managers = [u for u in engineers if u.has_role(Role.escalation_manager)]
    content = case.process_version.content
    return render_template(
        "cases/show.html",
        case=case,
        doc=case_document(case, side, now),
        events=service.list_events(actor=actor, case_id=case.id),
        notes=notes,
        attachments=attachments,
        engineers=engineers,
        managers=managers,
        content=content,
        action_errors=action_errors or {},
        values=values or {},
        can_redact=current_user.has_role(Role.admin),
        side=side,
    ), status


@bp.route("/cases/<int:case_id>")
@login_required
def show(case_id):
    return _page(case_id)


def _if_match() -> str | None:
    version = request.form.get("version", "")
    case_id = request.view_args["case_id"]
    return f'"{case_id}-{version}"' if version.isdigit() else None


def _failed(case_id: int, action: str, problem: Problem):
    if problem.status == 412:
        flash(
            "Someone changed the case while you were looking at it; see what changed "
            "and try again.",
            "error",
        )
        return redirect(url_for("cases.show", case_id=case_id), 303)
    errors = problem.errors or {"_schema": [problem.detail]}
    return _page(
        case_id,
        status=problem.status,
        action_errors={action: errors},
        values={action: request.form},
    )


@bp.route("/cases/<int:case_id>/act/<action>", methods=["POST"])
@login_required
def act(case_id, action):
    if action not in ACTIONS:
        raise Problem(f"No action {action!r}.", code="not_found")
    schema, perform, _ = ACTIONS[action]
    fields = {k: v.strip() for k, v in request.form.items() if k in schema().fields and v.strip()}
    try:
        data = schema().load(fields)
        with transaction():
            case = perform(actor=_actor(), case_id=case_id, if_match=_if_match(), **data)
    except ValidationError as exc:
        return _failed(case_id, action, ValidationFailed(errors=flatten_errors(exc.messages)))
    except Problem as problem:
        return _failed(case_id, action, problem)
    flash(f"{case.number}: {action.replace('-', ' ')} done.")
    return redirect(url_for("cases.show", case_id=case_id), 303)


@bp.route("/cases/<int:case_id>/notes", methods=["POST"])
@login_required
def add_note(case_id):
    try:
        with transaction():
            service.add_note(
                actor=_actor(),
                case_id=case_id,
                body=request.form.get("body", ""),
                if_match=_if_match(),
            )
    except Problem as problem:
        return _failed(case_id, "note", problem)
    flash("Note added.")
    return redirect(url_for("cases.show", case_id=case_id, _anchor="note-box"), 303)


@bp.route("/cases/<int:case_id>/notes/<int:note_id>/redact", methods=["POST"])
@login_required
def redact(case_id, note_id):
    try:
        with transaction():
            service.redact_note(actor=_actor(), case_id=case_id, note_id=note_id)
    except Problem as problem:
        flash(problem.detail, "error")
        return redirect(url_for("cases.show", case_id=case_id), 303)
    flash("Note redacted.")
    return redirect(url_for("cases.show", case_id=case_id), 303)


@bp.route("/cases/<int:case_id>/attachments", methods=["POST"])
@login_required
def upload(case_id):
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _failed(
            case_id, "attachment", ValidationFailed(errors={"file": ["Choose a file to attach."]})
        )
    try:
        with transaction():
            attachment = service.add_attachment(
                actor=_actor(),
                case_id=case_id,
                stream=upload.stream,
                filename=upload.filename,
                content_type=upload.mimetype,
            )
    except Problem as problem:
        return _failed(case_id, "attachment", problem)
    flash(f"{attachment.filename} attached.")
    return redirect(url_for("cases.show", case_id=case_id), 303)


@bp.route("/cases/<int:case_id>/attachments/<int:attachment_id>")
@login_required
def download(case_id, attachment_id):
    attachment = service.get_attachment(
        actor=_actor(), case_id=case_id, attachment_id=attachment_id
    )
    return send_attachment(
        service.open_attachment(attachment),
        filename=attachment.filename,
        content_type=attachment.content_type,
        etag=attachment.sha256,
    )


# -- reports ------------------------------------------------------------------------


# Reports cover these years; a year outside (or month 0, 13) is a 422, never a date
# Python cannot build (year 0 or 10000 was a 500).
_REPORT_YEARS = range(2000, 2101)
_YEAR = re.compile(r"[0-9]{4}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def _report_year(raw: str) -> int:
    if not _YEAR.fullmatch(raw) or int(raw) not in _REPORT_YEARS:
        raise ValidationFailed(errors={"year": ["Choose a year between 2000 and 2100."]})
    return int(raw)


def _report_month(raw: str) -> tuple[int, int]:
    match = _MONTH.fullmatch(raw)
    if not match or int(match[1]) not in _REPORT_YEARS or not 1 <= int(match[2]) <= 12:
        raise ValidationFailed(errors={"month": ["Use YYYY-MM (a year from 2000 to 2100)."]})
    return int(match[1]), int(match[2])


def _report_args():
    raw = request.args.get("year", "")
    year = _report_year(raw) if raw else clock.now().year
    partner = None
    if request.args.get("partner"):
        partner = members.get_member(slug=request.args["partner"])
    return year, partner


@bp.route("/reports")
@login_required
def report():
    """Monthly figures for the member (or one partner), with charts and a CSV export."""
    actor = _actor()
    year, partner = _report_args()
    months = reports.monthly(actor=actor, year=year, partner=partner)
    labels = [m[5:] for m in months]
    opened_closed = bar_chart(
        "Cases opened, closed and withdrawn per month",
        labels,
        {
            "opened": [f.opened for f in months.values()],
            "closed": [f.closed for f in months.values()],
            "withdrawn": [f.withdrawn for f in months.values()],
        },
    )
    response = bar_chart(
        "Time to first response per month (minutes)",
        labels,
        {
            "median": [f.response_median for f in months.values()],
            "90th percentile": [f.response_p90 for f in months.values()],
        },
        unit=" min",
    )
    deadlines = bar_chart(
        "Response deadlines met and breached per month",
        labels,
        {
            "met": [f.met for f in months.values()],
            "breached": [f.breached for f in months.values()],
        },
    )
    partners = [m for m in members.search_members(limit=200).items if m.id != actor.member.id]
    return render_template(
        "cases/report.html",
        year=year,
        partner=partner,
        months=months,
        total=reports.totals(months),
        charts=[opened_closed, response, deadlines],
        partners=partners,
    )


@bp.route("/reports.csv")
@login_required
def report_csv():
    actor = _actor()
    year, partner = _report_args()
    months = reports.monthly(actor=actor, year=year, partner=partner)
    out = io.StringIO()
    columns = list(reports.Figures().row())
    writer = csv.writer(out)
    writer.writerow(["month", "partner", *columns])
    for month, figures in months.items():
        row = figures.row()
        writer.writerow(
            [
                month,
                partner.slug if partner else "all",
                *("" if row[c] is None else row[c] for c in columns),
            ]
        )
    name = f"exchange-report-{actor.member.slug}-{year}{'-' + partner.slug if partner else ''}"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@bp.route("/reports/review")
@login_required
def review():
    """A printable monthly service review with one partner."""
    actor = _actor()
    raw = request.args.get("month", "")
    year, month = _report_month(raw)
    if not request.args.get("partner"):
        raise ValidationFailed(errors={"partner": ["Choose the partner to review."]})
    partner = members.get_member(slug=request.args["partner"])
    months = reports.monthly(actor=actor, year=year, month=month, partner=partner)
    page = service.list_cases(actor=actor, partner=partner.slug, limit=200, test=False)
    now = clock.now()
    rows = [
        case_document(c, service.side_of(actor, c), now)
        for c in page.items
        if c.created_at.year == year and c.created_at.month == month
    ]
    return render_template(
        "cases/review.html",
        partner=partner,
        month=raw,
        figures=next(iter(months.values())),
        rows=rows,
    )
