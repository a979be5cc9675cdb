"""REST endpoints of the member directory, the caller's identity, member administration,
products with their support lifecycle, and communities."""

from flask.views import MethodView
from flask_smorest import Blueprint

from exchange import clock
from exchange.api_support import page_body
from exchange.auth import service as auth_service
from exchange.auth.actor import current_actor, requires
from exchange.auth.schemas import ClientCreatedOut, ClientIn, ClientOut
from exchange.db import transaction
from exchange.members import service
from exchange.members.schemas import (
    CommunityIn,
    CommunityOut,
    InvitationIn,
    MemberOut,
    MemberPageOut,
    MemberPatchIn,
    MemberSearchArgs,
    MeOut,
    ProductArgs,
    ProductIn,
    ProductOut,
    ProductPatchIn,
    ProductVersionIn,
    ProductVersionOut,
    ProductVersionPatchIn,
    UserIn,
    UserOut,
    UserPatchIn,
)
from exchange.members.service import communities, products

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
            # Raw values: the response schema dumps them (dumping twice fails on dates).
            body = {name: getattr(client, name) for name in ClientOut().fields}
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


def _version_body(version, today) -> dict:
    # Raw values: the response schema dumps them (dumping twice fails on dates).
    return {
        "id": version.id,
        "version": version.version,
        "release_date": version.release_date,
        "end_of_support_date": version.end_of_support_date,
        "status": version.status_on(today),
    }


def _product_body(product, versions, today) -> dict:
    return {
        "id": product.id,
        "member": product.member.slug,
        "name": product.name,
        "description": product.description,
        "versions": [_version_body(v, today) for v in versions],
        "warnings": products.lifecycle_warnings(product),
    }


@blp.route("/members/<slug>/products")
class MemberProducts(MethodView):
    @blp.arguments(ProductArgs, location="query")
    @blp.response(200, ProductOut(many=True))
    @requires("directory:read")
    def get(self, args, slug):
        """A member's products and versions; `status=obsolete` gives the published list
        of obsolete versions (source 000 §4)."""
        today = clock.today()
        member = service.get_member(slug=slug)
        return [
            _product_body(p, vs, today)
            for p, vs in products.list_products(
                member=member, status=args.get("status"), today=today
            )
        ]

    @blp.arguments(ProductIn)
    @blp.response(201, ProductOut)
    @requires("processes:write")
    def post(self, data, slug):
        """Add a product (with versions) to your own member."""
        with transaction():
            product = products.create_product(
                actor=current_actor(), member=service.get_member(slug=slug), **data
            )
            return _product_body(product, product.versions, clock.today())


@blp.route("/products/<int:product_id>")
class ProductItem(MethodView):
    @blp.response(200, ProductOut)
    @requires("directory:read")
    def get(self, product_id):
        product = products.get_product(product_id=product_id)
        return _product_body(product, product.versions, clock.today())

    @blp.arguments(ProductPatchIn)
    @blp.response(200, ProductOut)
    @requires("processes:write")
    def patch(self, changes, product_id):
        with transaction():
            product = products.update_product(
                actor=current_actor(),
                product=products.get_product(product_id=product_id),
                changes=changes,
            )
            return _product_body(product, product.versions, clock.today())

    @blp.response(204)
    @requires("processes:write")
    def delete(self, product_id):
        with transaction():
            products.delete_product(
                actor=current_actor(), product=products.get_product(product_id=product_id)
            )


@blp.route("/products/<int:product_id>/versions")
class ProductVersions(MethodView):
    @blp.arguments(ProductVersionIn)
    @blp.response(201, ProductVersionOut)
    @requires("processes:write")
    def post(self, data, product_id):
        """Add a released version."""
        with transaction():
            version = products.add_version(
                actor=current_actor(),
                product=products.get_product(product_id=product_id),
                data=data,
            )
            return _version_body(version, clock.today())


@blp.route("/product-versions/<int:version_id>")
class ProductVersionItem(MethodView):
    @blp.arguments(ProductVersionPatchIn)
    @blp.response(200, ProductVersionOut)
    @requires("processes:write")
    def patch(self, changes, version_id):
        """Change a version, e.g. announce its end-of-support date."""
        with transaction():
            version = products.update_version(
                actor=current_actor(),
                version=products.get_version(version_id=version_id),
                changes=changes,
            )
            return _version_body(version, clock.today())

    @blp.response(204)
    @requires("processes:write")
    def delete(self, version_id):
        with transaction():
            products.delete_version(
                actor=current_actor(), version=products.get_version(version_id=version_id)
            )


@blp.route("/communities")
class Communities(MethodView):
    @blp.response(200, CommunityOut(many=True))
    @requires("directory:read")
    def get(self):
        """Communities your member owns, belongs to or is invited to."""
        return communities.list_communities(actor=current_actor())

    @blp.arguments(CommunityIn)
    @blp.response(201, CommunityOut)
    @requires("members:admin")
    def post(self, data):
        """Create a community owned by your member."""
        with transaction():
            return communities.create_community(actor=current_actor(), **data)


@blp.route("/communities/<slug>")
class CommunityItem(MethodView):
    @blp.response(200, CommunityOut)
    @requires("directory:read")
    def get(self, slug):
        return communities.get_community(actor=current_actor(), slug=slug)


@blp.route("/communities/<slug>/invitations")
class CommunityInvitations(MethodView):
    @blp.arguments(InvitationIn)
    @blp.response(201, CommunityOut)
    @requires("members:admin")
    def post(self, data, slug):
        """Invite a member (owner only); it joins when its admin accepts."""
        actor = current_actor()
        with transaction():
            community = communities.get_community(actor=actor, slug=slug)
            communities.invite(actor=actor, community=community, member_slug=data["member"])
            return community


@blp.route("/communities/<slug>/accept")
class CommunityAccept(MethodView):
    @blp.response(200, CommunityOut)
    @requires("members:admin")
    def post(self, slug):
        """Accept your member's invitation."""
        actor = current_actor()
        with transaction():
            community = communities.get_community(actor=actor, slug=slug)
            communities.accept(actor=actor, community=community)
            return community


@blp.route("/communities/<slug>/members/<member_slug>")
class CommunityMember(MethodView):
    @blp.response(204)
    @requires("members:admin")
    def delete(self, slug, member_slug):
        """Leave or decline (your own member), or remove a member (owner)."""
        actor = current_actor()
        with transaction():
            community = communities.get_community(actor=actor, slug=slug)
            if member_slug == actor.member.slug:
                communities.leave(actor=actor, community=community)
            else:
                communities.remove_member(actor=actor, community=community, member_slug=member_slug)
