"""Case clocks on the receiver's coverage calendar: the response deadline (paused while
information is requested), the update cadence, overdue notices once per breach, and
the receiver's escalation path walked automatically."""

import copy
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from exchange.auth.actor import actor_for_user
from exchange.cases import service as cases
from exchange.cases.documents import case_document
from exchange.cases.models import CaseEvent, Side
from exchange.cases.service.clock import scan_deadlines
from exchange.db import transaction
from exchange.processes import service as processes

BERLIN = ZoneInfo("Europe/Berlin")
FRIDAY_1730 = datetime(2026, 11, 27, 17, 30, tzinfo=BERLIN)


def berlin(*args):
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture()
def world(make_member, make_user):
    submitter, receiver = make_member(slug="sub"), make_member(slug="rec")
    sub_engineer = make_user(member=submitter, roles=["engineer"])
    rec_admin = make_user(member=receiver, roles=["admin", "engineer"])
    rec_engineer = make_user(member=receiver, roles=["engineer"])
    admin = actor_for_user(rec_admin)
    with transaction():
        manager = processes.create_contact(
            actor=admin,
            member=receiver,
            data={
                "name": "Esther Escalation",
                "role": "escalation_manager",
                "email": "em@rec.example",
            },
        )
        director = processes.create_contact(
            actor=admin,
            member=receiver,
            data={"name": "Dora Director", "role": "support_manager", "email": "dd@rec.example"},
        )
        process = processes.create_process(
            actor=admin,
            member=receiver,
            content={
                "name": "Office hours",
                "coverage": {
                    "mode": "business_hours",
                    "time_zone": "Europe/Berlin",
                    "hours": [
                        {"day": d, "start": "08:00", "end": "18:00"}
                        for d in ("mon", "tue", "wed", "thu", "fri")
                    ],
                },
                "severities": [
                    {"key": "1", "name": "Down", "response_minutes": 60, "update_minutes": 60},
                    {"key": "3", "name": "Minor", "response_minutes": 240},
                    {"key": "4", "name": "Request", "response_minutes": None},
                ],
                "escalation_path": [
                    {"name": "Manager", "after_minutes": 60, "contacts": [manager.id]},
                    {"name": "Director", "after_minutes": 120, "contacts": [director.id]},
                ],
            },
        )
        processes.publish(actor=admin, process=process, now=berlin(2026, 11, 1, 0, 0))
    return {
        "submitter": actor_for_user(sub_engineer),
        "receiver": actor_for_user(rec_engineer),
        "process": process,
        "admin": admin,
    }


def _open(world, severity="1", now=FRIDAY_1730):
    with transaction():
        return cases.open_case(
            actor=world["submitter"],
            receiver="rec",
            severity=severity,
            summary="Outage",
            description="Everything is down.",
            now=now,
            customer={
                "company": "Umbrella",
                "contact_name": "Ann",
                "contact_email": "ann@umbrella.example",
            },
        )


@pytest.mark.clock(datetime(2026, 10, 1, 12, 0, tzinfo=BERLIN))
def test_a_case_opened_at_a_given_time_uses_the_process_in_force_then(world):
    # The clock stands a month before the process takes effect; a case opened (by a
    # service call with ``now``) after that day finds it, as it would have then.
    case = _open(world)
    assert case.process_id == world["process"].id


def _types(case):
    return [e.type for e in CaseEvent.query.filter_by(case_id=case.id).order_by(CaseEvent.sequence)]


def test_friday_evening_severity_1_is_due_on_monday_morning(world):
    case = _open(world)
    assert case.response_due_at == berlin(2026, 11, 30, 8, 30)
    view = case_document(case, Side.submitter, berlin(2026, 11, 30, 8, 0))
    assert view["deadlines"]["response"]["state"] == "running"
    assert view["deadlines"]["response"]["remaining_seconds"] == 30 * 60


def test_as_negotiated_has_no_deadline(world):
    case = _open(world, severity="4")
    assert case.response_due_at is None
    assert (
        case_document(case, Side.receiver, FRIDAY_1730)["deadlines"]["response"]["state"] == "none"
    )


