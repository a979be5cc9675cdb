"""Every /api/v1 route, discovered from ``app.url_map``, against the four callers the
security matrix names: no token (401), an expired token (401), a token of another
member (404 for what a member owns; 200 for the directory every member may read) and
a token of the owner that lacks the route's scope (403), with real ids.

A new route fails ``test_every_api_route_is_classified`` until it is given a class
below, so nothing joins the API without being checked.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from exchange import clock
from exchange.auth.models import OAuthToken, digest
from exchange.auth.scopes import SCOPES
from exchange.db import db, transaction
from exchange.processes.schemas import ProcessContentIn
from tests.cases.conftest import ACTION_BODIES, globex_case

ALL_SCOPES = tuple(SCOPES)

# Routes that need no caller at all.
PUBLIC = {("GET", "/api/v1/openapi.json")}

# Routes that act on the caller's own member only: another member's token is simply
# another caller with its own data there, so the "another member" case does not apply.
OWN = {
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/cases"),
    ("POST", "/api/v1/cases"),
    ("GET", "/api/v1/communities"),
    ("POST", "/api/v1/communities"),
    ("GET", "/api/v1/webhooks/endpoints"),
    ("POST", "/api/v1/webhooks/endpoints"),
    ("GET", "/api/v1/webhooks/event-types"),
    ("GET", "/api/v1/processes/severity-template"),
    ("GET", "/api/v1/audit"),  # the caller's own member's audit log
}

# The directory: every member reads another member's profile, people, processes,
# contacts and products (directory:read).
DIRECTORY = {
    ("GET", "/api/v1/members"),
    ("GET", "/api/v1/members/<slug>"),
    ("GET", "/api/v1/members/<slug>/contacts"),
    ("GET", "/api/v1/members/<slug>/processes"),
    ("GET", "/api/v1/members/<slug>/products"),
    ("GET", "/api/v1/contacts/<int:contact_id>"),
    ("GET", "/api/v1/processes/<int:process_id>"),
    ("GET", "/api/v1/processes/<int:process_id>/versions"),
    ("GET", "/api/v1/processes/<int:process_id>/versions/<int:number>"),
    ("GET", "/api/v1/processes/<int:process_id>/diff"),
    ("GET", "/api/v1/processes/<int:process_id>/intake-schema"),
    ("GET", "/api/v1/products/<int:product_id>"),
}

# Everything else under /api/v1 belongs to one member and is hidden from the others
# (404), changes to what the directory shows included, and a member's people.


def api_routes(app) -> list[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                found.add((method, rule.rule))
    return sorted(found, key=lambda r: (r[1], r[0]))


def required_scope(app, method: str, rule: str):
    """The scope the route's ``requires`` names: (scope,) or None if it has none."""
    endpoint = next(
        r.endpoint for r in app.url_map.iter_rules() if r.rule == rule and method in r.methods
    )
    view = app.view_functions[endpoint]
    view = getattr(view.view_class, method.lower()) if hasattr(view, "view_class") else view
    return getattr(view, "_exchange_requires", None)


