"""REST endpoints of the audit log: a member's admins read their own member's entries."""

from flask.views import MethodView
from flask_smorest import Blueprint

from exchange.api_support import page_body
from exchange.audit import service
from exchange.audit.schemas import AuditArgs, AuditEntryOut, AuditPageOut
from exchange.auth.actor import current_actor, requires

blp = Blueprint(
    "audit_api", __name__, url_prefix="/api/v1", description="The audit log of admin actions"
)


@blp.route("/audit")
class AuditLog(MethodView):
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, AuditPageOut)
    @requires("members:admin")
    def get(self, args):
        """Your member's administrative changes, newest first: who (person or program,
        from the pages or which client) did what to which user, client, endpoint,
        process, contact or the member profile. `action` filters (`user.role_changed`,
        or a group such as `endpoint.*`). Member admins only."""
        page = service.list_entries(actor=current_actor(), **args)
        return page_body(page, "audit_api.AuditLog")


@blp.route("/audit/<int:entry_id>")
class AuditEntryItem(MethodView):
    @blp.response(200, AuditEntryOut)
    @requires("members:admin")
    def get(self, entry_id):
        """One entry of your member's audit log."""
        return service.get_entry(actor=current_actor(), entry_id=entry_id)
