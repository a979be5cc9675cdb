"""Directory pages (every signed-in person) and the member admin's user pages."""

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import DataRequired, Length, Optional

from exchange.auth.actor import actor_for_user
from exchange.db import transaction
from exchange.errors import Problem
from exchange.markdown import render_markdown
from exchange.members import service
from exchange.members.models import Role
from exchange.processes import service as processes

bp = Blueprint("members", __name__, template_folder="templates")

ROLE_LABELS = [
    (Role.admin.value, "Admin"),
    (Role.engineer.value, "Engineer"),
    (Role.escalation_manager.value, "Escalation manager"),
]


ROLE_CHOICES = [SelectChoice(value, label) for value, label in ROLE_LABELS]


class RolesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class UserForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=320)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    phone = StringField("Phone", validators=[Optional(), Length(max=50)])
    time_zone = StringField("Time zone", default="UTC", validators=[DataRequired(), Length(max=64)])
    roles = RolesField("Roles", choices=ROLE_CHOICES, default=[Role.engineer.value])
    password = PasswordField("Initial password", validators=[Optional(), Length(min=10, max=200)])


class UserEditForm(FlaskForm):
    roles = RolesField("Roles", choices=ROLE_CHOICES)
    active = BooleanField("Active")


def _actor():
    return actor_for_user(current_user)


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
    today = date.today()
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


@bp.route("/admin/users", methods=["GET", "POST"])
@login_required
def users():
    if not current_user.has_role(Role.admin):
        raise Problem("Only a member admin may manage users.", code="forbidden")
    actor = _actor()
    member = actor.member
    form = UserForm()
    if form.validate_on_submit():
        try:
            with transaction():
                user = service.create_user(
                    actor=actor,
                    member=member,
                    email=form.email.data,
                    name=form.name.data,
                    phone=form.phone.data or None,
                    time_zone=form.time_zone.data,
                    roles=form.roles.data,
                    password=form.password.data or None,
                )
            flash(f"Added {user.email}.")
            return redirect(url_for("members.users"))
        except Problem as problem:
            _attach_errors(form, problem)
    status = 422 if form.errors else 200
    return render_template(
        "members/users.html",
        form=form,
        member=member,
        users=service.list_users(actor=actor, member=member),
        edit_form=UserEditForm,
    ), status


@bp.route("/admin/users/<int:user_id>", methods=["POST"])
@login_required
def edit_user(user_id):
    actor = _actor()
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
    return redirect(url_for("members.users"))


def _attach_errors(form: FlaskForm, problem: Problem) -> None:
    """Show the service's field messages at the matching form fields."""
    placed = False
    for name, messages in problem.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, *messages]
            placed = True
    if not placed:
        flash(problem.detail, "error")
