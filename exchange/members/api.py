"""REST endpoints of the member directory, the caller's identity and member administration."""

from flask.views import MethodView
from flask_smorest import Blueprint

from exchange.api_support import page_body
from exchange.auth import service as auth_service
from exchange.auth.actor import current_actor, requires
from exchange.auth.schemas import ClientCreatedOut, ClientIn, ClientOut
from exchange.db import transaction
from exchange.members import service
from exchange.members.schemas import (
    MemberOut,
    MemberPageOut,
    MemberPatchIn,
    MemberSearchArgs,
    MeOut,
    UserIn,
    UserOut,
    UserPatchIn,
)

blp = Blueprint("members_api", __name__, url_prefix="/api/v1", description="Members and users")


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeOut)
    @requires(None)
    def get(self):
        """Who the caller is: the member it acts for, the person or program, its scopes."""
        actor = current_actor()
        return {
            "member": actor.member,
            "scopes": sorted(actor.scopes),
            "user": actor.user,
            "client": actor.client,
        }


@blp.route("/members")
class Members(MethodView):
    @blp.arguments(MemberSearchArgs, location="query")
    @blp.response(200, MemberPageOut)
    @requires("directory:read")
    def get(self, args):
        """Search the member directory by name or slug."""
        page = service.search_members(
            q=args.get("q"), limit=args.get("limit"), cursor=args.get("cursor")
        )
        return page_body(page, "members_api.Members")


@blp.route("/members/<slug>")
class MemberItem(MethodView):
    @blp.response(200, MemberOut)
    @requires("directory:read")
    def get(self, slug):
        """A member's directory profile."""
        return service.get_member(slug=slug)

    @blp.arguments(MemberPatchIn)
    @blp.response(200, MemberOut)
    @requires("members:admin")
    def patch(self, changes, slug):
        """Edit your own member's profile (member admins)."""
        with transaction():
            member = service.get_member(slug=slug)
            return service.update_member(actor=current_actor(), member=member, changes=changes)


@blp.route("/members/<slug>/users")
class MemberUsers(MethodView):
    @blp.response(200, UserOut(many=True))
    @requires("directory:read")
    def get(self, slug):
        """Your own member's users (another member's users are not visible)."""
        return service.list_users(actor=current_actor(), member=service.get_member(slug=slug))

    @blp.arguments(UserIn)
    @blp.response(201, UserOut)
    @requires("members:admin")
    def post(self, data, slug):
        """Add a user to your own member (member admins)."""
        with transaction():
            member = service.get_member(slug=slug)
            return service.create_user(actor=current_actor(), member=member, **data)


@blp.route("/users/<int:user_id>")
class UserItem(MethodView):
    @blp.response(200, UserOut)
    @requires("directory:read")
    def get(self, user_id):
        """One of your own member's users."""
        return service.get_user(actor=current_actor(), user_id=user_id)

    @blp.arguments(UserPatchIn)
    @blp.response(200, UserOut)
    @requires(None)
    def patch(self, changes, user_id):
        """Change a user: roles and deactivation by member admins; name, phone and time
        zone also by the person themselves."""
        with transaction():
            actor = current_actor()
            user = service.get_user(actor=actor, user_id=user_id)
            return service.update_user(actor=actor, user=user, changes=changes)


@blp.route("/members/<slug>/clients")
class MemberClients(MethodView):
    @blp.response(200, ClientOut(many=True))
    @requires("members:admin")
    def get(self, slug):
        """Your own member's API clients (programs)."""
        member = service.get_member(slug=slug)
        return auth_service.list_clients(actor=current_actor(), member=member)

    @blp.arguments(ClientIn)
    @blp.response(201, ClientCreatedOut)
    @requires("members:admin")
    def post(self, data, slug):
        """Register an API client; its secret is in this answer and never again."""
        with transaction():
            member = service.get_member(slug=slug)
            client, secret = auth_service.create_client(
                actor=current_actor(), member=member, name=data["name"], scopes=data["scopes"]
            )
            body = ClientCreatedOut().dump(client)
        return {**body, "client_secret": secret}


@blp.route("/clients/<client_id>")
class ClientItem(MethodView):
    @blp.response(200, ClientOut)
    @requires("members:admin")
    def get(self, client_id):
        """One of your own member's API clients."""
        return auth_service.get_client(actor=current_actor(), client_id=client_id)

    @blp.response(200, ClientOut)
    @requires("members:admin")
    def delete(self, client_id):
        """Revoke an API client and every token it holds."""
        with transaction():
            actor = current_actor()
            client = auth_service.get_client(actor=actor, client_id=client_id)
            return auth_service.revoke_client(actor=actor, client=client)