def test_missed_response_is_announced_once_and_walks_the_escalation_path(world):
    case = _open(world)
    assert scan_deadlines(now=berlin(2026, 11, 27, 23, 0)) == 0
    # Monday 08:31: the commitment and the first tier (both 60 minutes) have passed.
    assert scan_deadlines(now=berlin(2026, 11, 30, 8, 31)) == 2
    assert scan_deadlines(now=berlin(2026, 11, 30, 8, 45)) == 0  # once per breach
    assert case.escalation_level == 1
    assert case.receiver_escalation_manager["name"] == "Esther Escalation"
    # 09:31: 120 minutes without a response reach the second tier.
    assert scan_deadlines(now=berlin(2026, 11, 30, 9, 31)) == 1
    assert case.escalation_level == 2 and case.next_escalation_at is None
    assert _types(case) == [
        "case.opened",
        "case.response_overdue",
        "case.escalated",
        "case.escalated",
    ]
    escalations = CaseEvent.query.filter_by(case_id=case.id, type="case.escalated").all()
    assert escalations[1].data["contacts"][0]["name"] == "Dora Director"
    assert all(e.side == "system" and e.origin == "system" for e in escalations)
    view = case_document(case, Side.submitter, berlin(2026, 11, 30, 9, 31))
    assert view["deadlines"]["response"]["state"] == "breached"


def test_the_clock_stops_while_information_is_requested(world):
    case = _open(world, now=berlin(2026, 11, 30, 9, 0))  # Monday, due 10:00
    with transaction():
        cases.request_information(
            actor=world["receiver"],
            case_id=case.id,
            question="Which version?",
            now=berlin(2026, 11, 30, 9, 40),
        )
    assert case.response_due_at is None and case.next_escalation_at is None
    paused = case_document(case, Side.submitter, berlin(2026, 11, 30, 12, 0))
    assert paused["deadlines"]["response"] == {
        "due_at": None,
        "state": "paused",
        "remaining_seconds": 20 * 60,
    }
    assert scan_deadlines(now=berlin(2026, 12, 1, 9, 0)) == 0
    with transaction():
        cases.provide_information(
            actor=world["submitter"],
            case_id=case.id,
            answer="8.0",
            now=berlin(2026, 11, 30, 17, 50),
        )
    # 20 minutes left: 10 on Monday, 10 on Tuesday morning.
    assert case.response_due_at == berlin(2026, 12, 1, 8, 10)


def test_a_severity_change_re_times_the_running_clock(world):
    case = _open(world, severity="3", now=berlin(2026, 11, 30, 9, 0))
    assert case.response_due_at == berlin(2026, 11, 30, 13, 0)
    with transaction():
        cases.change_severity(
            actor=world["submitter"],
            case_id=case.id,
            severity="1",
            business_impact="Production is down now.",
            now=berlin(2026, 11, 30, 9, 30),
        )
    assert case.response_due_at == berlin(2026, 11, 30, 10, 0)


def test_update_cadence_is_kept_by_the_receiver(world):
    case = _open(world, now=berlin(2026, 11, 30, 9, 0))
    with transaction():
        cases.accept(actor=world["receiver"], case_id=case.id, now=berlin(2026, 11, 30, 9, 20))
    assert case.response_due_at is None and case.responded_at is not None
    assert case.next_update_due_at == berlin(2026, 11, 30, 10, 20)
    with transaction():
        cases.add_note(
            actor=world["receiver"],
            case_id=case.id,
            body="Working on it.",
            now=berlin(2026, 11, 30, 10, 0),
        )
    assert case.next_update_due_at == berlin(2026, 11, 30, 11, 0)
    with transaction():  # the submitter's notes do not count as updates
        cases.add_note(
            actor=world["submitter"],
            case_id=case.id,
            body="Any news?",
            now=berlin(2026, 11, 30, 10, 30),
        )
    assert case.next_update_due_at == berlin(2026, 11, 30, 11, 0)
    assert scan_deadlines(now=berlin(2026, 11, 30, 11, 5)) == 1
    assert scan_deadlines(now=berlin(2026, 11, 30, 11, 6)) == 0
    assert _types(case)[-1] == "case.update_overdue"
    state = case_document(case, Side.submitter, berlin(2026, 11, 30, 11, 6))["deadlines"]
    assert state["update"]["state"] == "breached"
    assert state["response"]["state"] == "met"


