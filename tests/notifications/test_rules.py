"""Who is mailed about what happens to a case, and the worker's housekeeping: automatic
closing of resolved cases, inactivity reminders, hourly update reminders, and product
lifecycle notices."""

from datetime import UTC, date, datetime, timedelta

import pytest

from exchange.cases import service as cases
from exchange.cases.models import CaseEvent
from exchange.cases.service.clock import scan_deadlines
from exchange.db import transaction
from exchange.members import service as members
from exchange.notifications.models import Message
from tests.notifications.conftest import T0, open_case

# Everything the tests make, the demo's published processes included, is made at T0.
pytestmark = pytest.mark.clock(T0)


def who(**filters):
    return sorted(m.to_address for m in Message.query.filter_by(**filters))


def test_a_new_case_mails_the_designated_contact_and_opted_in_engineers(demo):
    with transaction():
        members.update_user(
            actor=demo["gina"],
            user=demo["users"]["gina@globex.example"],
            changes={"notifications": {"case_opened": True}},
        )
    case = open_case(demo)
    assert who(kind="case_opened") == ["gina@globex.example", "support@globex.example"]
    message = Message.query.filter_by(to_address="gina@globex.example").one()
    assert case.number in message.subject and f"/cases/{case.id}" in message.text_body
    assert "Paths lost" in message.html_body


def test_progress_notes_and_escalation_reach_the_right_people(demo):
    case = open_case(demo)
    Message.query.delete()
    with transaction():
        cases.accept(actor=demo["gustav"], case_id=case.id, now=T0 + timedelta(minutes=5))
    assert who() == ["ed@acme.example"]
    with transaction():
        cases.add_note(
            actor=demo["gustav"], case_id=case.id, body="Logs please", now=T0 + timedelta(minutes=6)
        )
        cases.add_note(
            actor=demo["ed"], case_id=case.id, body="Attached", now=T0 + timedelta(minutes=7)
        )
    assert who(kind="notes") == ["ed@acme.example", "gustav@globex.example"]
    with transaction():
        cases.escalate(
            actor=demo["ed"],
            case_id=case.id,
            reason="Down for hours",
            now=T0 + timedelta(minutes=8),
        )
    assert who(kind="escalations") == ["georg@globex.example", "max@acme.example"]


def test_switched_off_kinds_are_not_mailed(demo):
    with transaction():
        members.update_user(
            actor=demo["ed"],
            user=demo["users"]["ed@acme.example"],
            changes={"notifications": {"case_progress": False}},
        )
    case = open_case(demo)
    with transaction():
        cases.accept(actor=demo["gustav"], case_id=case.id, now=T0 + timedelta(minutes=5))
    assert who(kind="case_progress") == []


def test_a_test_case_mails_only_its_submitter(demo):
    case = open_case(demo, test=True)
    assert who() == []
    with transaction():
        cases.accept(actor=demo["gustav"], case_id=case.id, now=T0 + timedelta(minutes=5))
        cases.add_note(actor=demo["ed"], case_id=case.id, body="x", now=T0 + timedelta(hours=1))
    assert who() == ["ed@acme.example"]


def test_a_resolved_case_is_closed_automatically_after_a_notice(demo):
    case = open_case(demo)
    with transaction():
        cases.accept(actor=demo["gustav"], case_id=case.id, now=T0)
        cases.resolve(actor=demo["gustav"], case_id=case.id, resolution="Fixed", now=T0)
    Message.query.delete()
    scan_deadlines(now=T0 + timedelta(days=4))
    assert who() == []
    scan_deadlines(now=T0 + timedelta(days=5, minutes=1))
    assert who() == ["ed@acme.example"]
    assert "closes automatically" in Message.query.one().subject
    scan_deadlines(now=T0 + timedelta(days=7, minutes=1))
    assert case.status == "closed"
    last = CaseEvent.query.filter_by(case_id=case.id).order_by(CaseEvent.sequence.desc()).first()
    assert last.type == "case.closed" and last.data["automatic"] and last.side == "system"


def test_reopening_cancels_the_automatic_close(demo):
    case = open_case(demo)
    with transaction():
        cases.accept(actor=demo["gustav"], case_id=case.id, now=T0)
        cases.resolve(actor=demo["gustav"], case_id=case.id, resolution="Fixed", now=T0)
        cases.reopen(actor=demo["ed"], case_id=case.id, reason="Back", now=T0 + timedelta(days=1))
    scan_deadlines(now=T0 + timedelta(days=8))
    assert case.status == "accepted"


