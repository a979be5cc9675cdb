"""Fixtures for webhook tests: real HTTP receivers on loopback, the demo members with
their tracker programs, and helpers that run the worker's round in the test.

``receivers()`` starts ``examples/tracker_receiver.py`` (the partner tracker of the
docs) in a thread and records the exact bytes and headers of every request it got;
``faults()`` starts a receiver that misbehaves on purpose (hangs, resets, redirects,
answers garbage). Both are shut down and closed after the test. ``hooks`` loads the
demo data; each party has a program holding ``cases:read cases:write webhooks:manage``.

The worker's functions run directly in the test (inside its rolled-back transaction);
time is injected with ``now=`` wherever the test needs a future moment.
"""

from __future__ import annotations

import io
import json
import socket
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from exchange import clock
from exchange.db import db
from exchange.demo import load_demo
from exchange.members import service as members
from exchange.members.models import Member, User
from exchange.webhooks import dispatch, signing
from exchange.webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint
from tests.cases.conftest import ACTION_BODIES, CaseCalls, globex_case  # noqa: F401 (shared)
from tests.conftest import ApiCaller, SessionCaller, browser_sign_in
from tests.receivers import (
    FaultServer,
    Request,
    load_tracker_module,
    lower_headers,
    stop_server,
    url_of,
)

TRACKER_SCOPES = ("cases:read", "cases:write", "webhooks:manage")


tracker = load_tracker_module()


class _CapturingHandler(tracker._Handler):
    """The example's handler, after noting the raw request (bytes and headers)."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.captured.append(Request(body, lower_headers(self.headers)))
        original, self.rfile = self.rfile, io.BytesIO(body)
        try:
            super().do_POST()
        finally:
            self.rfile = original


@pytest.fixture()
def receivers():
    """``receivers(secret=None, log_path=None, port=0)`` -> a running tracker receiver.

    Extras: ``.url``, ``.captured`` (every raw ``Request``), ``.use_secret(secret)``
    (what it verifies with), ``.restart()`` (stop and start on the same port, same log),
    ``.stop()``."""
    started = []

    def start(secret: str | None = None, log_path: Path | None = None, port: int = 0):
        server = tracker.serve(secret or signing.new_secret(), port=port, log_path=log_path)
        server.RequestHandlerClass = _CapturingHandler
        server.captured = []
        server.url = url_of(server)
        server.log_path = log_path

        def use_secret(secret: str) -> None:
            server.secret = secret
            server.verifier = Webhook(secret)

        server.use_secret = use_secret
        server.stop = lambda: stop_server(server)
        started.append(server)
        return server

    yield start
    for server in started:
        stop_server(server)


@pytest.fixture()
def faults():
    """``faults()`` -> a running ``FaultServer`` (answers 204 until told otherwise)."""
    started = []

    def start() -> FaultServer:
        server = FaultServer().start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.release.set()
        stop_server(server)


class TLSFaultServer(FaultServer):
    """A ``FaultServer`` speaking https with a certificate for ``hostname`` from a test
    CA (``ca_file``; trusted only when the test points SSL_CERT_FILE at it)."""

    def __init__(self, folder: Path, hostname: str):
        super().__init__()
        self.ca_file, cert_file, key_file = _certificates(folder, hostname)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.url = f"https://{hostname}:{self.server_port}/hooks"


def _certificates(folder: Path, hostname: str) -> tuple[Path, Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(text):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    def builder(subject, issuer, public_key):
        moment = datetime.now(UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(moment - timedelta(hours=1))
            .not_valid_after(moment + timedelta(hours=1))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        )

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        builder(name("exchange test CA"), name("exchange test CA"), ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        builder(name(hostname), name("exchange test CA"), key.public_key())
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(cert.public_bytes(pem))
    paths[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@pytest.fixture()
def tls_faults(tmp_path):
    """``tls_faults(hostname)`` -> a running ``TLSFaultServer``."""
    started = []

    def start(hostname: str) -> TLSFaultServer:
        folder = tmp_path / f"tls{len(started)}"
        folder.mkdir()
        server = TLSFaultServer(folder, hostname)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.release.set()
        stop_server(server)


@pytest.fixture()
def fake_dns(monkeypatch):
    """``fake_dns[name] = address``: what ``name`` resolves to (other names resolve as
    usual). Only name resolution is faked; connections are real."""
    answers: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            family = socket.AF_INET6 if ":" in answers[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


# -- settings -------------------------------------------------------------------------


@pytest.fixture()
def config_value(app):
    """``config_value(name, value)`` sets an app setting for this test only."""
    saved = {}

    def set_(name, value):
        saved.setdefault(name, app.config.get(name))
        app.config[name] = value

    yield set_
    for name, value in saved.items():
        app.config[name] = value


@pytest.fixture()
def private_networks(config_value):
    """Development setting: plain http and loopback receivers are allowed."""
    config_value("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", True)


@pytest.fixture(autouse=True)
def attachments_dir(app, tmp_path):
    """Attachments go to the test's own folder, never the instance folder."""
    before = app.config.get("ATTACHMENTS_PATH")
    app.config["ATTACHMENTS_PATH"] = str(tmp_path / "attachments")
    yield
    app.config["ATTACHMENTS_PATH"] = before


