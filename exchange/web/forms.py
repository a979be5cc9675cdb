"""What every admin page does with a form, in one place: check the signed-in person is a
member admin, validate with the API's schema, make the change in one transaction, and
put the service's messages at the matching fields."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash
from flask_login import current_user
from flask_wtf import FlaskForm
from marshmallow import Schema

from exchange.auth.actor import actor_for_user
from exchange.db import transaction
from exchange.errors import Forbidden, Problem
from exchange.members.models import Role
from exchange.schemas import load_or_422


def admin_actor():
    """The signed-in member admin as an actor; anyone else gets the 403 page."""
    if not current_user.has_role(Role.admin):
        raise Forbidden("Only a member admin may use the admin pages.")
    return actor_for_user(current_user)


def load(schema: Schema, data: dict) -> dict:
    """Check form data with the API's schema for the same change (the same rules)."""
    return load_or_422(schema, data)


def attach_errors(form: FlaskForm, problem: Problem, fallback: str | None = None) -> None:
    """Show the service's field messages at the matching form fields (``email_domains.2``
    at ``email_domains``); a message no field takes goes to ``fallback`` or a flash."""
    placed = False
    for name, messages in problem.errors.items():
        field = form._fields.get(name) or form._fields.get(name.split(".")[0])
        if field is not None:
            field.errors = [*field.errors, *messages]
            placed = True
    if not placed and fallback:
        field = form._fields[fallback]
        field.errors = [*field.errors, problem.detail]
        placed = True
    if not placed:
        flash(problem.detail, "error")


def run(form: FlaskForm, change: Callable, fallback: str | None = None):
    """Validate ``form`` and make the change in one transaction. Returns (ok, result);
    on failure the messages are at the form's fields and a flash says nothing was saved.
    A 401, 403 or 404 is not about the form: it shows the error page."""
    if not form.validate_on_submit():
        if form.is_submitted():
            expired = "csrf_token" in form._fields and form.csrf_token.errors
            flash(
                "This form expired; reload the page and try again."
                if expired
                else "Nothing was saved: correct the marked fields.",
                "error",
            )
        return False, None
    try:
        with transaction():
            result = change()
    except Problem as problem:
        if problem.status in (401, 403, 404):
            raise
        attach_errors(form, problem, fallback)
        if form.errors:
            flash(f"Nothing was saved: {problem.detail}", "error")
        return False, None
    return True, result
