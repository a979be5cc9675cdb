"""The mail a member's people were sent, for its admins (in the embedded default the
messages are also files in the instance folder)."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from exchange.db import db
from exchange.errors import Problem
from exchange.members.models import Role
from exchange.notifications.models import Message

bp = Blueprint("notifications", __name__, template_folder="templates")


@bp.route("/admin/mail")
@login_required
def outbox():
    if not current_user.has_role(Role.admin):
        raise Problem("Only a member admin may see the member's mail.", code="forbidden")
    messages = db.session.scalars(
        select(Message)
        .where(Message.member_id == current_user.member_id)
        .order_by(Message.id.desc())
        .limit(200)
    )
    return render_template("notifications/outbox.html", messages=list(messages))
