"""Pages of the members package: the directory (every signed-in person), each person's
own settings, and the member admin's pages (profile, users and invitations, products,
communities, API clients) with the admin hub that links to every admin page.

Each form is parsed here, checked with the API's own schema where the API has one, and
handed to the same service function the API calls; the service's 422 messages are shown
at the fields they name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
    widgets,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from exchange import clock
from exchange.auth import invitations
from exchange.auth import service as auth_service
from exchange.auth.actor import actor_for_user
from exchange.auth.scopes import SCOPES
from exchange.auth.sessions import start_session
from exchange.db import transaction
from exchange.errors import (
    NotFound,
    Problem,
)
from exchange.markdown import render_markdown
from exchange.members import service
from exchange.members.models import NOTIFICATION_DEFAULTS, MembershipStatus, Role
from exchange.members.schemas import CommunityIn, MemberPatchIn, ProductIn, ProductVersionIn
from exchange.processes import service as processes
from exchange.web.forms import admin_actor as _admin_actor
from exchange.web.forms import load as _load
from exchange.web.forms import run as _run
from exchange.zones import known_time_zones

bp = Blueprint("members", __name__, template_folder="templates")

ROLE_LABELS = [
    (Role.admin.value, "Admin"),
    (Role.engineer.value, "Engineer"),
    (Role.escalation_manager.value, "Escalation manager"),
]
ROLE_CHOICES = [SelectChoice(value, label) for value, label in ROLE_LABELS]

NOTIFICATION_LABELS = {
    "case_opened": "New inbound cases for my member (the designated support contact "
    "always gets these)",
    "case_progress": "Progress of my cases: accepted, rejected, information asked or "
    "given, severity changed, resolved, reopened, closed, withdrawn",
    "assignments": "Cases I am named engineer for by someone else",
    "notes": "New notes from the other side on my cases",
    "escalations": "Escalations of cases I am escalation manager for",
    "breaches": "Missed response commitments",
    "reminders": "Updates that are due or overdue",
}

# Set-password links (invitations): signed with the app's key, valid for seven days,
# and bound to the password the person has now, so a link works only once.


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class UserForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=320)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    phone = StringField("Phone", validators=[Optional(), Length(max=50)])
    time_zone = StringField("Time zone", default="UTC", validators=[DataRequired(), Length(max=64)])
    roles = CheckboxesField("Roles", choices=ROLE_CHOICES, default=[Role.engineer.value])
    password = PasswordField("Initial password", validators=[Optional(), Length(max=200)])


class InviteForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=320)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    time_zone = StringField("Time zone", default="UTC", validators=[DataRequired(), Length(max=64)])
    roles = CheckboxesField("Roles", choices=ROLE_CHOICES, default=[Role.engineer.value])


class UserEditForm(FlaskForm):
    roles = CheckboxesField("Roles", choices=ROLE_CHOICES)
    active = BooleanField("Active")


class SetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(
        "The same password again",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
    )


class MemberForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=5000)])
    website = URLField("Website")
    email_domains = TextAreaField("E-mail domains")
    support_contact_name = StringField("Name", validators=[Length(max=200)])
    support_contact_email = EmailField("E-mail", validators=[Length(max=320)])
    support_contact_phone = StringField("Phone", validators=[Length(max=50)])


class ProductForm(FlaskForm):
    name = StringField("Product name", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=5000)])


class VersionForm(FlaskForm):
    version = StringField("Version", validators=[DataRequired(), Length(max=50)])
    release_date = DateField("Release date", validators=[Optional()])
    end_of_support_date = DateField("End of support", validators=[Optional()])


class CommunityForm(FlaskForm):
    slug = StringField("Slug", validators=[DataRequired(), Length(max=40)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=2000)])


class CommunityInviteForm(FlaskForm):
    member = StringField("Member slug", validators=[DataRequired(), Length(max=40)])


class ClientForm(FlaskForm):
    name = StringField("Client name", validators=[DataRequired(), Length(max=200)])
    scopes = CheckboxesField("Scopes", choices=[SelectChoice(s, s) for s in SCOPES])


class SettingsForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    phone = StringField("Phone", validators=[Optional(), Length(max=50)])
    time_zone = StringField("Time zone", validators=[DataRequired(), Length(max=64)])
    notifications = CheckboxesField(
        "Mail me about",
        choices=[SelectChoice(kind, NOTIFICATION_LABELS[kind]) for kind in NOTIFICATION_DEFAULTS],
    )


# -- helpers --------------------------------------------------------------------------


@functools.cache
def _sorted_zones() -> list[str]:
    return sorted(known_time_zones())


@bp.context_processor
def _page_globals():
    # For the time zone inputs' suggestion list.
    return {"time_zones": _sorted_zones()}


def _actor():
    return actor_for_user(current_user)


def _blank(form_class: type[FlaskForm], **kwargs) -> FlaskForm:
    """A form not being submitted now (so it ignores another form's posted data)."""
    return form_class(formdata=None, **kwargs)


def _lines(text: str | None) -> list[str]:
    """One item per line (commas separate too); blanks dropped."""
    items = (text or "").replace(",", "\n").splitlines()
    return [item.strip() for item in items if item.strip()]


def _or_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


# -- the directory --------------------------------------------------------------------


@bp.route("/directory")
@login_required
def directory():
    q = request.args.get("q", "").strip()
    page = service.search_members(
        q=q or None, limit=request.args.get("limit", type=int), cursor=request.args.get("cursor")
    )
    return render_template("members/directory.html", page=page, q=q)


@bp.route("/directory/<slug>")
@login_required
def profile(slug):
    """A member's directory profile: how to engage it (its processes you may use, with
    their current versions), its contacts, and its products with their lifecycle."""
    actor = _actor()
    member = service.get_member(slug=slug)
    today = clock.today()
    engaged = [
        (p, processes.current_version(p))
        for p in processes.list_processes(actor=actor, member=member)
    ]
    return render_template(
        "members/profile.html",
        member=member,
        processes=engaged,
        contacts=processes.list_contacts(actor=actor, member=member),
        products=service.products.list_products(member=member, today=today),
        lifecycle_warnings=service.products.lifecycle_warnings,
        today=today,
        render_markdown=render_markdown,
    )


# -- the admin hub and the member's profile -------------------------------------------


@bp.route("/admin")
@login_required
def admin_home():
    actor = _admin_actor()
    invitations = [
        c
        for c in service.communities.list_communities(actor=actor)
        if any(
            m.member_id == actor.member.id and m.status == MembershipStatus.invited
            for m in c.memberships
        )
    ]
    return render_template("members/admin_home.html", member=actor.member, invitations=invitations)


@bp.route("/admin/member", methods=["GET", "POST"])
@login_required
def edit_member():
    actor = _admin_actor()
    member = actor.member
    if request.method == "GET":
        form = MemberForm(obj=member)
        form.email_domains.data = "\n".join(member.email_domains or [])
    else:
        form = MemberForm()

    def change():
        changes = _load(
            MemberPatchIn(),
            {
                "name": form.name.data.strip(),
                "description": form.description.data or "",
                "website": _or_none(form.website.data),
                "email_domains": _lines(form.email_domains.data),
                "support_contact_name": _or_none(form.support_contact_name.data),
                "support_contact_email": _or_none(form.support_contact_email.data),
                "support_contact_phone": _or_none(form.support_contact_phone.data),
            },
        )
        return service.update_member(actor=actor, member=member, changes=changes)

    ok, _ = _run(form, change)
    if ok:
        flash("Saved the member profile.")
        return redirect(url_for("members.edit_member"))
    status = 422 if form.errors else 200
    return render_template("members/member_edit.html", form=form, member=actor.member), status


# -- users, invitations and set-password links ----------------------------------------


def _render_users(actor, *, form=None, invite_form=None, link=None, status=200):
    return render_template(
        "members/users.html",
        form=form or _blank(UserForm),
        invite_form=invite_form or _blank(InviteForm, prefix="invite"),
        member=actor.member,
        users=service.list_users(actor=actor, member=actor.member),
        role_labels=ROLE_LABELS,
        link=link,
    ), status


@bp.route("/admin/users", methods=["GET", "POST"])
@login_required
def users():
    actor = _admin_actor()
    form = UserForm()
    ok, user = _run(
        form,
        lambda: service.create_user(
            actor=actor,
            member=actor.member,
            email=form.email.data,
            name=form.name.data,
            phone=form.phone.data or None,
            time_zone=form.time_zone.data,
            roles=form.roles.data,
            password=form.password.data or None,
        ),
    )
    if ok:
        flash(f"Added {user.email}.")
        return redirect(url_for("members.users"))
    return _render_users(actor, form=form, status=422 if form.errors else 200)


@bp.route("/admin/users/invite", methods=["POST"])
@login_required
def invite_user():
    """Add a person without a password and mail them a set-password link (also shown
    here once, to pass on another way)."""
    actor = _admin_actor()
    form = InviteForm(prefix="invite")

    def change():
        return invitations.invite(
            actor=actor,
            email=form.email.data,
            name=form.name.data,
            time_zone=form.time_zone.data,
            roles=form.roles.data,
        )

    ok, result = _run(form, change)
    if ok:
        user, link = result
        flash(f"Invited {user.email}: the set-password link was mailed (valid 7 days).")
        return _render_users(actor, link=(user, link))
    return _render_users(actor, invite_form=form, status=422 if form.errors else 200)


@bp.route("/admin/users/<int:user_id>", methods=["POST"])
@login_required
def edit_user(user_id):
    actor = _admin_actor()
    form = UserEditForm()
    if form.validate_on_submit():
        try:
            with transaction():
                user = service.get_user(actor=actor, user_id=user_id)
                service.update_user(
                    actor=actor,
                    user=user,
                    changes={"roles": form.roles.data, "active": form.active.data},
                )
            flash(f"Saved {user.email}.")
        except Problem as problem:
            flash(problem.detail, "error")
    else:
        flash("Nothing was saved: the form was incomplete.", "error")
    return redirect(url_for("members.users"))


@bp.route("/admin/users/<int:user_id>/active", methods=["POST"])
@login_required
def set_user_active(user_id):
    actor = _admin_actor()
    active = request.form.get("active") == "1"
    try:
        with transaction():
            user = service.get_user(actor=actor, user_id=user_id)
            service.update_user(actor=actor, user=user, changes={"active": active})
        flash(f"{'Reactivated' if active else 'Deactivated'} {user.email}.")
    except Problem as problem:
        if problem.status == 404:
            raise
        flash(problem.detail, "error")
    return redirect(url_for("members.users"))


@bp.route("/admin/users/<int:user_id>/invitation", methods=["POST"])
@login_required
def resend_invitation(user_id):
    """A new set-password link for someone who has not chosen a password yet."""
    actor = _admin_actor()
    user = service.get_user(actor=actor, user_id=user_id)
    try:
        with transaction():
            link = invitations.resend(actor=actor, user=user)
    except Problem as problem:
        flash(problem.detail, "error")
        return redirect(url_for("members.users"))
    flash(f"Sent {user.email} a new set-password link (valid 7 days).")
    return _render_users(actor, link=(user, link))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token):
    """Where an invitation leads: choose a password, then you are signed in."""
    user = invitations.user_for_token(token)
    form = SetPasswordForm()
    ok, _ = _run(
        form, lambda: invitations.choose_password(token=token, password=form.password.data)
    )
    if ok:
        # The new password ended every session of the person; this one starts afresh.
        start_session(user)
        flash("Your password is set and you are signed in. Welcome to the exchange.")
        return redirect(url_for("web.dashboard"))
    status = 422 if form.errors else 200
    return render_template("members/set_password.html", form=form, user=user), status