def test_a_worker_that_was_down_fires_each_breach_once_in_order(world):
    first = _open(world, now=berlin(2026, 11, 30, 9, 0))
    second = _open(world, now=berlin(2026, 11, 30, 8, 30))
    assert scan_deadlines(now=berlin(2026, 12, 2, 12, 0)) == 6  # 2 breaches + 4 tiers
    for case in (first, second):
        assert _types(case).count("case.response_overdue") == 1
        assert case.escalation_level == 2
    assert scan_deadlines(now=berlin(2026, 12, 3, 12, 0)) == 0


def test_missed_deadlines_mail_the_right_people_once(world):
    from exchange.notifications.models import Message

    case = _open(world)
    with transaction():
        world["process"].member.support_contact_email = "desk@rec.example"
    scan_deadlines(now=berlin(2026, 11, 30, 9, 31))
    scan_deadlines(now=berlin(2026, 11, 30, 10, 0))
    mailed = sorted(
        (m.kind, m.to_address)
        for m in Message.query.filter(Message.kind.in_(["breaches", "escalations"]))
    )
    # The overdue response reaches the receiver's desk once; each tier's step reaches
    # its contacts and the paired escalation managers (the submitter side has none
    # here), once per step even though the scan ran twice.
    assert mailed == [
        ("breaches", "desk@rec.example"),
        ("escalations", "dd@rec.example"),
        ("escalations", "em@rec.example"),
        ("escalations", "em@rec.example"),
    ]
    assert case.escalation_level == 2


