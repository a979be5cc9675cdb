"""Secrets at rest and in logs: client secrets and access tokens are stored as digests,
webhook secrets encrypted, passwords hashed (checked in the raw rows); request lines
are redacted. ``run_flow`` (also used by test_secret_logs.py) handles every kind of
secret: a client and its token, a webhook endpoint, its rotated secret and a signed
delivery to a receiver on loopback, an invitation, a chosen password and a sign-in."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from exchange.auth.models import digest
from exchange.db import db
from exchange.web.security import REQUEST_LOGGERS
from tests.conftest import PASSWORD, basic_auth, csrf_token_from

NEW_PASSWORD = "a brand new passphrase"
LOGGERS = ("", "exchange", "sqlalchemy.engine", "sqlalchemy.pool", *REQUEST_LOGGERS)


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@contextlib.contextmanager
def every_log_at_debug():
    """Attach one handler to the root and to each logger that does not propagate, at
    DEBUG; SQLAlchemy's engine logging (statements and rows) is switched on too."""
    capture = Capture()
    capture.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    saved = []
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.setLevel(logging.DEBUG)
        logger.addHandler(capture)
    try:
        yield capture
    finally:
        for logger, level in saved:
            logger.removeHandler(capture)
            logger.setLevel(level)


def raw_row(table: str, where: str, **params) -> dict:
    row = db.session.execute(text(f"SELECT * FROM {table} WHERE {where}"), params).mappings()
    return dict(row.one())


def _form(client, url, data, page):
    """POST with the page's CSRF token under every name its forms use (a prefixed form's
    is ``<prefix>-csrf_token``), as a browser would."""
    html = client.get(page).get_data(as_text=True)
    names = set(re.findall(r'name="([\w-]*csrf_token)"', html)) | {"csrf_token"}
    return client.post(url, data={**data, **dict.fromkeys(names, csrf_token_from(html))})


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(dict(self.headers))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):  # its own request lines are not the exchange's
        pass


@contextlib.contextmanager
def receiver():
    """A tracker on loopback that accepts every webhook."""
    _Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks", _Receiver.received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def run_flow(app, client, login, make_user, config_value) -> dict:
    """Everything that handles a secret, over HTTP; returns the secrets it saw."""
    with receiver() as (url, received):
        seen = _flow(client, login, make_user, config_value, url)
        from exchange.webhooks import dispatch

        assert dispatch.deliver_due() == 1  # the ping, signed with both secrets
        assert received and received[0]["webhook-signature"].count("v1,") == 2
    return seen


def _flow(client, login, make_user, config_value, hook_url) -> dict:
    config_value("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", True)
    admin = make_user(roles=("admin",))
    slug = admin.member.slug
    login(admin)
    session_api = {"X-CSRFToken": csrf_token_from(client.get("/").get_data(as_text=True))}
    created = client.post(
        f"/api/v1/members/{slug}/clients",
        json={"name": "tracker", "scopes": ["webhooks:manage", "directory:read"]},
        headers=session_api,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    client_id, client_secret = created.json["client_id"], created.json["client_secret"]
    issued = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic_auth(client_id, client_secret),
    )
    assert issued.status_code == 200
    token = issued.json["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    endpoint = client.post("/api/v1/webhooks/endpoints", json={"url": hook_url}, headers=bearer)
    assert endpoint.status_code == 201, endpoint.get_data(as_text=True)
    rotated = client.post(
        f"/api/v1/webhooks/endpoints/{endpoint.json['id']}/rotate-secret",
        json={"grace_seconds": 60},
        headers=bearer,
    )
    assert rotated.status_code == 200, rotated.get_data(as_text=True)
    ping = client.post(f"/api/v1/webhooks/endpoints/{endpoint.json['id']}/ping", headers=bearer)
    assert ping.status_code in (200, 201, 202), ping.get_data(as_text=True)
    invited = _form(
        client,
        "/admin/users/invite",
        {
            "invite-email": f"newcomer@{slug}.example",
            "invite-name": "New Comer",
            "invite-time_zone": "UTC",
            "invite-roles": "engineer",
        },
        page="/admin/users",
    )
    assert invited.status_code == 200, invited.get_data(as_text=True)
    link = re.search(
        r"https?://[^\s\"'<]+/set-password/([^\s\"'<]+)", invited.get_data(as_text=True)
    )
    from exchange.notifications import mailer

    mailer.send_due(now=datetime.now(UTC))
    client.post("/logout", data={"csrf_token": session_api["X-CSRFToken"]})
    invitation = link.group(1)
    chosen = _form(
        client,
        f"/set-password/{invitation}",
        {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        page=f"/set-password/{invitation}",
    )
    assert chosen.status_code == 302, chosen.get_data(as_text=True)
    client.post(
        "/logout", data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))}
    )
    signed_in = _form(
        client,
        "/login",
        {"email": f"newcomer@{slug}.example", "password": NEW_PASSWORD},
        page="/login",
    )
    assert signed_in.status_code == 302
    revoked = client.post(
        "/oauth/revoke", data={"token": token}, headers=basic_auth(client_id, client_secret)
    )
    assert revoked.status_code == 200
    return {
        "client_id": client_id,
        "client secret": client_secret,
        "access token": token,
        "webhook secret": endpoint.json["secret"],
        "rotated webhook secret": rotated.json["secret"],
        "invitation token": invitation,
        "password": PASSWORD,
        "new password": NEW_PASSWORD,
        "endpoint_id": endpoint.json["id"],
        "user": admin,
    }