# -- each person's own settings -------------------------------------------------------


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required
def notification_settings():
    """A person's own name, phone, time zone and what they are mailed about."""
    actor = _actor()
    user = current_user._get_current_object()
    if request.method == "GET":
        wanted = [kind for kind, on in user.notification_settings().items() if on]
        form = _blank(
            SettingsForm,
            data={
                "name": user.name,
                "phone": user.phone,
                "time_zone": user.time_zone,
                "notifications": wanted,
            },
        )
    else:
        form = SettingsForm()

    def change():
        chosen = set(form.notifications.data or [])
        return service.update_user(
            actor=actor,
            user=user,
            changes={
                "name": form.name.data.strip(),
                "phone": _or_none(form.phone.data),
                "time_zone": form.time_zone.data.strip(),
                "notifications": {kind: kind in chosen for kind in NOTIFICATION_DEFAULTS},
            },
        )

    ok, _ = _run(form, change)
    if ok:
        flash("Saved your settings.")
        return redirect(url_for("members.notification_settings"))
    status = 422 if form.errors else 200
    return render_template("members/settings.html", form=form), status


# -- products and their versions ------------------------------------------------------


def _own_product(actor, product_id: int):
    product = service.products.get_product(product_id=product_id)
    if product.member_id != actor.member.id:
        raise NotFound(f"No product {product_id}.")
    return product


