"""The endpoints API: scope webhooks:manage, create/list/get/patch/delete, event-type
and partner checks, wildcards, and another member's endpoints and deliveries (404)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from exchange.webhooks import service
from tests.webhooks.conftest import deliveries, now

pytestmark = pytest.mark.usefixtures("private_networks")

BASE = "/api/v1/webhooks"


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == code
    return response.json


def test_create_list_get_patch_delete(hooks, receivers):
    api = hooks.acme.api
    receiver = receivers()
    created = hooks.endpoint(hooks.acme, receiver, description="Our ServiceNow")
    assert created["url"] == receiver.url
    assert created["description"] == "Our ServiceNow"
    # Defaults: every event, every partner, enabled, own changes left out.
    assert created["event_types"] == ["*"]
    assert created["partners"] == []
    assert created["enabled"] is True
    assert created["exclude_own_changes"] is True
    assert created["disabled_at"] is None
    url = f"{BASE}/endpoints/{created['id']}"

    listed = api.get(f"{BASE}/endpoints")
    assert listed.status_code == 200
    assert [e["id"] for e in listed.json] == [created["id"]]
    got = api.get(url).json
    assert {k: v for k, v in created.items() if k != "secret"} == got

    patched = api.patch(
        url,
        json={"event_types": ["case.*", "ping"], "partners": ["globex"], "enabled": False},
    )
    assert patched.status_code == 200, patched.get_data(as_text=True)
    assert patched.json["event_types"] == ["case.*", "ping"]
    assert patched.json["partners"] == ["globex"]
    assert patched.json["enabled"] is False
    # A PATCH changes only what it names.
    assert patched.json["description"] == "Our ServiceNow"
    assert patched.json["exclude_own_changes"] is True
    again = api.patch(url, json={"description": "Renamed"}).json
    assert again["event_types"] == ["case.*", "ping"]
    assert again["enabled"] is False

    deleted = api.delete(url)
    assert deleted.status_code == 204
    _problem(api.get(url), 404, "not_found")
    assert api.get(f"{BASE}/endpoints").json == []
    _problem(api.delete(url), 404, "not_found")


def test_deleting_an_endpoint_gives_up_its_pending_deliveries(hooks, receivers):
    created = hooks.endpoint(hooks.acme, receivers())
    ping = hooks.acme.api.post(f"{BASE}/endpoints/{created['id']}/ping").json
    assert ping["status"] == "pending"
    hooks.acme.api.delete(f"{BASE}/endpoints/{created['id']}")
    (delivery,) = deliveries(created["id"])
    assert (delivery.status, delivery.last_error) == ("failed", "endpoint deleted")


def test_event_types_are_listed(hooks):
    response = hooks.acme.api.get(f"{BASE}/event-types")
    assert response.status_code == 200
    types = {t["type"] for t in response.json}
    assert types == set(service.EVENT_TYPES)
    assert {
        "case.opened",
        "case.information_requested",
        "case.information_provided",
        "case.accepted",
        "case.rejected",
        "case.withdrawn",
        "case.engineer_assigned",
        "case.escalated",
        "case.severity_changed",
        "case.note_added",
        "case.note_redacted",
        "case.attachment_added",
        "case.resolved",
        "case.closed",
        "case.reopened",
        "case.reference_set",
        "process.published",
        "endpoint.disabled",
        "ping",
    } <= types
    assert all(t["description"] for t in response.json)


@pytest.mark.parametrize(
    "event_types", [["*"], ["case.*"], ["process.*"], ["case.opened", "case.closed", "ping"]]
)
def test_exact_types_and_wildcards_are_accepted(hooks, receivers, event_types):
    created = hooks.endpoint(hooks.acme, receivers(), event_types=event_types)
    assert created["event_types"] == event_types


def test_an_unknown_event_type_is_refused_naming_its_position(hooks, receivers):
    response = hooks.acme.api.post(
        f"{BASE}/endpoints",
        json={
            "url": receivers().url,
            "event_types": ["case.opened", "case.exploded", "nothing.*", "case.*"],
        },
    )
    errors = _problem(response, 422, "validation_failed")["errors"]
    assert set(errors) == {"event_types.1", "event_types.2"}
    assert "case.exploded" in errors["event_types.1"][0]
    assert hooks.acme.api.get(f"{BASE}/endpoints").json == []


def test_an_empty_subscription_is_refused(hooks, receivers):
    response = hooks.acme.api.post(
        f"{BASE}/endpoints", json={"url": receivers().url, "event_types": []}
    )
    assert "event_types" in _problem(response, 422, "validation_failed")["errors"]


def test_an_unknown_partner_is_refused(hooks, receivers):
    response = hooks.acme.api.post(
        f"{BASE}/endpoints", json={"url": receivers().url, "partners": ["globex", "nobody"]}
    )
    errors = _problem(response, 422, "validation_failed")["errors"]
    assert list(errors) == ["partners.1"]
    created = hooks.endpoint(hooks.acme, receivers())
    response = hooks.acme.api.patch(
        f"{BASE}/endpoints/{created['id']}", json={"partners": ["nobody"]}
    )
    assert list(_problem(response, 422, "validation_failed")["errors"]) == ["partners.0"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "url"),
        ({"url": ""}, "url"),
        ({"url": "https://8.8.8.8/", "event_types": "case.*"}, "event_types"),
        ({"url": "https://8.8.8.8/", "enabled": "maybe"}, "enabled"),
        ({"url": "https://8.8.8.8/", "description": "x" * 501}, "description"),
        (
            {"url": "https://8.8.8.8/", "description": "Ops hook\nBcc: x@evil.example"},
            "description",
        ),
    ],
)
def test_malformed_bodies_are_422(hooks, body, field):
    response = hooks.acme.api.post(f"{BASE}/endpoints", json=body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in str(response.json["errors"])


def _routes(endpoint_id: int, delivery_id: int):
    since = (now() - timedelta(days=1)).isoformat()
    return [
        ("GET", f"{BASE}/endpoints", None),
        ("POST", f"{BASE}/endpoints", {"url": "https://8.8.8.8/"}),
        ("GET", f"{BASE}/endpoints/{endpoint_id}", None),
        ("PATCH", f"{BASE}/endpoints/{endpoint_id}", {"description": "x"}),
        ("DELETE", f"{BASE}/endpoints/{endpoint_id}", None),
        ("POST", f"{BASE}/endpoints/{endpoint_id}/rotate-secret", {}),
        ("POST", f"{BASE}/endpoints/{endpoint_id}/ping", None),
        ("GET", f"{BASE}/endpoints/{endpoint_id}/deliveries", None),
        ("POST", f"{BASE}/endpoints/{endpoint_id}/recover", {"since": since}),
        ("GET", f"{BASE}/deliveries/{delivery_id}", None),
        ("POST", f"{BASE}/deliveries/{delivery_id}/retry", None),
    ]


def _call(caller, method, url, body):
    return getattr(caller, method.lower())(url, **({"json": body} if body is not None else {}))


def test_every_route_needs_webhooks_manage(hooks, receivers):
    created = hooks.endpoint(hooks.acme, receivers())
    ping = hooks.acme.api.post(f"{BASE}/endpoints/{created['id']}/ping").json
    reader, _ = hooks.program(hooks.acme, ("cases:read", "cases:write", "directory:read"))
    for method, url, body in _routes(created["id"], ping["id"]):
        response = _call(reader, method, url, body)
        _problem(response, 403, "insufficient_scope")
        assert 'scope="webhooks:manage"' in response.headers["WWW-Authenticate"]
    # An engineer (a person without the admin role) may not either; an admin may.
    engineer = hooks.sign_in(hooks.acme.users["ed"])
    _problem(engineer.get(f"{BASE}/endpoints"), 403, "insufficient_scope")
    admin = hooks.sign_in(hooks.acme.users["admin"])
    assert [e["id"] for e in admin.get(f"{BASE}/endpoints").json] == [created["id"]]
    response = admin.patch(f"{BASE}/endpoints/{created['id']}", json={"description": "by hand"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["description"] == "by hand"


def test_another_members_endpoints_and_deliveries_are_not_found(hooks, receivers):
    created = hooks.endpoint(hooks.acme, receivers())
    ping = hooks.acme.api.post(f"{BASE}/endpoints/{created['id']}/ping").json
    globex = hooks.globex.api
    for method, url, body in _routes(created["id"], ping["id"])[2:]:
        _problem(_call(globex, method, url, body), 404, "not_found")
    assert globex.get(f"{BASE}/endpoints").json == []
    # Nothing changed for acme.
    mine = hooks.acme.api.get(f"{BASE}/endpoints/{created['id']}").json
    assert mine["description"] == "" and mine["enabled"] is True
    assert mine["previous_secret_expires_at"] is None
    (delivery,) = deliveries(created["id"])
    assert delivery.status == "pending"


@pytest.mark.parametrize("endpoint_id", [0, 999_999, 2**63, 2**70])
def test_unknown_and_absurd_ids_are_404(hooks, endpoint_id):
    _problem(hooks.acme.api.get(f"{BASE}/endpoints/{endpoint_id}"), 404, "not_found")
    _problem(hooks.acme.api.get(f"{BASE}/deliveries/{endpoint_id}"), 404, "not_found")
    _problem(hooks.acme.api.post(f"{BASE}/deliveries/{endpoint_id}/retry"), 404, "not_found")


def test_ping_queues_a_delivery_and_the_log_filters_by_status(hooks, faults):
    server = faults()
    created = hooks.endpoint(hooks.acme, url=server.url)
    api = hooks.acme.api
    first = api.post(f"{BASE}/endpoints/{created['id']}/ping")
    assert first.status_code == 202
    assert first.json["event_type"] == "ping"
    assert first.json["message_id"].startswith("msg_")
    log = api.get(f"{BASE}/endpoints/{created['id']}/deliveries")
    assert log.status_code == 200
    assert [d["id"] for d in log.json["items"]] == [first.json["id"]]
    assert api.get(f"{BASE}/endpoints/{created['id']}/deliveries?status=failed").json["items"] == []
    bad = api.get(f"{BASE}/endpoints/{created['id']}/deliveries?status=lost")
    assert bad.status_code == 422