class World:
    """acme owns one of everything; initech is another member; real ids throughout."""

    def __init__(self, case_world, config_value):
        config_value("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", True)
        self.cw = case_world
        acme = case_world.acme
        self.owner = case_world.program(acme, ALL_SCOPES, "acme admin tool")
        self.other = case_world.program(case_world.initech, ALL_SCOPES, "initech admin tool")
        owner = self.owner
        case = case_world.open_case()
        note = owner.post(f"/api/v1/cases/{case['id']}/notes", json={"body": "n"}).json
        attachment = owner.post(
            f"/api/v1/cases/{case['id']}/attachments",
            data={"file": (io.BytesIO(b"x"), "x.txt")},
            content_type="multipart/form-data",
        ).json
        endpoint = owner.post(
            "/api/v1/webhooks/endpoints", json={"url": "http://127.0.0.1:9/hook"}
        ).json
        delivery = owner.post(f"/api/v1/webhooks/endpoints/{endpoint['id']}/ping").json
        community = owner.post(
            "/api/v1/communities", json={"slug": "acme-circle", "name": "Acme circle"}
        )
        assert community.status_code == 201, community.get_data(as_text=True)
        client = owner.get("/api/v1/members/acme/clients").json[0]
        process = owner.get("/api/v1/members/acme/processes").json
        process = process["items"][0] if isinstance(process, dict) else process[0]
        product = owner.get("/api/v1/members/acme/products").json[0]
        contact = owner.get("/api/v1/members/acme/contacts").json
        contact = contact["items"][0] if isinstance(contact, dict) else contact[0]
        user = next(iter(acme.users.values()))
        entry = owner.get("/api/v1/audit").json["items"][0]  # e.g. the endpoint's creation
        self.ids = {
            "entry_id": entry["id"],
            "case_id": case["id"],
            "note_id": note["id"],
            "attachment_id": attachment["id"],
            "endpoint_id": endpoint["id"],
            "delivery_id": delivery["id"],
            "client_id": client["client_id"],
            "slug": "acme-circle",
            "member_slug": "globex",
            "process_id": process["id"],
            "number": 1,
            "product_id": product["id"],
            "version_id": product["versions"][0]["id"],
            "contact_id": contact["id"],
            "user_id": user.id,
        }
        version = owner.get(f"/api/v1/processes/{process['id']}/versions/1").json
        fields = ProcessContentIn().fields
        self.process_content = {
            "name": "Another process",
            **{k: v for k, v in version.items() if k in fields and k != "name"},
        }

    def url(self, rule: str, method: str) -> str:
        ids = dict(self.ids)
        if rule.startswith("/api/v1/members/<slug>"):
            ids["slug"] = "acme"  # the member, not the community
        url = rule
        for name, value in ids.items():
            for converter in ("int:", ""):
                url = url.replace(f"<{converter}{name}>", str(value))
        assert "<" not in url, f"no id for {rule}"
        if rule.endswith("/diff"):
            url += "?from=1&to=1"
        return url

    def body(self, method: str, rule: str) -> dict:
        """A valid request body, so the answer is about the caller, not the fields."""
        last = rule.rsplit("/", 1)[-1]
        if method in ("GET", "DELETE"):
            return {}
        if rule.startswith("/api/v1/cases/<int:case_id>/") and last in ACTION_BODIES:
            return {"json": ACTION_BODIES[last]}
        if last == "attachments":
            return {
                "data": {"file": (io.BytesIO(b"x"), "x.txt")},
                "content_type": "multipart/form-data",
            }
        bodies = {
            ("POST", "/api/v1/cases"): globex_case(),
            ("PATCH", "/api/v1/cases/<int:case_id>"): {"reference": "MINE-1"},
            ("POST", "/api/v1/cases/<int:case_id>/notes"): {"body": "peek"},
            ("POST", "/api/v1/communities"): {"slug": "other-circle", "name": "Other"},
            ("POST", "/api/v1/communities/<slug>/invitations"): {"member": "initech"},
            ("POST", "/api/v1/members/<slug>/users"): {
                "email": "new@acme.example",
                "name": "New Person",
            },
            ("POST", "/api/v1/members/<slug>/clients"): {
                "name": "x",
                "scopes": ["directory:read"],
            },
            ("POST", "/api/v1/members/<slug>/contacts"): {
                "name": "New Contact",
                "role": "senior_engineer",
            },
            ("POST", "/api/v1/members/<slug>/processes"): self.process_content,
            ("PUT", "/api/v1/processes/<int:process_id>/draft"): self.process_content,
            ("POST", "/api/v1/members/<slug>/products"): {"name": "New Product"},
            ("POST", "/api/v1/products/<int:product_id>/versions"): {"version": "99.0"},
            ("POST", "/api/v1/webhooks/endpoints"): {"url": "http://127.0.0.1:9/other"},
            ("POST", "/api/v1/webhooks/endpoints/<int:endpoint_id>/recover"): {
                "since": "2020-01-01T00:00:00+00:00"
            },
        }
        return {"json": bodies.get((method, rule), {})}


