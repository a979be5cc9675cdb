"""Helpers every package's REST layer shares: the page envelope, the body-type check
and JSON answers built without a response schema."""

from __future__ import annotations

import json
import re
from copy import deepcopy
from http import HTTPStatus

from flask import Response, current_app, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest as WerkzeugBadRequest

from exchange.errors import BadRequest, UnsupportedMediaType
from exchange.pagination import Page

JSON = "application/json"


def json_response(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    """``body`` (JSON-ready already) as the answer: flask-smorest passes a ``Response``
    through untouched, so a view can skip the schema's dump where it built the JSON
    itself (the schema still documents it)."""
    response = Response(json.dumps(body), status=status, mimetype=JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def page_body(page: Page, endpoint: str, **values) -> dict:
    """``{items, next_cursor, next}`` with ``next`` the URL of the following page."""
    next_url = None
    if page.next_cursor:
        # Every value of a repeated filter (status=open&status=accepted) stays.
        args = {k: v for k, v in request.args.lists() if k != "cursor"}
        next_url = url_for(endpoint, **values, **args, cursor=page.next_cursor, _external=True)
    return {"items": page.items, "next_cursor": page.next_cursor, "next": next_url}


IF_MATCH_PARAMETER = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "The `ETag` you last read (or `*`); a change made since is a 412.",
}


IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": "Send the same key with a retried request to get the first answer "
    "again; the same key with another body is a 422.",
}


def _document_header(func, parameter: dict):
    apidoc = deepcopy(getattr(func, "_apidoc", {}))
    parameters = apidoc.setdefault("manual_doc", {}).setdefault("parameters", [])
    parameters.append(parameter)
    func._apidoc = apidoc
    return func


def honours_if_match(func):
    """Document the optional ``If-Match`` header of a view that checks it (the OpenAPI
    document then also lists its 412)."""
    return _document_header(func, IF_MATCH_PARAMETER)


def honours_idempotency_key(func):
    """Document the optional ``Idempotency-Key`` header of a view that creates something."""
    return _document_header(func, IDEMPOTENCY_KEY_PARAMETER)


def problem_responses(*statuses: int):
    """Document error statuses a view answers beyond those ``exchange.api`` derives from
    the operation itself (such as a 404 for a member named in the body)."""

    def decorator(func):
        apidoc = deepcopy(getattr(func, "_apidoc", {}))
        responses = apidoc.setdefault("manual_doc", {}).setdefault("responses", {})
        for status in statuses:
            responses[str(status)] = HTTPStatus(status).name
        func._apidoc = apidoc
        return func

    return decorator


def body_types(*mimetypes: str):
    """Declare the request body types an API view accepts (default: JSON only)."""

    def decorator(func):
        func._body_types = frozenset(mimetypes)
        return func

    return decorator


def _accepted_types() -> frozenset[str]:
    view = current_app.view_functions.get(request.endpoint)
    handler = getattr(getattr(view, "view_class", None), request.method.lower(), view)
    return getattr(handler, "_body_types", frozenset({JSON}))


def check_api_body() -> None:
    """before_request: refuse a NUL character anywhere (400); for /api/ also a body of the
    wrong type (415) or broken JSON (400), before any endpoint sees it, so no client
    mistake becomes a 500 or a silent 422."""
    _refuse_nul(request.path, request.args)
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        _refuse_nul(request.form)
    if request.method not in ("POST", "PUT", "PATCH") or not request.path.startswith("/api/"):
        return
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding")
    if not has_body:
        return
    accepted = _accepted_types()
    if request.mimetype not in accepted:
        raise UnsupportedMediaType(
            f"Send the body as {' or '.join(sorted(accepted))} "
            f"(got {request.mimetype or 'no Content-Type'})."
        )
    if request.mimetype == JSON:
        try:
            body = request.get_json()
        except WerkzeugBadRequest as exc:
            raise BadRequest("The request body is not valid JSON.", code="malformed_json") from exc
        except RecursionError as exc:
            # The decoder recurses per level; thousands of [ or { exhaust Python's stack.
            raise _too_deep() from exc
        _check_json(body)


# Far deeper than any body of the API (a process version is four levels), and shallow
# enough that no recursive code after this check (schemas, dumps) can run out of stack.
MAX_JSON_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


def _too_deep() -> BadRequest:
    return BadRequest(
        f"The request body is nested too deep (more than {MAX_JSON_DEPTH} levels).",
        code="malformed_json",
    )


def _check_json(body) -> None:
    """Walk the decoded body without recursion: refuse nesting past ``MAX_JSON_DEPTH``,
    lone surrogates (``"\\ud800"`` is valid JSON but no Unicode text: no database can
    store it, and UTF-8 cannot encode it) and NUL characters, in keys and values."""
    stack = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        if isinstance(value, dict):
            for key, item in value.items():
                _check_text(key)
                stack.append((item, depth + 1))
        else:
            stack.extend((item, depth + 1) for item in value)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise _nul()
    if _SURROGATE.search(text):
        raise BadRequest(
            "The request body holds a lone surrogate escape (such as \\ud800): JSON text "
            "must be valid Unicode; escape characters outside the BMP as a surrogate pair.",
            code="malformed_json",
        )


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, MultiDict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items(multi=True))
    return False


def _nul() -> BadRequest:
    return BadRequest("Text in the request may not contain the NUL character (U+0000).")


def _refuse_nul(*values) -> None:
    """PostgreSQL text cannot hold U+0000 (a query with one fails, a 500) and SQLite would
    store it; refuse it on every database, in the path, query, form or JSON body."""
    if any(map(_has_nul, values)):
        raise _nul()
