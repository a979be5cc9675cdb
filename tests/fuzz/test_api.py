"""Property-based fuzzing of the REST API against its own OpenAPI document.

Every operation of /api/v1/openapi.json is called by schemathesis, as programs of two
members (acme and globex) holding every scope, with valid and invalid data (including
lone surrogates, deep nesting and control characters, tests/fuzz/hostile.py), against a
real database where path ids name real rows of both members as well as missing ones.
Each answer must be no server error and match the document: status code, content
type, headers and body schema. The seed is fixed and the examples per operation are
bounded, so a run is repeatable and takes a few minutes.
"""

from __future__ import annotations

import os
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from exchange import create_app
from tests.fuzz.conftest import FUZZ_MEMBERS
from tests.fuzz.hostile import hostile_body, hostile_text

pytestmark = pytest.mark.fuzz

# Bounded per operation and member; FUZZ_MAX_EXAMPLES raises it for a longer hunt.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "20"))
# A fixed seed: every run generates the same examples (FUZZ_SEED tries others).
SEED = int(os.environ.get("FUZZ_SEED", "20260609"))

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _document() -> dict:
    """The OpenAPI document as the app serves it (no database needed to build it)."""
    app = create_app({"SECRET_KEY": "fuzz-spec", "DATABASE_URL": "sqlite://"})
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


schema = schemathesis.openapi.from_dict(_document())
schema.config.seed = SEED

# Set by the `world` fixture before any example is generated.
_WORLD = {}


def _pool(path: str, name: str) -> list | None:
    pools = _WORLD["world"].pools
    if name == "slug" and path.startswith("/api/v1/communities/"):
        return pools["community_slug"]
    return pools.get(name)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Aim ids in paths at real rows of both members (and missing ones) half the time;
    the other half keeps what the fuzzer made up."""
    if not isinstance(path_parameters, dict) or not _WORLD:
        return st.just(path_parameters)
    path = context.operation.path
    choices = {}
    for name, value in path_parameters.items():
        pool = _pool(path, name)
        choices[name] = st.one_of(st.just(value), st.sampled_from(pool)) if pool else st.just(value)
    independent = st.fixed_dictionaries(choices)
    # A note or attachment id alone rarely meets its own case: a third of the time, aim
    # at a real (case, item) pair, so reads and downloads of real items get fuzzed too.
    for item in ("note_id", "attachment_id"):
        pairs = _WORLD["world"].pairs.get(item)
        if pairs and {"case_id", item} <= set(path_parameters):
            paired = st.sampled_from(pairs).map(
                lambda pair, item=item: {**path_parameters, "case_id": pair[0], item: pair[1]}
            )
            return st.one_of(independent, independent, paired)
    return independent


@schema.hook
def flatmap_body(context, body):
    """A case's `receiver` names a real member half the time, so opening one gets past
    the receiver to its process, severities and intake rules."""
    if context.operation.path != "/api/v1/cases" or not isinstance(body, dict) or not _WORLD:
        return st.just(body)
    if not isinstance(body.get("receiver"), str):
        return st.just(body)
    slugs = _WORLD["world"].pools["slug"]
    receivers = st.one_of(st.just(body["receiver"]), st.sampled_from(slugs))
    return receivers.map(lambda slug: {**body, "receiver": slug})


@schema.hook
def map_body(context, body):
    """Webhook URLs the fuzzer makes up point at loopback (the host resolution fence in
    conftest refuses every other name anyway), so registering one can succeed."""
    if not context.operation.path.startswith("/api/v1/webhooks/") or not isinstance(body, dict):
        return body
    url = body.get("url")
    if isinstance(url, str):
        try:
            parts = urlsplit(url)
            if parts.hostname:
                port = f":{parts.port}" if parts.port else ""
                body["url"] = urlunsplit(parts._replace(netloc=f"127.0.0.1{port}"))
        except ValueError:
            pass
    return body


@schema.hook("flatmap_body")
def spoil_body(context, body):
    """Part of the JSON bodies carry a lone surrogate, a control character or nesting far
    too deep (tests/fuzz/hostile.py): a 4xx each, never a server error."""
    content = context.operation.definition.raw.get("requestBody", {}).get("content", {})
    if set(content) != {"application/json"} or not isinstance(body, dict | list):
        return st.just(body)
    return hostile_body(body)


@schema.hook("flatmap_query")
def spoil_query(context, query):
    """Part of the query strings carry a control character."""
    return hostile_text(query)


@schema.hook("flatmap_path_parameters")
def spoil_path_parameters(context, path_parameters):
    """Part of the path parameters carry a control character."""
    return hostile_text(path_parameters)


@pytest.fixture()
def world(fuzz_world):
    _WORLD["world"] = fuzz_world
    return fuzz_world


@pytest.fixture()
def tally(record_property):
    """Examples run and answers by status, summed over every xdist worker by the
    terminal summary in tests/conftest.py."""
    counts = Counter()
    yield counts
    record_property("fuzz_examples", sum(counts.values()))
    record_property("fuzz_statuses", dict(counts))


@pytest.mark.parametrize("member", FUZZ_MEMBERS)
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms(case, member, world, tally):
    response = case.call(app=world.app, headers=world.programs[member].headers)
    tally[response.status_code] += 1
    case.validate_response(response, checks=CHECKS)