def _render_products(actor, *, product_form=None, version_forms=None, status=200):
    listed = service.products.list_products(member=actor.member)
    version_forms = version_forms or {}
    for product, _ in listed:
        version_forms.setdefault(product.id, _blank(VersionForm, prefix=f"v{product.id}"))
    return render_template(
        "members/products.html",
        products=listed,
        product_form=product_form or _blank(ProductForm, prefix="product"),
        version_forms=version_forms,
        lifecycle_warnings=service.products.lifecycle_warnings,
        today=clock.today(),
    ), status


@bp.route("/admin/products", methods=["GET", "POST"])
@login_required
def products():
    actor = _admin_actor()
    form = ProductForm(prefix="product")
    ok, product = _run(
        form,
        lambda: service.products.create_product(
            actor=actor,
            member=actor.member,
            **_load(
                ProductIn(),
                {"name": form.name.data.strip(), "description": form.description.data or ""},
            ),
        ),
    )
    if ok:
        flash(f"Added the product {product.name}.")
        return redirect(url_for("members.products", _anchor=f"product-{product.id}"))
    return _render_products(actor, product_form=form, status=422 if form.errors else 200)


def _version_data(form: VersionForm) -> dict:
    return _load(
        ProductVersionIn(),
        {
            "version": form.version.data.strip(),
            "release_date": form.release_date.data.isoformat() if form.release_date.data else None,
            "end_of_support_date": (
                form.end_of_support_date.data.isoformat() if form.end_of_support_date.data else None
            ),
        },
    )