def test_an_idle_accepted_case_reminds_both_engineers(demo):
    case = open_case(demo)
    with transaction():
        cases.accept(actor=demo["gustav"], case_id=case.id, now=T0)
    Message.query.delete()

    def idle():
        return sorted(m.to_address for m in Message.query if "No activity" in m.subject)

    scan_deadlines(now=T0 + timedelta(days=29))
    assert idle() == []
    scan_deadlines(now=T0 + timedelta(days=30, minutes=1))
    assert idle() == ["ed@acme.example", "gustav@globex.example"]


def test_an_overdue_update_reminds_the_receiving_engineer_hourly(demo):
    case = open_case(demo)
    with transaction():
        cases.accept(actor=demo["gustav"], case_id=case.id, now=T0)
    Message.query.delete()
    due = case.next_update_due_at
    scan_deadlines(now=due + timedelta(minutes=1))
    assert who(kind="reminders") == ["gustav@globex.example"]
    scan_deadlines(now=due + timedelta(minutes=30))
    assert len(who(kind="reminders")) == 1
    scan_deadlines(now=due + timedelta(minutes=62))
    assert len(who(kind="reminders")) == 2
    with transaction():  # the receiver's update ends the reminders
        cases.add_note(
            actor=demo["gustav"], case_id=case.id, body="Update", now=due + timedelta(minutes=70)
        )
    assert case.update_reminder_at is None


def test_end_of_support_is_announced_once_and_open_cases_are_flagged(demo, app):
    from exchange.members.service import products

    hypervisor = members.get_member(slug="globex")
    version = products.list_products(member=hypervisor)[0][1][-1]  # 8.0
    case = open_case(demo, product={"name": "Globex Hypervisor", "version": version.version})
    assert case.product_obsolete is False and case.product_version_id == version.id
    with transaction():
        version.end_of_support_date = date(2027, 2, 1)
    now = datetime(2026, 11, 10, tzinfo=UTC)  # 83 days before
    with transaction():
        assert products.scan_end_of_support(now=now) == 1
        assert products.scan_end_of_support(now=now + timedelta(days=1)) == 0
    assert who(kind="end_of_support") == ["admin@globex.example"]
    scan_deadlines(now=datetime(2027, 2, 2, tzinfo=UTC))
    assert case.product_obsolete is True
    assert CaseEvent.query.filter_by(case_id=case.id, type="case.product_obsolete").count() == 1
    scan_deadlines(now=datetime(2027, 2, 3, tzinfo=UTC))
    assert CaseEvent.query.filter_by(case_id=case.id, type="case.product_obsolete").count() == 1


def test_nobody_outside_the_two_parties_is_mailed(demo):
    case = open_case(demo)
    with transaction():
        cases.accept(actor=demo["gustav"], case_id=case.id, now=T0)
        cases.escalate(actor=demo["gustav"], case_id=case.id, reason="x", now=T0)
        cases.add_note(actor=demo["ed"], case_id=case.id, body="x", now=T0)
    domains = {m.to_address.split("@")[1] for m in Message.query}
    assert domains <= {"acme.example", "globex.example"}


# -- what mailed nobody before: severity, reopen, close, withdrawal, assignment, notes --


def accepted_case(demo):
    case = open_case(demo)
    with transaction():
        cases.accept(actor=demo["gustav"], case_id=case.id, now=T0 + timedelta(minutes=5))
    Message.query.delete()
    return case


def test_a_severity_change_mails_the_other_sides_engineer(demo):
    case = accepted_case(demo)
    with transaction():
        cases.change_severity(
            actor=demo["gustav"],
            case_id=case.id,
            severity="1",
            business_impact="All hosts down",
            now=T0 + timedelta(minutes=10),
        )
    assert who(kind="case_progress") == ["ed@acme.example"]
    message = Message.query.one()
    assert "Severity changed" in message.subject
    assert "Business impact: All hosts down" in message.text_body
    assert "Severity: 2 → 1" in message.text_body
    Message.query.delete()
    with transaction():
        cases.change_severity(
            actor=demo["ed"],
            case_id=case.id,
            severity="3",
            business_impact="A workaround holds",
            now=T0 + timedelta(minutes=20),
        )
    assert who(kind="case_progress") == ["gustav@globex.example"]


