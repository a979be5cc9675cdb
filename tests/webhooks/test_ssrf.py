"""The SSRF guard: only public https URLs in production; every internal form of an
address is refused at registration and again when connecting."""

from __future__ import annotations

import ipaddress

import pytest

from exchange.webhooks import ssrf
from tests.webhooks.conftest import attempts, deliver, deliveries

MANAGE = ("webhooks:manage",)

# Loopback, private, link-local (cloud metadata), CGNAT, unspecified, IPv6 loopback,
# IPv4-mapped loopback, unique-local, IPv6 link-local, NAT64 and 6to4 forms of
# loopback, benchmarking and reserved (class E).
REFUSED = [
    "127.0.0.1",
    "10.0.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "::ffff:127.0.0.1",
    "fd00::1",
    "fe80::1",
    "64:ff9b::7f00:1",
    "2002:7f00:1::",
    "198.18.0.1",
    "240.0.0.1",
    # More of the same kind.
    "172.16.0.1",
    "192.168.1.1",
    "224.0.0.1",
    "255.255.255.255",
    "::",
    "ff02::1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",
    "2002:a00:1::",
    "2001:db8::1",
]


def _url(address: str, scheme: str = "https") -> str:
    host = f"[{address}]" if ":" in address else address
    return f"{scheme}://{host}/hooks"


@pytest.mark.parametrize("address", REFUSED)
def test_internal_addresses_are_not_public(address):
    assert not ssrf.is_public(ipaddress.ip_address(address))
    with pytest.raises(ssrf.RefusedURL, match="non-public"):
        ssrf.resolve(_url(address), allow_private=False)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888"])
def test_public_literals_are_public(address):
    assert ssrf.is_public(ipaddress.ip_address(address))
    target = ssrf.resolve(_url(address), allow_private=False)
    assert target.addresses == (address,)
    assert (target.scheme, target.port, target.path) == ("https", 443, "/hooks")


@pytest.mark.parametrize("address", REFUSED[:13])
def test_registration_refuses_internal_addresses(api, make_member, address):
    caller = api(make_member(), MANAGE)
    response = caller.post("/api/v1/webhooks/endpoints", json={"url": _url(address)})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.json["code"] == "validation_failed"
    assert list(response.json["errors"]) == ["url"]
    assert caller.get("/api/v1/webhooks/endpoints").json == []


@pytest.mark.parametrize(
    "host", ["localhost", "2130706433", "0x7f.0.0.1", "127.1", "0177.0.0.1", "LOCALHOST."]
)
def test_names_and_odd_spellings_that_reach_loopback_are_refused(api, make_member, host):
    with pytest.raises(ssrf.RefusedURL):
        ssrf.resolve(f"https://{host}/hooks", allow_private=False)
    caller = api(make_member(), MANAGE)
    response = caller.post("/api/v1/webhooks/endpoints", json={"url": f"https://{host}/hooks"})
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["url"]


def test_a_name_that_does_not_resolve_is_refused():
    with pytest.raises(ssrf.RefusedURL, match="does not resolve"):
        ssrf.resolve("https://no-such-host.invalid/hooks", allow_private=False)


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://8.8.8.8/hooks", "https"),
        ("ftp://8.8.8.8/hooks", "https"),
        ("https://user:secret@8.8.8.8/hooks", "Credentials"),
        ("https://user@8.8.8.8/hooks", "Credentials"),
        ("https:///hooks", "no host"),
        ("https://8.8.8.8:99999/hooks", "valid URL"),
        ("not a url", "https"),
    ],
)
def test_bad_urls_are_refused_in_production(api, make_member, url, message):
    with pytest.raises(ssrf.RefusedURL, match=message):
        ssrf.resolve(url, allow_private=False)
    response = api(make_member(), MANAGE).post("/api/v1/webhooks/endpoints", json={"url": url})
    assert response.status_code == 422
    assert message in response.json["errors"]["url"][0]


def test_the_development_setting_allows_http_and_loopback_but_never_credentials(
    private_networks,
):
    target = ssrf.resolve("http://127.0.0.1:8080/hooks?x=1", allow_private=True)
    assert target.addresses == ("127.0.0.1",)
    assert (target.scheme, target.port, target.path) == ("http", 8080, "/hooks?x=1")
    assert ssrf.resolve("http://localhost/", allow_private=True).port == 80
    with pytest.raises(ssrf.RefusedURL, match="Credentials"):
        ssrf.resolve("http://user:pw@127.0.0.1/", allow_private=True)
    with pytest.raises(ssrf.RefusedURL, match="https"):
        ssrf.resolve("ftp://127.0.0.1/", allow_private=True)