@bp.route("/admin/products/<int:product_id>/versions", methods=["POST"])
@login_required
def add_version(product_id):
    actor = _admin_actor()
    product = _own_product(actor, product_id)
    form = VersionForm(prefix=f"v{product.id}")
    ok, version = _run(
        form,
        lambda: service.products.add_version(
            actor=actor, product=product, data=_version_data(form)
        ),
    )
    if ok:
        flash(f"Added version {version.version} of {product.name}.")
        return redirect(url_for("members.products", _anchor=f"product-{product.id}"))
    return _render_products(actor, version_forms={product.id: form}, status=422)


@bp.route("/admin/products/versions/<int:version_id>", methods=["GET", "POST"])
@login_required
def edit_version(version_id):
    actor = _admin_actor()
    version = service.products.get_version(version_id=version_id)
    product = _own_product(actor, version.product_id)
    form = VersionForm(obj=version) if request.method == "GET" else VersionForm()
    ok, _ = _run(
        form,
        lambda: service.products.update_version(
            actor=actor, version=version, changes=_version_data(form)
        ),
    )
    if ok:
        flash(f"Saved version {version.version} of {product.name}.")
        return redirect(url_for("members.products", _anchor=f"product-{product.id}"))
    status = 422 if form.errors else 200
    return render_template(
        "members/version_edit.html", form=form, version=version, product=product
    ), status


# -- communities ------------------------------------------------------------------------


def _render_communities(actor, *, form=None, invite_forms=None, status=200):
    listed = service.communities.list_communities(actor=actor)
    invite_forms = invite_forms or {}
    for community in listed:
        invite_forms.setdefault(
            community.slug, _blank(CommunityInviteForm, prefix=f"invite-{community.slug}")
        )
    return render_template(
        "members/communities.html",
        communities=listed,
        member=actor.member,
        form=form or _blank(CommunityForm, prefix="community"),
        invite_forms=invite_forms,
    ), status


