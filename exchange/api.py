"""The REST API: flask-smorest with the OpenAPI document at /api/v1/openapi.json.

Error responses are documented in one place, ``ProblemResponses``, from what each
operation is (its method, path parameters, body, headers), so the document lists the
problem+json answers an operation can really give instead of one vague ``default``.
"""

from __future__ import annotations

import http

from apispec import BasePlugin
from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from exchange.auth.actor import authenticate_api_request
from exchange.auth.scopes import SCOPES
from exchange.errors import PROBLEM_MIMETYPE
from exchange.extensions import csrf
from exchange.schemas import ProblemSchema

WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
BODY_METHODS = frozenset({"post", "put", "patch"})


def problem_statuses(path: str, method: str, operation: dict) -> set[int]:
    """The error statuses an API operation can answer with, and why each one:

    - 400: a NUL character anywhere in the request, or a body that is not valid JSON,
      holds a lone surrogate or is nested too deep (``api_support.check_api_body``), on
      every operation;
    - 401 and 403: every operation needs a caller (``requires``); 403 for a missing scope
      or a suspended member;
    - 404: an id or slug in the path that names nothing the caller may see;
    - 409: a write that conflicts with the current state or with a concurrent write;
    - 412: an ``If-Match`` that names another version of the resource;
    - 413: a body over MAX_CONTENT_LENGTH (or a note or file over its own limit);
    - 415: a body of a type the operation does not take;
    - 422: invalid arguments in the query or body (or an ``Idempotency-Key`` misuse).
    """
    statuses = {400, 401, 403}
    if "{" in path:
        statuses.add(404)
    if method in WRITE_METHODS:
        statuses.update({409, 422})
    if method in BODY_METHODS:
        statuses.update({413, 415})
    parameters = operation.get("parameters", [])
    if "requestBody" in operation or any(p.get("in") == "query" for p in parameters):
        statuses.add(422)
    if any(p.get("in") == "header" and p.get("name") == "If-Match" for p in parameters):
        statuses.add(412)
    return statuses


class ProblemResponses(BasePlugin):
    """apispec plugin: adds each operation's problem+json error responses."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            # Status codes as text ("201"): flask-smorest may have used numbers.
            responses = {str(code): doc for code, doc in operation.get("responses", {}).items()}
            operation["responses"] = responses
            declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            for status in problem_statuses(path or "", method, operation) | declared:
                # A view's own description of an error status (such as the 409 of an
                # immutable version) gives way to the one shape every error has.
                responses[str(status)] = http.HTTPStatus(status).name


class ExchangeApi(Api):
    # Documents the error body we actually send (problem+json), not flask-smorest's own.
    ERROR_SCHEMA = ProblemSchema
    # No catch-all "default" response: every error status is listed per operation.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_responses(self):
        """One reusable response per HTTP status, errors as application/problem+json."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            content_type = PROBLEM_MIMETYPE if status >= 400 else self.DEFAULT_RESPONSE_CONTENT_TYPE
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)


def init_api(app: Flask) -> Api:
    api = ExchangeApi(
        app,
        spec_kwargs={
            "info": {
                "description": "Cross-vendor collaborative case exchange. Programs authenticate "
                "with OAuth2 client credentials at /oauth/token; errors are RFC 9457 "
                "problem+json documents with a stable `code` (see docs/errors.md)."
            },
            "extra_plugins": [ProblemResponses()],
        },
    )
    api.spec.components.security_scheme(
        "oauth2",
        {
            "type": "oauth2",
            "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": SCOPES}},
        },
    )
    api.spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": "session"}
    )
    from exchange.audit.api import blp as audit_blp
    from exchange.cases.api import blp as cases_blp
    from exchange.members.api import blp as members_blp
    from exchange.processes.api import blp as processes_blp
    from exchange.webhooks.api import blp as webhooks_blp

    for blp in (members_blp, processes_blp, cases_blp, webhooks_blp, audit_blp):
        # Programs authenticate by bearer token, not cookie; a session caller's writes
        # are CSRF-checked inside current_actor().
        csrf.exempt(blp)
        api.register_blueprint(blp)
    app.before_request(authenticate_api_request)
    app.extensions["exchange_api"] = api
    return api
