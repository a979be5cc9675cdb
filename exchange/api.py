"""The REST API: flask-smorest with the OpenAPI document at /api/v1/openapi.json."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from exchange.auth.actor import authenticate_api_request
from exchange.auth.scopes import SCOPES
from exchange.extensions import csrf
from exchange.schemas import ProblemSchema


class ExchangeApi(Api):
    # Documents the error body we actually send (problem+json), not flask-smorest's own.
    ERROR_SCHEMA = ProblemSchema


def init_api(app: Flask) -> Api:
    api = ExchangeApi(
        app,
        spec_kwargs={
            "info": {
                "description": "Cross-vendor collaborative case exchange. Programs authenticate "
                "with OAuth2 client credentials at /oauth/token; errors are RFC 9457 "
                "problem+json documents with a stable `code` (see docs/errors.md)."
            }
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
