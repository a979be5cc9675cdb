"""Sign-in pages for people and the OAuth2 token endpoints for programs."""

from __future__ import annotations

from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import InsecureTransportError
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from exchange.auth import service
from exchange.auth.oauth import authorization_server
from exchange.auth.sessions import start_session, user_of_session
from exchange.db import transaction
from exchange.extensions import csrf, login_manager

bp = Blueprint("auth", __name__, template_folder="templates")
login_manager.login_view = "auth.login"
login_manager.login_message = "Sign in to continue."


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths, so the login page cannot be an open redirect."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for("web.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        with transaction():
            user = service.authenticate(email=form.email.data, password=form.password.data)
        if user is not None:
            start_session(user)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("E-mail or password is wrong, or the account is inactive.")
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Server-side: the cookie of this session (and any copy of it) stops working, and
    # so do the person's other sessions.
    with transaction():
        current_user._get_current_object().end_sessions()
    logout_user()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.login"))


@bp.route("/oauth/token", methods=["POST"])
@csrf.exempt
def issue_token():
    """RFC 6749 §4.4: client credentials in, bearer token out (errors per RFC 6749 §5.2)."""
    try:
        with transaction():
            return authorization_server.create_token_response()
    except InsecureTransportError as error:  # raised before authlib's own error handling
        return authorization_server.handle_error_response(None, error)


@bp.route("/oauth/revoke", methods=["POST"])
@csrf.exempt
def revoke_token():
    """RFC 7009: a client revokes one of its own tokens."""
    try:
        with transaction():
            return authorization_server.create_endpoint_response("revocation")
    except InsecureTransportError as error:
        return authorization_server.handle_error_response(None, error)


@login_manager.user_loader
def _load_user(session_id: str):
    return user_of_session(session_id)
