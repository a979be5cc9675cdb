"""E-mail to people: queued with the change, sent by the worker over a real SMTP server
on loopback (aiosmtpd), or written as .eml files when no SMTP server is configured."""

import email
import socket
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller

from exchange.db import transaction
from exchange.notifications import mailer, service
from exchange.notifications.models import Message
from exchange.webhooks import service as webhooks
from exchange.webhooks.dispatch import record
from exchange.webhooks.models import Delivery
from exchange.webhooks.sender import Result

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
# Everything the tests make, the demo's published processes included, is made at NOW.
pytestmark = pytest.mark.clock(NOW)


class Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def smtp_server(app):
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    saved = {k: app.config[k] for k in ("MAIL_SMTP_HOST", "MAIL_SMTP_PORT", "MAIL_SMTP_SECURITY")}
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=port, MAIL_SMTP_SECURITY="none")
    yield inbox
    app.config.update(saved)
    controller.stop()


@pytest.fixture()
def endpoint(app, make_user):
    from exchange.auth.actor import actor_for_user

    admin = make_user(roles=["admin"], email="admin@m.example")
    make_user(member=admin.member, roles=["engineer"], email="eng@m.example")
    app.config["WEBHOOKS_ALLOW_PRIVATE_NETWORKS"] = True
    try:
        with transaction():
            created, _ = webhooks.create_endpoint(
                actor=actor_for_user(admin), url="http://127.0.0.1:9/hook", event_types=["*"]
            )
    finally:
        app.config["WEBHOOKS_ALLOW_PRIVATE_NETWORKS"] = False
    return created


def _fail(endpoint, status, now):
    with transaction():
        delivery = webhooks.enqueue(endpoint=endpoint, event_type="ping", data={}, now=now)
        Delivery.query.session.flush()
        record(delivery, Result(status, 5, f"http_{status // 100}xx", ""), now)


def test_a_disabled_endpoint_mails_its_admins_over_smtp(endpoint, smtp_server):
    _fail(endpoint, 410, NOW)
    queued = Message.query.filter_by(kind="endpoint_disabled").all()
    assert [m.to_address for m in queued] == ["admin@m.example"]  # admins only
    assert mailer.send_due(now=NOW) == 1
    assert queued[0].status == "sent"
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["admin@m.example"]
    parsed = email.message_from_bytes(envelope.content)
    assert parsed["Subject"] == "Webhook endpoint disabled"
    kinds = {part.get_content_type() for part in parsed.walk()}
    assert {"text/plain", "text/html"} <= kinds
    assert "410 Gone" in parsed.get_payload()[0].get_payload(decode=True).decode()


def test_a_failing_endpoint_warns_once_after_a_day(endpoint, smtp_server):
    _fail(endpoint, 503, NOW)
    _fail(endpoint, 503, NOW + timedelta(hours=23))
    assert Message.query.filter_by(kind="endpoint_failing").count() == 0
    _fail(endpoint, 503, NOW + timedelta(days=1, minutes=1))
    _fail(endpoint, 503, NOW + timedelta(days=2))
    assert Message.query.filter_by(kind="endpoint_failing").count() == 1
    _fail(endpoint, 503, NOW + timedelta(days=5, minutes=1))
    assert endpoint.enabled is False
    assert Message.query.filter_by(kind="endpoint_disabled").count() == 1
    assert mailer.send_due(now=NOW + timedelta(days=6)) == 2
    assert len(smtp_server.envelopes) == 2


def test_without_smtp_mail_is_written_as_eml_files(app, endpoint, mail_folder):
    _fail(endpoint, 410, NOW)
    assert mailer.send_due(now=NOW) == 1
    [written] = list(mail_folder.glob("*.eml"))
    parsed = email.message_from_bytes(written.read_bytes())
    assert parsed["To"] == "admin@m.example"


def test_a_failing_smtp_server_delays_mail_with_retries(app, endpoint):
    saved = app.config["MAIL_SMTP_HOST"], app.config["MAIL_SMTP_PORT"]
    app.config.update(
        MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=_free_port(), MAIL_SMTP_SECURITY="none"
    )
    try:
        _fail(endpoint, 410, NOW)
        assert mailer.send_due(now=NOW) == 1
        message = Message.query.filter_by(kind="endpoint_disabled").one()
        assert message.status == "pending" and message.attempts == 1
        assert message.last_error.startswith("ConnectionRefusedError")
        assert NOW + timedelta(seconds=50) <= message.next_attempt_at <= NOW + timedelta(seconds=70)
        assert mailer.send_due(now=NOW + timedelta(seconds=30)) == 0  # not due yet
        later = NOW
        for _ in range(5):
            later += timedelta(hours=7)
            mailer.send_due(now=later)
        assert message.status == "failed" and message.attempts == 6
    finally:
        app.config["MAIL_SMTP_HOST"], app.config["MAIL_SMTP_PORT"] = saved
        app.config["MAIL_SMTP_SECURITY"] = "starttls"


def test_admins_see_their_members_mail(client, login, endpoint, make_user):
    _fail(endpoint, 410, NOW)
    admin = endpoint.member.users[0]
    login(admin)
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "Webhook endpoint disabled" in page and "admin@m.example" in page


def test_engineers_cannot_see_the_mail_page(client, login, make_user):
    login(make_user(roles=["engineer"]))
    assert client.get("/admin/mail").status_code == 403


def test_queue_writes_a_row_only(app, make_member):
    member = make_member()
    with transaction():
        message = service.queue(
            to="x@y.example",
            template="endpoint_disabled",
            subject="s",
            kind="test",
            member=member,
            endpoint=type("E", (), {"url": "u", "id": 1})(),
            reason="r",
        )
    assert message.status == "pending" and "u" in message.text_body


def _row(member, to: str, subject: str) -> Message:
    # Written directly, as an older release or a bug elsewhere could have left it: the
    # mail round must cope with any row, not only with what today's entrances accept.
    message = Message(
        kind="test",
        member_id=member.id,
        to_address=to,
        subject=subject,
        text_body="body",
        html_body="<p>body</p>",
        status="pending",
        next_attempt_at=NOW,
        attempts=0,
    )
    Message.query.session.add(message)
    return message


def test_one_unsendable_message_fails_alone_and_the_round_goes_on(make_member, smtp_server):
    first, other = make_member(), make_member()
    with transaction():
        before = _row(first, "a@first.example", "Before")
        poisoned = _row(first, "b@first.example", "Case 12: disk full\nBcc: all@evil.example")
        after = _row(other, "c@other.example", "After")
    assert mailer.send_due(now=NOW) == 3
    assert (before.status, after.status) == ("sent", "sent")
    assert sorted(e.rcpt_tos[0] for e in smtp_server.envelopes) == [
        "a@first.example",
        "c@other.example",
    ]
    # Failed at once, not retried: the same row would fail the same way every time.
    assert poisoned.status == "failed" and poisoned.attempts == 1
    assert poisoned.lease_until is None and poisoned.sent_at is None
    assert "linefeed" in poisoned.last_error
    assert mailer.send_due(now=NOW + timedelta(days=1)) == 0
    assert len(smtp_server.envelopes) == 2
