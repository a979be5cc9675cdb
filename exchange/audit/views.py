"""The audit log page for a member's admins, in the admin section."""

from flask import Blueprint, render_template, request
from flask_login import login_required

from exchange.audit import service
from exchange.audit.schemas import AuditArgs
from exchange.schemas import load_or_422
from exchange.web.forms import admin_actor

bp = Blueprint("audit", __name__, template_folder="templates")


@bp.route("/admin/audit")
@login_required
def audit_log():
    """Newest first, a page at a time (``cursor``, ``limit``), optionally of one action."""
    actor = admin_actor()
    wanted = ("action", "cursor", "limit")
    args = load_or_422(AuditArgs(), {k: v for k, v in request.args.items() if k in wanted})
    page = service.list_entries(actor=actor, **args)
    return render_template(
        "audit/log.html",
        page=page,
        action=args.get("action"),
        limit=args.get("limit"),
        actions=service.action_codes(actor=actor),
    )
