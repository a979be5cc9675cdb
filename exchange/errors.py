"""Errors as RFC 9457 ``application/problem+json``, each kind with a stable ``code``.

Services raise ``Problem`` subclasses; ``register_error_handlers`` turns them, and
every HTTP error Flask or a library raises, into one body shape::

    {"type", "title", "status", "detail", "code", "errors"}

``CATALOGUE`` lists every code the exchange can answer; ``docs/errors.md`` documents
each with its cause and remedy (a test keeps the two in step).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, json, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"
TYPE_BASE = "https://exchange.example/problems/"

# code -> (status, title)
CATALOGUE: dict[str, tuple[int, str]] = {
    "malformed_request": (400, "Malformed request"),
    "malformed_json": (400, "Malformed JSON"),
    "csrf_failed": (400, "CSRF token missing or invalid"),
    "unauthorized": (401, "Authentication required"),
    "invalid_token": (401, "Invalid access token"),
    "forbidden": (403, "Forbidden"),
    "insufficient_scope": (403, "Insufficient scope"),
    "member_suspended": (403, "Member suspended"),
    "not_found": (404, "Not found"),
    "method_not_allowed": (405, "Method not allowed"),
    "not_acceptable": (406, "Not acceptable"),
    "conflict": (409, "Conflict"),
    "already_exists": (409, "Already exists"),
    "invalid_transition": (409, "Action not allowed in this state"),
    "version_immutable": (409, "Published versions cannot change"),
    "precondition_failed": (412, "Precondition failed"),
    "payload_too_large": (413, "Payload too large"),
    "unsupported_media_type": (415, "Unsupported media type"),
    "validation_failed": (422, "Validation failed"),
    "idempotency_key_reused": (422, "Idempotency-Key reused with a different request"),
    "rate_limited": (429, "Too many requests"),
    "internal_error": (500, "Internal server error"),
    "service_unavailable": (503, "Service unavailable"),
    "attachment_store_failed": (503, "Attachment store failed"),
}

# Plain HTTP errors raised by Flask/Werkzeug or a library, mapped to our codes.
_HTTP_CODES = {
    400: "malformed_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class Problem(Exception):
    """A client-visible error. Subclasses fix ``code``; ``detail`` says what happened."""

    code = "internal_error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        errors: dict | None = None,
        headers: dict | None = None,
        **extra,
    ):
        if code is not None:
            self.code = code
        self.status, self.title = CATALOGUE[self.code]
        self.detail = detail or self.title
        self.errors = errors or {}
        self.headers = headers or {}
        self.extra = extra
        super().__init__(self.detail)

    def to_dict(self) -> dict:
        body = {
            "type": TYPE_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            "errors": self.errors,
        }
        body.update(self.extra)
        return body


class BadRequest(Problem):
    code = "malformed_request"


class Unauthorized(Problem):
    code = "unauthorized"


class Forbidden(Problem):
    code = "forbidden"


class NotFound(Problem):
    code = "not_found"


class Conflict(Problem):
    code = "conflict"


class AlreadyExists(Problem):
    code = "already_exists"


class InvalidTransition(Problem):
    code = "invalid_transition"


class PreconditionFailed(Problem):
    code = "precondition_failed"


class PayloadTooLarge(Problem):
    code = "payload_too_large"


class UnsupportedMediaType(Problem):
    code = "unsupported_media_type"


class ValidationFailed(Problem):
    """422; ``errors`` maps each offending field to a list of messages."""

    code = "validation_failed"


def problem_response(problem: Problem) -> Response:
    response = Response(json.dumps(problem.to_dict()), status=problem.status)
    response.mimetype = PROBLEM_MIMETYPE
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def _validation_errors(exc: HTTPException) -> dict:
    """Field messages from a webargs/flask-smorest 422, flattened over locations."""
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") or {}
    errors: dict = {}
    for location_messages in messages.values():
        if isinstance(location_messages, dict):
            errors.update(flatten_errors(location_messages))
    return errors


def flatten_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    """Nested marshmallow messages as ``{"severities.1.key": [...]}``: one dotted path per
    offending field, so a client can point at it without walking a tree."""
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": messages}
    if isinstance(messages, str):
        return {prefix or "_schema": [messages]}
    flat: dict[str, list[str]] = {}
    items = messages.items() if isinstance(messages, dict) else enumerate(messages)
    for key, value in items:
        path = f"{prefix}.{key}" if prefix else str(key)
        for name, texts in flatten_errors(value, path).items():
            flat.setdefault(name, []).extend(texts)
    return flat


def from_http_exception(exc: HTTPException) -> Problem:
    status = exc.code or 500
    code = _HTTP_CODES.get(status, "internal_error" if status >= 500 else "malformed_request")
    detail = exc.description if status < 500 else None
    errors = {}
    if status == 422:
        errors = _validation_errors(exc)
        detail = "The request has invalid fields: " + ", ".join(sorted(errors)) if errors else None
    if status == 400 and "JSON" in (exc.description or ""):
        code = "malformed_json"
        detail = "The request body is not valid JSON."
    if isinstance(exc, CSRFError):
        code = "csrf_failed"
    problem = Problem(detail, code=code, errors=errors)
    headers = dict(getattr(exc, "data", {}) or {}).get("headers") or {}
    if status == 405 and exc.get_response().headers.get("Allow"):
        headers["Allow"] = exc.get_response().headers["Allow"]
    problem.headers.update(headers)
    return problem


def wants_html() -> bool:
    """True for browser page requests, which get an HTML error page instead of JSON."""
    if request.path.startswith(("/api/", "/oauth/")) or request.path in ("/healthz", "/readyz"):
        return False
    best = request.accept_mimetypes.best_match(["text/html", "application/json", PROBLEM_MIMETYPE])
    return best == "text/html"


def render(problem: Problem):
    if wants_html():
        from flask import render_template

        return render_template("error.html", problem=problem), problem.status, problem.headers
    return problem_response(problem)


# What a 503 for an unreachable database asks clients to wait before retrying.
RETRY_AFTER_SECONDS = 5
_SQLITE_UNAVAILABLE = ("locked", "busy", "unable to open", "disk I/O")


def database_unavailable(exc: BaseException) -> bool:
    """True for database errors that mean "not reachable now" (connection refused or
    lost, server shutting down or starting up, a lock not granted in time) rather than
    a mistake in the request or the code."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    if type(exc.orig).__module__ == "sqlite3":
        # SQLite reports mistakes (no such table, bad SQL) as OperationalError too.
        return any(word in str(exc.orig) for word in _SQLITE_UNAVAILABLE)
    return True


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(exc: Problem):
        return render(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return render(from_http_exception(exc))

    @app.errorhandler(IntegrityError)
    def _integrity(exc: IntegrityError):
        # Services check uniqueness first; this is the race where two requests pass that
        # check together and the database's constraint decides.
        from exchange.db import db

        db.session.rollback()
        log.info("integrity conflict on %s %s: %s", request.method, request.path, exc.orig)
        return render(
            Problem(
                "The change conflicts with data written at the same time; reload and try again.",
                code="conflict",
            )
        )

    @app.errorhandler(DBAPIError)
    def _database(exc: DBAPIError):
        if not database_unavailable(exc):
            return _unexpected(exc)
        # The database is down, restarting or unreachable (or, on SQLite, locked past its
        # busy timeout): nothing was written, and the same request can simply be retried.
        import contextlib

        from exchange.db import db

        with contextlib.suppress(Exception):
            db.session.rollback()
        log.warning("database unavailable on %s %s: %s", request.method, request.path, exc.orig)
        return render(
            Problem(
                "The database is not reachable at the moment; nothing was changed. "
                "Try again in a few seconds.",
                code="service_unavailable",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render(Problem(code="internal_error"))