def test_secrets_are_stored_as_digests_ciphertexts_and_password_hashes(
    app, client, login, make_user, config_value
):
    seen = run_flow(app, client, login, make_user, config_value)
    oauth_client = raw_row("oauth_clients", "client_id = :c", c=seen["client_id"])
    assert seen["client secret"] not in str(oauth_client)
    assert oauth_client["secret_hash"] == digest(seen["client secret"])
    token = raw_row("oauth_tokens", "token_hash = :h", h=digest(seen["access token"]))
    assert seen["access token"] not in str(token)
    endpoint = raw_row("webhook_endpoints", "id = :i", i=seen["endpoint_id"])
    for secret in (seen["webhook secret"], seen["rotated webhook secret"]):
        bare = secret.removeprefix("whsec_")
        assert secret not in str(endpoint) and bare not in str(endpoint)
    from exchange.webhooks import signing

    assert signing.decrypt(endpoint["secret_encrypted"]) == seen["rotated webhook secret"]
    assert signing.decrypt(endpoint["previous_secret_encrypted"]) == seen["webhook secret"]
    for email, password in ((seen["user"].email, PASSWORD), (None, NEW_PASSWORD)):
        where, params = (
            ("email = :e", {"e": email}) if email else ("email LIKE :e", {"e": "newcomer@%"})
        )
        user = raw_row("users", where, **params)
        assert password not in str(user)
        assert user["password_hash"].startswith("pbkdf2:sha256")


@pytest.fixture()
def request_log_server():
    """A real werkzeug server on loopback whose request lines go to the werkzeug logger."""

    def app(environ, start_response):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no"]

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def test_request_lines_with_a_set_password_token_are_redacted(app, request_log_server):
    secret = "eyJlbWFpbCI6ImEifQ.ZZZ.signature-part"
    with every_log_at_debug() as capture:
        for path in (f"/set-password/{secret}", f"/cb?access_token={secret}&x=1"):
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(request_log_server + path, timeout=10)
    output = "\n".join(capture.lines)
    assert "/set-password/[redacted]" in output and "access_token=[redacted]" in output
    assert secret not in output


def test_gunicorns_access_lines_are_redacted(app):
    """gunicorn logs each request as a format string with a dict of atoms."""
    logger = logging.getLogger("gunicorn.access")
    capture, level = Capture(), logger.level
    logger.addHandler(capture)
    logger.setLevel(logging.INFO)  # as gunicorn_conf.py sets it
    try:
        logger.info(
            '%(h)s "%(r)s" %(s)s',
            {"h": "10.0.0.9", "r": "GET /set-password/abc.def.ghi HTTP/1.1", "s": "200"},
        )
    finally:
        logger.removeHandler(capture)
        logger.setLevel(level)
    assert capture.lines == ['10.0.0.9 "GET /set-password/[redacted] HTTP/1.1" 200']
