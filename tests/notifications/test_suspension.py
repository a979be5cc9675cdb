"""Mail to the people and contacts of a suspended member is held, not dropped: it goes
out, through the real outbox, once the member is reactivated."""

from __future__ import annotations

import email
from datetime import timedelta

import pytest

from exchange.cases import service as cases
from exchange.db import transaction
from exchange.members import service as members
from exchange.notifications import mailer
from exchange.notifications.models import Message
from tests.notifications.conftest import T0, open_case

pytestmark = pytest.mark.clock(T0)


def _recipients(folder) -> list[str]:
    return sorted(
        email.message_from_bytes(path.read_bytes())["To"] for path in folder.glob("*.eml")
    )


def _set_status(slug: str, status: str) -> None:
    with transaction():
        members.set_member_status(member=members.get_member(slug=slug), status=status)


def test_mail_to_a_suspended_members_people_waits_for_its_reactivation(demo, mail_folder):
    case = open_case(demo)
    with transaction():
        cases.accept(actor=demo["gustav"], case_id=case.id, now=T0)
        cases.add_note(actor=demo["ed"], case_id=case.id, body="Logs attached", now=T0)
    held = Message.query.filter(Message.to_address.like("%@globex.example")).all()
    assert {m.to_address for m in held} == {"support@globex.example", "gustav@globex.example"}

    _set_status("globex", "suspended")
    assert mailer.send_due(now=T0 + timedelta(minutes=1)) == 1
    assert _recipients(mail_folder) == ["ed@acme.example"]
    for message in held:
        assert (message.status, message.attempts, message.last_error) == ("pending", 0, None)
    # Still held rounds later: neither sent nor counted as a failed attempt.
    assert mailer.send_due(now=T0 + timedelta(days=3)) == 0

    _set_status("globex", "active")
    assert mailer.send_due(now=T0 + timedelta(days=3, minutes=1)) == 2
    assert _recipients(mail_folder) == [
        "ed@acme.example",
        "gustav@globex.example",
        "support@globex.example",
    ]
    assert {m.status for m in held} == {"sent"}