# -- the demo members and their trackers ----------------------------------------------


@dataclass
class Party:
    member: Member
    api: ApiCaller
    client_id: str
    users: dict[str, User]

    @property
    def slug(self) -> str:
        return self.member.slug


class Hooks(CaseCalls):
    def __init__(self, app, programs):
        self.app, self.programs = app, programs
        self.acme = self._party("acme")
        self.globex = self._party("globex")
        self.initech = self._party("initech")

    def _party(self, slug: str) -> Party:
        member = members.get_member(slug=slug)
        caller, client_id = self.programs(member, TRACKER_SCOPES, f"{member.name} tracker")
        users = {u.email.split("@")[0]: u for u in member.users}
        return Party(member=member, api=caller, client_id=client_id, users=users)

    def program(self, party: Party, scopes=TRACKER_SCOPES, name="other program"):
        """Another program of ``party``: (ApiCaller, client_id)."""
        return self.programs(party.member, scopes, name)

    def sign_in(self, user: User) -> SessionCaller:
        """A fresh browser (its own cookie jar) signed in as ``user``."""
        return browser_sign_in(self.app, user.email, self.app.config["DEMO_PASSWORD"])

    def endpoint(self, party: Party, receiver=None, *, url=None, expect=201, **fields) -> dict:
        """Register an endpoint of ``party`` (at ``receiver`` unless ``url``); the
        receiver is told the secret. Returns the creation answer (with ``secret``)."""
        body = {"url": url or receiver.url, **fields}
        response = party.api.post("/api/v1/webhooks/endpoints", json=body)
        assert response.status_code == expect, response.get_data(as_text=True)
        if receiver is not None and hasattr(receiver, "use_secret"):
            receiver.use_secret(response.json["secret"])
        return response.json

    def note(self, caller, case_id: int, text: str) -> dict:
        response = caller.post(f"/api/v1/cases/{case_id}/notes", json={"body": text})
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json

    def attach(self, caller, case_id: int, name: str, data: bytes) -> dict:
        response = caller.post(
            f"/api/v1/cases/{case_id}/attachments",
            data={"file": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json

    def set_reference(self, caller, case_id: int, reference: str | None) -> dict:
        response = caller.patch(f"/api/v1/cases/{case_id}", json={"reference": reference})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json


@pytest.fixture()
def programs(client, make_client, fetch_token):
    """``programs(member, scopes, name)`` -> (ApiCaller, client_id) of a new program."""

    def make(member, scopes, name="tracker"):
        oauth_client, secret = make_client(member=member, scopes=scopes, name=name)
        return ApiCaller(client, fetch_token(oauth_client, secret)), oauth_client.client_id

    return make


@pytest.fixture()
def hooks(app, programs) -> Hooks:
    from exchange.db import transaction

    with transaction():
        load_demo()
    return Hooks(app, programs)


# -- the worker -----------------------------------------------------------------------


def deliver(now: datetime | None = None) -> int:
    """One worker round (claim, post, record); how many deliveries were attempted."""
    return dispatch.deliver_due(now=now)


def drain(now: datetime | None = None, rounds: int = 100) -> int:
    """Worker rounds until nothing is due; how many attempts were made."""
    total = 0
    for _ in range(rounds):
        done = deliver(now)
        if not done:
            return total
        total += done
    raise AssertionError(f"still delivering after {rounds} rounds")


def settle(start: datetime, rounds: int = 400) -> datetime:
    """Worker rounds on a simulated clock, jumping to each next due time, until no
    delivery of an enabled endpoint is pending; returns the clock's last reading."""
    at = start
    for _ in range(rounds):
        if deliver(at):
            continue
        db.session.expire_all()
        later = db.session.scalar(
            select(func.min(Delivery.next_attempt_at))
            .join(WebhookEndpoint)
            .where(
                Delivery.status == "pending",
                Delivery.next_attempt_at > at,
                WebhookEndpoint.enabled.is_(True),
            )
        )
        if later is None:
            return at
        at = later
    raise AssertionError(f"still delivering after {rounds} rounds")


def deliveries(endpoint_id: int | None = None, **where) -> list[Delivery]:
    stmt = select(Delivery).order_by(Delivery.id)
    if endpoint_id is not None:
        stmt = stmt.where(Delivery.endpoint_id == endpoint_id)
    for name, value in where.items():
        stmt = stmt.where(getattr(Delivery, name) == value)
    db.session.expire_all()
    return list(db.session.scalars(stmt))


def attempts(delivery: Delivery) -> list[DeliveryAttempt]:
    return list(
        db.session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id == delivery.id)
            .order_by(DeliveryAttempt.id)
        )
    )


def endpoint_row(endpoint_id: int) -> WebhookEndpoint:
    db.session.expire_all()
    return db.session.get(WebhookEndpoint, endpoint_id)


def verify_both(secret: str, request: Request) -> dict:
    """Verify a received request with the standardwebhooks and svix libraries."""
    from svix.webhooks import Webhook as SvixWebhook

    message = Webhook(secret).verify(request.body, request.headers)
    SvixWebhook(secret).verify(request.body, request.headers)
    assert message == json.loads(request.body)
    return message


def now() -> datetime:
    return clock.now()