@bp.route("/admin/communities", methods=["GET", "POST"])
@login_required
def communities():
    actor = _admin_actor()
    form = CommunityForm(prefix="community")

    def change():
        data = _load(
            CommunityIn(),
            {
                "slug": form.slug.data.strip(),
                "name": form.name.data.strip(),
                "description": form.description.data or "",
            },
        )
        return service.communities.create_community(actor=actor, **data)

    ok, community = _run(form, change)
    if ok:
        flash(f"Created the community {community.name}.")
        return redirect(url_for("members.communities", _anchor=f"community-{community.slug}"))
    return _render_communities(actor, form=form, status=422 if form.errors else 200)


@bp.route("/admin/communities/<slug>/invitations", methods=["POST"])
@login_required
def invite_to_community(slug):
    actor = _admin_actor()
    community = service.communities.get_community(actor=actor, slug=slug)
    form = CommunityInviteForm(prefix=f"invite-{community.slug}")
    ok, _ = _run(
        form,
        lambda: service.communities.invite(
            actor=actor, community=community, member_slug=form.member.data.strip()
        ),
        fallback="member",
    )
    if ok:
        flash(f"Invited {form.member.data.strip()} to {community.name}; it joins once accepted.")
        return redirect(url_for("members.communities", _anchor=f"community-{community.slug}"))
    return _render_communities(actor, invite_forms={community.slug: form}, status=422)


def _community_action(slug: str, act: Callable, done: Callable):
    actor = _admin_actor()
    try:
        with transaction():
            community = service.communities.get_community(actor=actor, slug=slug)
            act(actor, community)
        flash(done(community))
    except Problem as problem:
        if problem.status == 404:
            raise
        flash(problem.detail, "error")
    return redirect(url_for("members.communities"))


@bp.route("/admin/communities/<slug>/accept", methods=["POST"])
@login_required
def accept_community(slug):
    return _community_action(
        slug,
        lambda actor, c: service.communities.accept(actor=actor, community=c),
        lambda c: f"Your member joined {c.name}.",
    )


@bp.route("/admin/communities/<slug>/leave", methods=["POST"])
@login_required
def leave_community(slug):
    return _community_action(
        slug,
        lambda actor, c: service.communities.leave(actor=actor, community=c),
        lambda c: f"Your member is no longer in {c.name}.",
    )


@bp.route("/admin/communities/<slug>/members/<member_slug>/remove", methods=["POST"])
@login_required
def remove_from_community(slug, member_slug):
    return _community_action(
        slug,
        lambda actor, c: service.communities.remove_member(
            actor=actor, community=c, member_slug=member_slug
        ),
        lambda c: f"Removed {member_slug} from {c.name}.",
    )


# -- API clients --------------------------------------------------------------------------


def _render_clients(actor, *, form=None, created=None, status=200):
    return render_template(
        "members/clients.html",
        clients=auth_service.list_clients(actor=actor, member=actor.member),
        form=form or _blank(ClientForm),
        scopes=SCOPES,
        created=created,
    ), status


@bp.route("/admin/clients", methods=["GET", "POST"])
@login_required
def clients():
    """The member's programs; a new client's secret is shown on this answer only."""
    actor = _admin_actor()
    form = ClientForm()
    ok, created = _run(
        form,
        lambda: auth_service.create_client(
            actor=actor, member=actor.member, name=form.name.data, scopes=form.scopes.data
        ),
    )
    if ok:
        flash(f"Created the API client {created[0].name}. Copy its secret now: it is shown once.")
        return _render_clients(actor, created=created, status=201)
    return _render_clients(actor, form=form, status=422 if form.errors else 200)


@bp.route("/admin/clients/<client_id>/revoke", methods=["POST"])
@login_required
def revoke_client(client_id):
    actor = _admin_actor()
    with transaction():
        client = auth_service.get_client(actor=actor, client_id=client_id)
        auth_service.revoke_client(actor=actor, client=client)
    flash(f"Revoked the API client {client.name} and every token it held.")
    return redirect(url_for("members.clients"))
