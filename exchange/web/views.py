"""Pages shared by everyone: the dashboard and the human API reference."""

from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required

from exchange import clock
from exchange.auth.actor import actor_for_user
from exchange.cases import service as cases
from exchange.cases.documents import case_document

bp = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/static"
)


@bp.route("/")
@login_required
def dashboard():
    """Inbound cases needing our response (soonest deadline first, overdue on top),
    outbound cases waiting on partners, my cases, escalations, counts per status."""
    actor = actor_for_user(current_user)
    now = clock.now()
    lists = {
        name: [case_document(c, cases.side_of(actor, c), now) for c in rows]
        for name, rows in cases.dashboard(actor=actor).items()
    }
    return render_template(
        "web/dashboard.html",
        member=current_user.member,
        lists=lists,
        counts=cases.counts_by_status(actor=actor),
    )


@bp.route("/api/docs")
def api_docs():
    """The OpenAPI document rendered as a page from local templates (no CDN)."""
    spec = current_app.extensions["exchange_api"].spec.to_dict()
    return render_template("web/api_docs.html", spec=spec)