def call(caller, method, url, kwargs):
    response = caller.http.open(
        url, method=method, headers=caller._headers(kwargs.pop("headers", None)), **kwargs
    )
    response.close()
    return response


@pytest.fixture()
def world(case_world, config_value):
    return World(case_world, config_value)


def expired_token(world) -> object:
    caller = world.cw.program(world.cw.acme, ALL_SCOPES, "soon expired")
    with transaction():
        token = db.session.scalar(
            select(OAuthToken).where(OAuthToken.token_hash == digest(caller.token))
        )
        token.expires_at = clock.now() - timedelta(seconds=1)
    return caller


def test_every_api_route_is_classified(app):
    routes = api_routes(app)
    assert len(routes) > 80
    for method, rule in routes:
        marked = required_scope(app, method, rule)
        assert marked is not None or (method, rule) in PUBLIC, (
            f"{method} {rule} neither checks a token (requires) nor is public"
        )
    known = PUBLIC | OWN | DIRECTORY
    assert known <= set(routes), known - set(routes)  # no stale entries


def _matrix(app, world):
    """(method, rule, url, kwargs factory, scope) for every route that needs a caller."""
    for method, rule in api_routes(app):
        if (method, rule) in PUBLIC:
            continue
        (scope,) = required_scope(app, method, rule)
        yield method, rule, world.url(rule, method), scope


def test_no_token_is_401_everywhere(app, world, client):
    checked = 0
    for method, rule, url, _ in _matrix(app, world):
        response = client.open(url, method=method, **world.body(method, rule))
        assert response.status_code == 401, (method, rule, response.get_data(as_text=True))
        assert response.json["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        checked += 1
    assert checked == len(api_routes(app)) - len(PUBLIC)


def test_an_expired_token_is_401_everywhere(app, world):
    caller = expired_token(world)
    for method, rule, url, _ in _matrix(app, world):
        response = call(caller, method, url, world.body(method, rule))
        assert response.status_code == 401, (method, rule, response.get_data(as_text=True))
        assert response.json["code"] == "invalid_token"
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_token_without_the_routes_scope_is_403_everywhere(app, world):
    checked = 0
    for method, rule, url, scope in _matrix(app, world):
        if scope is None:
            continue  # the route needs a caller, not a scope (e.g. /me)
        others = tuple(s for s in ALL_SCOPES if s != scope)
        caller = world.cw.program(world.cw.acme, others, f"without {scope}")
        response = call(caller, method, url, world.body(method, rule))
        assert response.status_code == 403, (method, rule, response.get_data(as_text=True))
        assert response.json["code"] == "insufficient_scope"
        assert f'scope="{scope}"' in response.headers["WWW-Authenticate"]
        checked += 1
    assert checked > 70


def test_another_members_token_is_404_on_what_a_member_owns(app, world):
    wrong, counts = [], {"directory": 0, "owned": 0}
    for method, rule, url, _ in _matrix(app, world):
        key = (method, rule)
        if key in OWN:
            continue
        response = call(world.other, method, url, world.body(method, rule))
        code = (response.json or {}).get("code") if response.status_code >= 400 else None
        if key in DIRECTORY:
            expected, counts["directory"] = (200, None), counts["directory"] + 1
        else:
            expected, counts["owned"] = (404, "not_found"), counts["owned"] + 1
        if (response.status_code, code) != expected:
            wrong.append((method, rule, response.status_code, response.get_data(as_text=True)))
    assert not wrong, "\n".join(map(str, wrong))
    assert counts["owned"] > 40 and counts["directory"] == len(DIRECTORY)


def test_the_bodies_the_matrix_sends_are_valid(app, world):
    """The 404s above are about the caller: the owner sending the same bodies is never
    told its fields are wrong (it may still meet a state conflict)."""
    for method, rule, url, _ in _matrix(app, world):
        if method in ("GET", "DELETE") or (method, rule) in OWN | DIRECTORY:
            continue
        response = call(world.owner, method, url, world.body(method, rule))
        text = response.get_data(as_text=True)
        assert "The request has invalid fields" not in text, (method, rule, text)
        assert response.status_code < 500, (method, rule)
