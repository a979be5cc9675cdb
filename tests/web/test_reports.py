"""Service reports: monthly figures per partner, charts, CSV export and the printable
monthly service review; test cases count nowhere."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from exchange.auth.actor import actor_for_user
from exchange.cases import service as cases
from exchange.cases.service import reports
from exchange.cases.service.clock import scan_deadlines
from exchange.db import transaction
from exchange.demo import load_demo
from exchange.members import service as members

MARCH = datetime(2027, 3, 9, 10, 0, tzinfo=UTC)  # a Tuesday in Globex office hours
# The demo is loaded (its processes take effect) before the first case of the year,
# whatever the real date is: the clock stands at the start of February 2027.
pytestmark = pytest.mark.clock(datetime(2027, 2, 1, 9, 0, tzinfo=UTC))


@pytest.fixture()
def world():
    load_demo()
    people = {
        e.split("@")[0]: actor_for_user(members.find_user_by_email(email=e))
        for e in ("ed@acme.example", "gustav@globex.example", "indira@initech.example")
    }
    return people


def opened(world, at, receiver="globex", actor="ed", test=False):
    intake = (
        {"hypervisor_version": "8.0", "cluster_hosts": 2, "admin_email": "o@u.example"}
        if receiver == "globex"
        else {"db_version": "13", "error_code": "INI-00600"}
    )
    with transaction():
        return cases.open_case(
            actor=world[actor],
            receiver=receiver,
            severity="3",
            summary="Slow",
            description="d",
            now=at,
            test=test,
            intake=intake,
            customer={"company": "U", "contact_name": "A", "contact_email": "a@u.example"},
        )


def test_monthly_figures(world):
    fast = opened(world, MARCH)
    with transaction():
        cases.accept(actor=world["gustav"], case_id=fast.id, now=MARCH + timedelta(minutes=30))
        cases.escalate(actor=world["ed"], case_id=fast.id, reason="x", now=MARCH)
        cases.resolve(
            actor=world["gustav"], case_id=fast.id, resolution="r", now=MARCH + timedelta(days=1)
        )
        cases.close(actor=world["ed"], case_id=fast.id, now=MARCH + timedelta(days=2))
    slow = opened(world, MARCH + timedelta(days=1))
    scan_deadlines(now=MARCH + timedelta(days=3))  # its 4-hour commitment is breached
    with transaction():
        cases.accept(actor=world["gustav"], case_id=slow.id, now=MARCH + timedelta(days=3))
    opened(world, MARCH, test=True)  # counted nowhere
    opened(world, datetime(2027, 2, 5, 9, 0, tzinfo=UTC), receiver="initech")

    months = reports.monthly(actor=world["ed"], year=2027)
    march, feb = months["2027-03"], months["2027-02"]
    assert (march.opened, march.closed, march.outbound, march.inbound) == (2, 1, 2, 0)
    # The slow one also walked Globex's escalation path while nobody answered.
    assert (march.met, march.breached, march.escalated) == (1, 1, 2)
    assert march.response_median == pytest.approx((30 + 2 * 24 * 60) / 2)
    assert march.response_p90 == pytest.approx(2 * 24 * 60)
    assert feb.opened == 1 and months["2027-01"].opened == 0
    globex_only = reports.monthly(
        actor=world["ed"], year=2027, partner=members.get_member(slug="globex")
    )
    assert globex_only["2027-02"].opened == 0
    inbound = reports.monthly(actor=world["gustav"], year=2027, month=3)
    assert list(inbound) == ["2027-03"] and inbound["2027-03"].inbound == 2


def test_report_page_csv_and_review(world, client, login):
    case = opened(world, MARCH)
    with transaction():
        cases.accept(actor=world["gustav"], case_id=case.id, now=MARCH + timedelta(minutes=10))
    login(members.find_user_by_email(email="ed@acme.example"), password="exchange-demo")
    page = client.get("/reports?year=2027&partner=globex").get_data(as_text=True)
    assert page.count("<svg") == 3 and "Cases opened, closed and withdrawn per month" in page
    assert "/reports/review?partner=globex&amp;month=2027-03" in page
    exported = client.get("/reports.csv?year=2027&partner=globex")
    assert exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    march = next(r for r in rows if r["month"] == "2027-03")
    assert march["opened"] == "1" and march["response_median_minutes"] == "10.0"
    review = client.get("/reports/review?partner=globex&month=2027-03").get_data(as_text=True)
    assert "Monthly service review" in review and case.number in review
    assert client.get("/reports/review?partner=globex&month=2026-13").status_code == 422
    assert client.get("/reports?year=1700").status_code == 422


def test_withdrawn_is_its_own_outcome_not_closed(world, client, login):
    withdrawn = opened(world, MARCH)
    worked = opened(world, MARCH)
    with transaction():
        cases.withdraw(actor=world["ed"], case_id=withdrawn.id, explanation="Found it", now=MARCH)
        cases.accept(actor=world["gustav"], case_id=worked.id, now=MARCH + timedelta(hours=1))
        cases.close(actor=world["ed"], case_id=worked.id, now=MARCH + timedelta(days=1))
    march = reports.monthly(actor=world["ed"], year=2027)["2027-03"]
    assert (march.opened, march.closed, march.withdrawn) == (2, 1, 1)
    assert reports.totals({"2027-03": march}).withdrawn == 1
    login(members.find_user_by_email(email="ed@acme.example"), password="exchange-demo")
    page = client.get("/reports?year=2027&partner=globex").get_data(as_text=True)
    assert "<th>Withdrawn</th>" in page and "Cases opened, closed and withdrawn" in page
    exported = client.get("/reports.csv?year=2027&partner=globex").get_data(as_text=True)
    row = next(r for r in csv.DictReader(io.StringIO(exported)) if r["month"] == "2027-03")
    assert (row["closed"], row["withdrawn"]) == ("1", "1")
    review = client.get("/reports/review?partner=globex&month=2027-03").get_data(as_text=True)
    assert "<dt>Cases closed</dt><dd>1</dd>" in review
    assert "<dt>Cases withdrawn</dt><dd>1</dd>" in review
