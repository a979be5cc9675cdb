"""Nothing is lost while an endpoint is disabled, every vetted address of a host is
tried, and a deleted endpoint's in-flight delivery ends."""

import socket

from exchange.webhooks.sender import post
from tests.webhooks.conftest import deliver, deliveries, drain


def test_events_while_disabled_wait_and_arrive_when_enabled_again(
    hooks, receivers, private_networks
):
    receiver = receivers()
    endpoint = hooks.endpoint(hooks.globex, receiver, event_types=["case.*"])
    url = f"/api/v1/webhooks/endpoints/{endpoint['id']}"
    assert hooks.globex.api.patch(url, json={"enabled": False}).status_code == 200
    case = hooks.open_case()
    hooks.note(hooks.acme.api, case["id"], "while disabled")
    assert deliver() == 0
    assert [d.status for d in deliveries(endpoint["id"])] == ["pending", "pending"]
    assert hooks.globex.api.patch(url, json={"enabled": True}).status_code == 200
    drain()
    types = [m["type"] for m in receiver.store.messages]
    assert types == ["case.opened", "case.note_added"]


def test_an_unreachable_first_address_falls_back_to_the_next(receivers, monkeypatch):
    receiver = receivers()
    port = receiver.server_port
    real = socket.getaddrinfo

    def two_addresses(host, port_, *args, **kwargs):
        if host == "tracker.example":
            # A closed port on another loopback address first, then the live receiver.
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port_)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port_)),
            ]
        return real(host, port_, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", two_addresses)
    result = post(f"http://tracker.example:{port}/hooks", b"{}", {}, timeout=5, allow_private=True)
    # The receiver answers 401 (no signature): what matters is that it was reached.
    assert result.status_code == 401, result


def test_a_delivery_in_flight_when_its_endpoint_is_deleted_ends(hooks, receivers, private_networks):
    from exchange.webhooks.dispatch import record
    from exchange.webhooks.sender import Result

    receiver = receivers()
    endpoint = hooks.endpoint(hooks.globex, receiver, event_types=["case.*"])
    hooks.open_case()
    [delivery] = deliveries(endpoint["id"])
    url = f"/api/v1/webhooks/endpoints/{endpoint['id']}"
    assert hooks.globex.api.delete(url).status_code == 204
    record(delivery, Result(503, 5, "http_5xx", ""), delivery.created_at)
    assert delivery.status == "failed" and delivery.last_error == "endpoint deleted"
    retry = hooks.globex.api.post(f"/api/v1/webhooks/deliveries/{delivery.id}/retry")
    assert retry.status_code in (404, 409)