def test_with_the_development_setting_loopback_http_is_delivered(
    hooks, receivers, private_networks
):
    receiver = receivers()
    created = hooks.endpoint(hooks.acme, receiver)
    assert created["url"].startswith("http://127.0.0.1:")
    hooks.acme.api.post(f"/api/v1/webhooks/endpoints/{created['id']}/ping")
    deliver()
    assert len(receiver.store.messages) == 1


def test_without_the_development_setting_loopback_is_refused_again_when_sending(
    hooks, receivers, config_value
):
    config_value("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", True)
    receiver = receivers()
    created = hooks.endpoint(hooks.acme, receiver)
    hooks.acme.api.post(f"/api/v1/webhooks/endpoints/{created['id']}/ping")
    config_value("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", False)
    assert deliver() == 1
    assert receiver.captured == []
    (delivery,) = deliveries(created["id"])
    assert delivery.status == "pending"
    (attempt,) = attempts(delivery)
    assert attempt.status_code is None
    assert attempt.error_class == "refused_address"
    assert "127.0.0.1" in attempt.response_excerpt or "https" in attempt.response_excerpt


def test_a_name_that_later_resolves_inside_is_refused_when_sending(hooks, faults, fake_dns):
    server = faults()
    fake_dns["tracker.partner.test"] = "93.184.216.34"
    created = hooks.endpoint(hooks.acme, url="https://tracker.partner.test/hooks")
    hooks.acme.api.post(f"/api/v1/webhooks/endpoints/{created['id']}/ping")
    fake_dns["tracker.partner.test"] = "127.0.0.1"  # DNS rebinding
    deliver()
    (delivery,) = deliveries(created["id"])
    assert attempts(delivery)[0].error_class == "refused_address"
    assert server.captured == []


def test_the_connection_goes_to_the_vetted_address(hooks, faults, fake_dns, private_networks):
    server = faults()
    fake_dns["tracker.partner.test"] = "127.0.0.1"
    url = f"http://tracker.partner.test:{server.server_port}/hooks"
    created = hooks.endpoint(hooks.acme, url=url)
    hooks.acme.api.post(f"/api/v1/webhooks/endpoints/{created['id']}/ping")
    deliver()
    (request,) = server.captured
    assert request.headers["host"] == f"tracker.partner.test:{server.server_port}"
    assert deliveries(created["id"])[0].status == "succeeded"


def test_patching_the_url_is_checked_too(hooks, faults, config_value):
    config_value("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", True)
    created = hooks.endpoint(hooks.acme, url=faults().url)
    config_value("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", False)
    response = hooks.acme.api.patch(
        f"/api/v1/webhooks/endpoints/{created['id']}", json={"url": "https://10.0.0.1/"}
    )
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["url"]


def test_https_checks_the_certificate_against_the_urls_host_name(
    hooks, tls_faults, fake_dns, private_networks, monkeypatch
):
    server = tls_faults("tracker.partner.test")
    fake_dns["tracker.partner.test"] = "127.0.0.1"
    fake_dns["impostor.partner.test"] = "127.0.0.1"
    trusted = hooks.endpoint(hooks.acme, url=server.url)
    impostor = hooks.endpoint(
        hooks.acme, url=server.url.replace("tracker.partner.test", "impostor.partner.test")
    )
    # Neither trusted by the system's CAs: refused before anything is sent.
    hooks.acme.api.post(f"/api/v1/webhooks/endpoints/{trusted['id']}/ping")
    deliver()
    assert attempts(deliveries(trusted["id"])[0])[0].error_class == "tls_error"
    assert server.captured == []
    # With the test CA trusted, the right name gets through, on the vetted address.
    monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))
    hooks.acme.api.post(f"/api/v1/webhooks/endpoints/{impostor['id']}/ping")
    (delivery,) = deliveries(trusted["id"])
    deliver(delivery.next_attempt_at)
    assert deliveries(trusted["id"])[0].status == "succeeded"
    (request,) = server.captured
    assert request.headers["host"] == f"tracker.partner.test:{server.server_port}"
    # A certificate for another name is refused however it is reached.
    (refused,) = deliveries(impostor["id"])
    assert refused.status == "pending"
    assert attempts(refused)[0].error_class == "tls_error"
    assert "hostname" in attempts(refused)[0].response_excerpt.lower()
