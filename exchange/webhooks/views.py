"""The member admin's webhook pages: endpoints (create, edit, enable or disable,
delete), secrets shown once (on creation and rotation), test pings, the delivery log
with a status filter and retries, and recovering failed deliveries since a date.

Forms are checked with the API's own schemas and handed to the same service functions
the API calls.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    URLField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from exchange.db import transaction
from exchange.errors import Problem
from exchange.web.forms import admin_actor as _admin_actor
from exchange.web.forms import load as _load
from exchange.web.forms import run as _run
from exchange.webhooks import service
from exchange.webhooks.models import DeliveryStatus
from exchange.webhooks.schemas import EndpointIn, EndpointPatchIn, RecoverIn, RotateIn

bp = Blueprint("webhooks", __name__, template_folder="templates")

DELIVERY_STATUSES = [s.value for s in DeliveryStatus]
LOG_PAGE_SIZE = 50


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class EndpointForm(FlaskForm):
    url = URLField("URL", validators=[DataRequired(), Length(max=2000)])
    description = StringField("Description", validators=[Length(max=500)])
    event_types = CheckboxesField("Event types")
    partners = StringField("Only cases with these members")
    exclude_own_changes = BooleanField(
        "Skip events your own member's programs caused", default=True
    )
    enabled = BooleanField("Enabled", default=True)


class RotateForm(FlaskForm):
    grace_seconds = IntegerField("Old secret keeps signing for (seconds)", validators=[Optional()])


class RecoverForm(FlaskForm):
    since = DateTimeLocalField("Failed since", validators=[InputRequired()])


# -- helpers --------------------------------------------------------------------------


def _event_choices(extra: list[str] = ()) -> list[SelectChoice]:
    """Every event type, the wildcards over them, and any other pattern in use."""
    prefixes = [t.split(".")[0] for t in service.EVENT_TYPES if "." in t]
    groups = sorted({g for g in prefixes if prefixes.count(g) > 1})
    wildcards = [("*", "* (every event)")] + [
        (f"{g}.*", f"{g}.* (every {g} event)") for g in groups
    ]
    known = {value for value, _ in wildcards} | set(service.EVENT_TYPES)
    return [
        *(SelectChoice(v, label) for v, label in wildcards),
        *(SelectChoice(t, t) for t in service.EVENT_TYPES),
        *(SelectChoice(p, p) for p in extra if p not in known),
    ]


def _endpoint_form(endpoint=None, submitted: bool = False) -> EndpointForm:
    if submitted:
        form = EndpointForm()
    elif endpoint is not None:
        form = EndpointForm(formdata=None, obj=endpoint)
        form.partners.data = ", ".join(endpoint.partners)
    else:
        form = EndpointForm(formdata=None, event_types=["case.*"])
    existing = list(endpoint.event_types) if endpoint is not None else []
    form.event_types.choices = _event_choices(existing + list(form.event_types.data or []))
    return form


def _slugs(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").replace(",", " ").split() if s.strip()]


def _endpoint_data(form: EndpointForm) -> dict:
    return {
        "url": form.url.data.strip(),
        "description": (form.description.data or "").strip(),
        "event_types": list(form.event_types.data or []),
        "partners": _slugs(form.partners.data),
        "exclude_own_changes": form.exclude_own_changes.data,
        "enabled": form.enabled.data,
    }


def _viewer_zone() -> ZoneInfo:
    return ZoneInfo(current_user.time_zone or "UTC")


# -- endpoints ----------------------------------------------------------------------------


@bp.route("/admin/webhooks", methods=["GET", "POST"])
@login_required
def endpoints():
    """The member's endpoints; a new endpoint's secret is shown on this answer only."""
    actor = _admin_actor()
    form = _endpoint_form(submitted=request.method == "POST")
    ok, created = _run(
        form,
        lambda: service.create_endpoint(actor=actor, **_load(EndpointIn(), _endpoint_data(form))),
    )
    status = 422 if form.errors else 200
    if ok:
        flash(
            f"Added the endpoint {created[0].url}. Copy its signing secret now: it is shown once."
        )
        form, status = _endpoint_form(), 201
    return render_template(
        "webhooks/endpoints.html",
        endpoints=service.list_endpoints(actor=actor),
        form=form,
        created=created,
        event_types=service.EVENT_TYPES,
    ), status


def _render_endpoint(
    actor, endpoint, *, form=None, rotate_form=None, recover_form=None, secret=None, status=200
):
    status_filter = request.args.get("status", "")
    if status_filter not in DELIVERY_STATUSES:
        status_filter = ""
    page = service.list_deliveries(
        actor=actor,
        endpoint=endpoint,
        status=status_filter or None,
        limit=LOG_PAGE_SIZE,
        cursor=request.args.get("cursor") or None,
    )
    return render_template(
        "webhooks/endpoint.html",
        endpoint=endpoint,
        form=form or _endpoint_form(endpoint),
        rotate_form=rotate_form
        or RotateForm(
            formdata=None, grace_seconds=current_app.config["WEBHOOK_ROTATION_GRACE_SECONDS"]
        ),
        recover_form=recover_form or RecoverForm(formdata=None),
        secret=secret,
        page=page,
        status_filter=status_filter,
        statuses=DELIVERY_STATUSES,
        event_types=service.EVENT_TYPES,
    ), status


@bp.route("/admin/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
@login_required
def endpoint(endpoint_id):
    actor = _admin_actor()
    endpoint = service.get_endpoint(actor=actor, endpoint_id=endpoint_id)
    form = _endpoint_form(endpoint, submitted=request.method == "POST")
    ok, _ = _run(
        form,
        lambda: service.update_endpoint(
            actor=actor, endpoint=endpoint, changes=_load(EndpointPatchIn(), _endpoint_data(form))
        ),
    )
    if ok:
        flash(f"Saved the endpoint {endpoint.url}.")
        return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint.id))
    return _render_endpoint(actor, endpoint, form=form, status=422 if form.errors else 200)


def _endpoint_action(endpoint_id: int, act: Callable[..., str]):
    """A one-button change of an endpoint; ``act`` returns the message to flash."""
    actor = _admin_actor()
    try:
        with transaction():
            endpoint = service.get_endpoint(actor=actor, endpoint_id=endpoint_id)
            message = act(actor, endpoint)
        flash(message)
    except Problem as problem:
        if problem.status in (401, 403, 404):
            raise
        flash(problem.detail, "error")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))


@bp.route("/admin/webhooks/<int:endpoint_id>/enabled", methods=["POST"])
@login_required
def set_enabled(endpoint_id):
    enabled = request.form.get("enabled") == "1"

    def act(actor, endpoint):
        service.update_endpoint(actor=actor, endpoint=endpoint, changes={"enabled": enabled})
        if enabled:
            return f"Enabled {endpoint.url}: what is pending goes out again, oldest first."
        return f"Disabled {endpoint.url}: new deliveries wait until you enable it again."

    return _endpoint_action(endpoint_id, act)


@bp.route("/admin/webhooks/<int:endpoint_id>/ping", methods=["POST"])
@login_required
def ping(endpoint_id):
    def act(actor, endpoint):
        delivery = service.ping(actor=actor, endpoint=endpoint)
        return f"Queued a test ping (message {delivery.message_id}); see the delivery log below."

    return _endpoint_action(endpoint_id, act)


@bp.route("/admin/webhooks/<int:endpoint_id>/delete", methods=["POST"])
@login_required
def delete_endpoint(endpoint_id):
    actor = _admin_actor()
    with transaction():
        endpoint = service.get_endpoint(actor=actor, endpoint_id=endpoint_id)
        service.delete_endpoint(actor=actor, endpoint=endpoint)
    flash(f"Deleted the endpoint {endpoint.url}; its pending deliveries were given up.")
    return redirect(url_for("webhooks.endpoints"))


@bp.route("/admin/webhooks/<int:endpoint_id>/rotate", methods=["POST"])
@login_required
def rotate_secret(endpoint_id):
    """A new signing secret, shown on this answer only."""
    actor = _admin_actor()
    endpoint = service.get_endpoint(actor=actor, endpoint_id=endpoint_id)
    form = RotateForm()
    ok, secret = _run(
        form,
        lambda: service.rotate_secret(
            actor=actor,
            endpoint=endpoint,
            **_load(RotateIn(), {"grace_seconds": form.grace_seconds.data}),
        ),
    )
    if not ok:
        return _render_endpoint(actor, endpoint, rotate_form=form, status=422)
    if endpoint.previous_secret_expires_at:
        flash(
            "Rotated the signing secret. Copy the new one now: it is shown once. The old one "
            "keeps signing alongside it until the time shown below."
        )
    else:
        flash("Rotated the signing secret; the old one stopped signing at once.")
    return _render_endpoint(actor, endpoint, secret=secret)


@bp.route("/admin/webhooks/<int:endpoint_id>/recover", methods=["POST"])
@login_required
def recover(endpoint_id):
    """Re-queue every failed delivery since a moment (given in the viewer's time zone)."""
    actor = _admin_actor()
    endpoint = service.get_endpoint(actor=actor, endpoint_id=endpoint_id)
    form = RecoverForm()

    def change():
        since = form.since.data.replace(tzinfo=_viewer_zone())
        data = _load(RecoverIn(), {"since": since.isoformat()})
        return service.recover(actor=actor, endpoint=endpoint, since=data["since"])

    ok, count = _run(form, change)
    if not ok:
        return _render_endpoint(actor, endpoint, recover_form=form, status=422)
    flash(f"Re-queued {count} failed deliver{'y' if count == 1 else 'ies'}; the worker sends them.")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint.id))


# -- deliveries -----------------------------------------------------------------------------


@bp.route("/admin/webhooks/deliveries/<int:delivery_id>")
@login_required
def delivery(delivery_id):
    actor = _admin_actor()
    found = service.get_delivery(actor=actor, delivery_id=delivery_id)
    return render_template(
        "webhooks/delivery.html", delivery=found, attempts=service.attempts_of(found)
    )


@bp.route("/admin/webhooks/deliveries/<int:delivery_id>/retry", methods=["POST"])
@login_required
def retry_delivery(delivery_id):
    actor = _admin_actor()
    back = request.form.get("status", "")
    try:
        with transaction():
            found = service.get_delivery(actor=actor, delivery_id=delivery_id)
            service.retry_delivery(actor=actor, delivery=found)
        flash(f"Queued delivery {found.id} ({found.event_type}) again with the same webhook-id.")
    except Problem as problem:
        if problem.status in (401, 403, 404):
            raise
        flash(problem.detail, "error")
        return redirect(url_for("webhooks.delivery", delivery_id=delivery_id))
    return redirect(
        url_for(
            "webhooks.endpoint",
            endpoint_id=found.endpoint_id,
            status=back if back in DELIVERY_STATUSES else None,
            _anchor="deliveries",
        )
    )