def test_a_reopen_and_a_close_by_the_submitter_mail_the_receiving_engineer(demo):
    case = accepted_case(demo)
    with transaction():
        cases.resolve(actor=demo["gustav"], case_id=case.id, resolution="Patched", now=T0)
    Message.query.delete()
    with transaction():
        cases.reopen(
            actor=demo["ed"], case_id=case.id, reason="Paths lost again", now=T0 + timedelta(1)
        )
    assert who(kind="case_progress") == ["gustav@globex.example"]
    message = Message.query.one()
    assert "reopened" in message.subject and "Reason: Paths lost again" in message.text_body
    with transaction():
        cases.resolve(actor=demo["gustav"], case_id=case.id, resolution="Patched", now=T0)
    Message.query.delete()
    with transaction():
        cases.close(actor=demo["ed"], case_id=case.id, now=T0 + timedelta(days=2))
    assert who(kind="case_progress") == ["gustav@globex.example"]
    assert "closed" in Message.query.one().subject


def test_a_withdrawal_mails_the_receivers_support_contact(demo):
    case = open_case(demo)
    Message.query.delete()
    with transaction():
        cases.withdraw(
            actor=demo["ed"],
            case_id=case.id,
            explanation="Found the cable",
            now=T0 + timedelta(minutes=3),
        )
    assert who(kind="case_progress") == ["support@globex.example"]
    message = Message.query.one()
    assert "withdrew" in message.subject and "Explanation: Found the cable" in message.text_body


def test_a_newly_assigned_engineer_is_mailed_unless_switched_off(demo):
    case = accepted_case(demo)
    with transaction():
        cases.assign(actor=demo["gustav"], case_id=case.id, engineer="gina@globex.example", now=T0)
    assert who(kind="assignments") == ["gina@globex.example"]
    assert "assigned" in Message.query.one().subject
    Message.query.delete()
    with transaction():  # taking a case oneself mails nobody
        cases.assign(
            actor=demo["gustav"], case_id=case.id, engineer="gustav@globex.example", now=T0
        )
    assert who() == []
    with transaction():
        members.update_user(
            actor=demo["gina"],
            user=demo["users"]["gina@globex.example"],
            changes={"notifications": {"assignments": False}},
        )
        cases.assign(actor=demo["gustav"], case_id=case.id, engineer="gina@globex.example", now=T0)
    assert who() == []


def test_note_mail_carries_the_note_escaped_in_html(demo):
    case = accepted_case(demo)
    text = "Run <b>esxcli</b> & send\nthe output"
    with transaction():
        cases.add_note(actor=demo["ed"], case_id=case.id, body=text, now=T0)
    message = Message.query.filter_by(kind="notes").one()
    assert message.to_address == "gustav@globex.example"
    assert text in message.text_body
    assert "<b>esxcli</b>" not in message.html_body
    assert "Run &lt;b&gt;esxcli&lt;/b&gt; &amp; send\nthe output" in message.html_body


def test_mail_links_follow_the_port_served_on(app, monkeypatch):
    from exchange import create_app

    monkeypatch.setenv("PORT", "8123")
    monkeypatch.delenv("EXCHANGE_BASE_URL", raising=False)
    settings = {"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": app.config["DATABASE_URL"]}
    served = create_app(settings)
    assert served.config["BASE_URL"] == "http://127.0.0.1:8123"
    # A configured address wins over the port.
    chosen = create_app({**settings, "BASE_URL": "https://exchange.example"})
    assert chosen.config["BASE_URL"] == "https://exchange.example"
    monkeypatch.delenv("PORT")
    assert create_app(settings).config["BASE_URL"] == "http://127.0.0.1:8000"


def test_a_redaction_takes_the_note_out_of_mail_kept_or_not_yet_sent(demo):
    case = accepted_case(demo)
    secret, other = "Root password: hunter2 <b>", "Second note stays"
    with transaction():
        first = cases.add_note(actor=demo["ed"], case_id=case.id, body=secret, now=T0)
        cases.add_note(actor=demo["ed"], case_id=case.id, body=other, now=T0)
    sent, pending = Message.query.filter_by(kind="notes").order_by(Message.id).all()
    with transaction():
        sent.status = "sent"  # one went out already: the exchange's copy is cleaned too
    assert secret in sent.text_body and "hunter2 &lt;b&gt;" in sent.html_body
    with transaction():
        cases.redact_note(
            actor=demo["admin"], case_id=case.id, note_id=first.id, now=T0 + timedelta(1)
        )
    for message in Message.query.filter_by(kind="notes"):
        assert "hunter2" not in message.text_body and "hunter2" not in message.html_body
    assert f"--- note {first.id} ---\n[redacted]\n--- end of note" in sent.text_body
    assert f'data-note="{first.id}" style="white-space: pre-wrap">[redacted]<' in sent.html_body
    assert other in pending.text_body and other in pending.html_body