def test_a_scan_firing_many_alarms_writes_each_table_in_one_statement(world):
    """The insert sentinels: SQLite (which gives no order for INSERT ... RETURNING) as
    well as PostgreSQL write a scan's events and mail one statement per table, and each
    row still gets its own id back."""
    from sqlalchemy import event

    from exchange.db import db
    from exchange.notifications.models import Message

    opened = [_open(world) for _ in range(4)]
    inserts: list[str] = []

    def seen(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append(statement.split("(")[0].split()[-1])

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        # Monday 08:31: each case's response is overdue and its first tier due.
        assert scan_deadlines(now=berlin(2026, 11, 30, 8, 31)) == 8
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    # One transaction per kind of alarm: the overdue responses, then the escalations
    # (mailed to the escalation manager; nobody here is mailed overdue responses).
    assert inserts.count("case_events") == 2
    assert inserts.count("mail_messages") == 1
    for case in opened:
        assert _types(case) == ["case.opened", "case.response_overdue", "case.escalated"]
        rows = CaseEvent.query.filter_by(case_id=case.id).order_by(CaseEvent.sequence).all()
        assert [e.sequence for e in rows] == [1, 2, 3]
    mailed = Message.query.filter_by(to_address="em@rec.example").all()
    assert sorted(m.subject[:11] for m in mailed) == [f"[{c.number}]" for c in opened]


@pytest.fixture()
def severity_paths(world):
    """The receiver's process published again with a path per severity: severity 1
    pages the manager after 60 minutes and the director after 180; severity 3 reaches
    the manager only after 600; severity 4 keeps the untagged tier (every severity)."""
    admin = world["admin"]
    with transaction():
        draft = processes.start_draft(actor=admin, process=world["process"])
    content = copy.deepcopy(draft.content)
    manager, director = (tier["contacts"][0] for tier in content["escalation_path"])
    content["severities"][1]["response_minutes"] = 600
    content["escalation_path"] = [
        {"name": "Manager", "after_minutes": 60, "contacts": [manager], "severities": ["1"]},
        {"name": "VP", "after_minutes": 180, "contacts": [director], "severities": ["1"]},
        {"name": "Late manager", "after_minutes": 600, "contacts": [manager], "severities": ["3"]},
        {"name": "Anyone", "after_minutes": 30, "contacts": [manager], "severities": []},
    ]
    with transaction():
        processes.save_draft(actor=admin, process=world["process"], content=content)
        processes.publish(actor=admin, process=world["process"], now=berlin(2026, 11, 2, 0, 0))
    return world


def _escalations(case):
    return [
        (e.data["tier_name"], e.data["severity"])
        for e in CaseEvent.query.filter_by(case_id=case.id, type="case.escalated").order_by(
            CaseEvent.sequence
        )
    ]


def test_each_severity_walks_its_own_escalation_path(severity_paths):
    monday = berlin(2026, 11, 30, 9, 0)
    minor = _open(severity_paths, severity="3", now=monday)
    down = _open(severity_paths, severity="1", now=monday)
    request = _open(severity_paths, severity="4", now=monday)
    # 09:31: only the untagged tier (30 minutes) applies to severity 4; severity 1 waits
    # for its own first tier, severity 3 (a 10-hour window) pages nobody yet.
    scan_deadlines(now=berlin(2026, 11, 30, 9, 31))
    assert _escalations(request) == [("Anyone", "4")]
    assert _escalations(down) == [] and _escalations(minor) == []
    scan_deadlines(now=berlin(2026, 11, 30, 12, 1))  # 181 minutes of coverage time
    assert _escalations(down) == [("Manager", "1"), ("VP", "1")]
    assert down.next_escalation_at is None
    assert _escalations(minor) == []
    assert minor.next_escalation_at == berlin(2026, 12, 1, 9, 0)  # 600 minutes of office hours
    scan_deadlines(now=berlin(2026, 12, 1, 9, 1))
    assert _escalations(minor) == [("Late manager", "3")]
    assert minor.receiver_escalation_manager["name"] == "Esther Escalation"


def test_a_severity_change_switches_the_escalation_path(severity_paths):
    case = _open(severity_paths, severity="3", now=berlin(2026, 11, 30, 9, 0))
    assert case.next_escalation_at == berlin(2026, 12, 1, 9, 0)
    with transaction():
        cases.change_severity(
            actor=severity_paths["submitter"],
            case_id=case.id,
            severity="1",
            business_impact="Production is down now.",
            now=berlin(2026, 11, 30, 10, 30),
        )
    # 90 minutes used: severity 1's first tier (60) is due at once, its second at 180.
    assert case.next_escalation_at == berlin(2026, 11, 30, 10, 0)
    scan_deadlines(now=berlin(2026, 11, 30, 10, 31))
    assert _escalations(case) == [("Manager", "1")]
    assert case.next_escalation_at == berlin(2026, 11, 30, 12, 0)
    with transaction():
        cases.change_severity(
            actor=severity_paths["submitter"],
            case_id=case.id,
            severity="3",
            business_impact="A workaround is in place.",
            now=berlin(2026, 11, 30, 11, 0),
        )
    # Severity 3's path has one tier and one tier was walked: nothing more to page.
    assert case.next_escalation_at is None
    assert scan_deadlines(now=berlin(2026, 11, 30, 18, 0)) == 0


def test_information_asked_after_accepting_stops_only_the_update_cadence(world):
    case = _open(world, now=berlin(2026, 11, 30, 9, 0))
    with transaction():
        cases.accept(actor=world["receiver"], case_id=case.id, now=berlin(2026, 11, 30, 9, 20))
        cases.request_information(
            actor=world["receiver"],
            case_id=case.id,
            question="Please send the logs.",
            now=berlin(2026, 11, 30, 9, 30),
        )
    # The response was met at acceptance and stays met; no update is owed while the
    # receiver waits for the answer, and nothing escalates.
    asked = case_document(case, Side.submitter, berlin(2026, 11, 30, 15, 0))
    assert asked["status"] == "information_requested"
    assert asked["deadlines"]["response"]["state"] == "met"
    assert asked["deadlines"]["update"]["state"] == "none"
    assert case.next_escalation_at is None and case.response_due_at is None
    assert scan_deadlines(now=berlin(2026, 12, 7, 9, 0)) == 0
    with transaction():
        cases.provide_information(
            actor=world["submitter"],
            case_id=case.id,
            answer="Attached.",
            now=berlin(2026, 11, 30, 16, 0),
        )
    # Back to accepted: the cadence (an hour for severity 1) runs again from the answer.
    assert case.status == "accepted"
    assert case.next_update_due_at == berlin(2026, 11, 30, 17, 0)
    assert case.response_due_at is None and case.response_breached_at is None
    answered = case_document(case, Side.receiver, berlin(2026, 11, 30, 16, 5))
    assert answered["deadlines"]["response"]["state"] == "met"
