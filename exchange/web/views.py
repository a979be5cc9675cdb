"""Pages shared by everyone: the start page and the human API reference."""

from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required

bp = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/static"
)


@bp.route("/")
@login_required
def dashboard():
    return render_template("web/dashboard.html", member=current_user.member)


@bp.route("/api/docs")
def api_docs():
    """The OpenAPI document rendered as a page from local templates (no CDN)."""
    spec = current_app.extensions["exchange_api"].spec.to_dict()
    return render_template("web/api_docs.html", spec=spec)
