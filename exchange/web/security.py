"""Web security that applies to every response or to sign-in: security headers (a
Content-Security-Policy without inline scripts), the session cookie rule, rate limits
on the login form and the token endpoint, and redaction of secrets in request logs.

``init_security(app)`` wires it all; docs/security.md says what each part guarantees.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from exchange import clock
from exchange.errors import Problem, render

# Every page, API answer, static file and error page carries these. No inline script,
# style or event handler is allowed: the pages' behaviour lives in static/*.js.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

LOOPBACK_HOSTS = frozenset({"localhost"})


def _security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _no_store(response):
    """Pages and API answers show customer data (cases, people, reports): no proxy or
    browser cache may keep them (a shared machine's back button after sign-out, a disk
    cache). An answer that set its own Cache-Control (static files, downloads, the
    OAuth2 endpoints) keeps it."""
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


def is_development(app: Flask) -> bool:
    """Development means the exchange is reached over plain http on this machine
    (``make run``: BASE_URL http://127.0.0.1:8000). Anything else is a deployment."""
    parts = urlsplit(app.config.get("BASE_URL") or "")
    if parts.scheme != "http":
        return False
    host = (parts.hostname or "").lower()
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _cookie_rule(app: Flask) -> None:
    """Session and remember cookies: HttpOnly and SameSite=Lax always; Secure unless
    the instance is in development. An explicit SESSION_COOKIE_SECURE wins."""
    secure = app.config.get("SESSION_COOKIE_SECURE")
    if secure is None:
        secure = not is_development(app)
    app.config["SESSION_COOKIE_SECURE"] = bool(secure)
    if app.config.get("REMEMBER_COOKIE_SECURE") is None:
        app.config["REMEMBER_COOKIE_SECURE"] = bool(secure)


# -- rate limits -----------------------------------------------------------------------


def _failed(response) -> bool:
    """A sign-in that did not succeed (the form answers 302 on success only)."""
    return response.status_code != 302


def _login_account() -> str:
    return "login-account:" + (request.form.get("email") or "").strip().lower()[:320]


def _token_caller() -> str:
    return "token:" + get_remote_address()


def _rate_limited(exc: RateLimitExceeded):
    limit = current_app.extensions["exchange_limiter"].current_limit
    retry_after = max(1, int(limit.reset_at - clock.timestamp())) if limit is not None else 60
    problem = Problem(
        f"Too many attempts; try again in {retry_after} seconds.",
        code="rate_limited",
        headers={"Retry-After": str(retry_after)},
    )
    return render(problem)


def _init_limiter(app: Flask) -> Limiter:
    """One limiter per application (tests build several apps in one process; a shared
    limiter would carry one app's settings and counters into the next)."""
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config.get("RATELIMIT_STORAGE_URI") or "memory://",
    )
    app.extensions["exchange_limiter"] = limiter
    config = app.config
    login = app.view_functions["auth.login"]
    # Failed sign-ins count, per address and per account: a person who signs in is
    # never slowed down, a password guesser is.
    login = limiter.limit(
        config["LOGIN_RATE_LIMIT_PER_ACCOUNT"],
        key_func=_login_account,
        methods=["POST"],
        deduct_when=_failed,
    )(login)
    login = limiter.limit(config["LOGIN_RATE_LIMIT_PER_IP"], methods=["POST"], deduct_when=_failed)(
        login
    )
    app.view_functions["auth.login"] = login
    for endpoint in ("auth.issue_token", "auth.revoke_token"):
        app.view_functions[endpoint] = limiter.limit(
            config["TOKEN_RATE_LIMIT_PER_IP"], key_func=_token_caller, methods=["POST"]
        )(app.view_functions[endpoint])
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    return limiter


# -- logs ------------------------------------------------------------------------------

_SECRETS_IN_TEXT = [
    (re.compile(r"(/set-password/)[^\s/?\"']+"), r"\1[redacted]"),
    (
        re.compile(r"((?:access_token|client_secret|token|password|secret)=)[^\s&\"']+", re.I),
        r"\1[redacted]",
    ),
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[redacted]"),
    # authlib writes the whole issued token (a dict) at DEBUG.
    (
        re.compile(r"""(['"](?:access_token|refresh_token|client_secret)['"]\s*:\s*['"])[^'"]+"""),
        r"\1[redacted]",
    ),
]


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS_IN_TEXT:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Request-line loggers (werkzeug, gunicorn.access) would write set-password links
    and tokens in URLs as they are, and authlib the tokens it issues; this filter blanks
    them out before any handler sees the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


REQUEST_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")
# A filter acts on its own logger only (not on children), so each is named.
# SQLAlchemy's rows (at DEBUG) can hold a mail body with a set-password link.
SECRET_LOGGERS = (
    *REQUEST_LOGGERS,
    "authlib.oauth2.rfc6749.grants.client_credentials",
    "sqlalchemy.engine.Engine",
)


def _install_log_redaction() -> None:
    for name in SECRET_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())


def init_security(app: Flask) -> None:
    _cookie_rule(app)
    if app.config.get("PROXY_FIX_X_FOR"):
        # Behind N trusted proxies, the client address (for the per-address limits) is
        # the N-th from the right in X-Forwarded-For.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(app.config["PROXY_FIX_X_FOR"]))
    app.after_request(_security_headers)
    app.after_request(_no_store)
    _init_limiter(app)
    _install_log_redaction()
