"""Concurrent requests against one live exchange: the database decides, once.

- many ``accept``s of one case: one wins, the rest get a clean 409 or 412;
- ``accept`` against ``withdraw``: the two sides race, one of them wins;
- notes from both sides at once: every note lands, the history stays gap-free;
- one ``Idempotency-Key`` sent several times at once: one case, the same answer;
- many opens with their own keys at once: each opens its case;
- the web form for a new case submitted several times at once: one case.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter

import pytest
import requests
from sqlalchemy import func, select

from exchange.cases.models import Case
from exchange.db import db
from tests.cases.conftest import ACTION_BODIES, globex_case
from tests.conftest import csrf_token_from
from tests.races.conftest import TIMEOUT, together

PROBLEM = "application/problem+json"


def _open(acme, **overrides) -> dict:
    answer = acme.post("/api/v1/cases", json=globex_case(**overrides))
    assert answer.status_code == 201, answer.text
    return answer.json()


def _events(program, case_id: int) -> list[dict]:
    answer = program.get(f"/api/v1/cases/{case_id}/events")
    assert answer.status_code == 200, answer.text
    return answer.json()


def _assert_clean_refusal(answer, allowed: set[int]) -> None:
    assert answer.status_code in allowed, (answer.status_code, answer.text)
    assert answer.headers["Content-Type"].startswith(PROBLEM), answer.headers
    assert answer.json()["status"] == answer.status_code


def _assert_gap_free(events: list[dict]) -> None:
    sequences = [e["sequence"] for e in events]
    assert sequences == list(range(1, len(events) + 1)), sequences


@pytest.mark.parametrize("round_", range(3))
def test_twenty_concurrent_accepts_one_wins(acme, globex, round_):
    case = _open(acme, submitter_reference=f"RACE-ACCEPT-{round_}")
    etag = globex.get(f"/api/v1/cases/{case['id']}").headers["ETag"]
    body = ACTION_BODIES["accept"]
    path = f"/api/v1/cases/{case['id']}/accept"
    # Half send the ETag they read (a loser's is stale: 412), half send none (409).
    calls = [
        (lambda i=i: globex.post(path, json=body, headers={"If-Match": etag} if i % 2 else {}))
        for i in range(20)
    ]
    answers = together(calls)

    statuses = Counter(a.status_code for a in answers)
    assert statuses[200] == 1, statuses
    for answer in answers:
        if answer.status_code != 200:
            _assert_clean_refusal(answer, {409, 412})
    events = _events(globex, case["id"])
    assert [e["type"] for e in events].count("case.accepted") == 1
    _assert_gap_free(events)
    assert globex.get(f"/api/v1/cases/{case['id']}").json()["status"] == "accepted"


def test_accept_races_withdraw(acme, globex):
    """The receiver accepts while the submitter withdraws: exactly one of them wins."""
    case = _open(acme, submitter_reference="RACE-WITHDRAW")
    base = f"/api/v1/cases/{case['id']}"
    calls = []
    for _ in range(10):
        calls.append(lambda: globex.post(base + "/accept", json=ACTION_BODIES["accept"]))
        calls.append(lambda: acme.post(base + "/withdraw", json=ACTION_BODIES["withdraw"]))
    answers = together(calls)

    winners = [a for a in answers if a.status_code == 200]
    assert len(winners) == 1, Counter(a.status_code for a in answers)
    for answer in answers:
        if answer.status_code != 200:
            _assert_clean_refusal(answer, {409})
    types = [e["type"] for e in _events(acme, case["id"])]
    assert types.count("case.accepted") + types.count("case.withdrawn") == 1, types
    final = acme.get(base).json()["status"]
    assert final == ("accepted" if "case.accepted" in types else "withdrawn")


def test_concurrent_notes_keep_the_history_gap_free(acme, globex):
    case = _open(acme, submitter_reference="RACE-NOTES")
    path = f"/api/v1/cases/{case['id']}/notes"
    calls = []
    for i in range(20):
        calls.append(lambda i=i: acme.post(path, json={"body": f"acme note {i}"}))
        calls.append(lambda i=i: globex.post(path, json={"body": f"globex note {i}"}))
    answers = together(calls)

    assert Counter(a.status_code for a in answers) == {201: 40}, [
        a.text for a in answers if a.status_code != 201
    ]
    events = _events(acme, case["id"])
    _assert_gap_free(events)
    assert len(events) == 41  # case.opened, then one event per note
    noted = {e["data"]["note"] for e in events if e["type"] == "case.note_added"}
    assert noted == {a.json()["id"] for a in answers}
    bodies = {n["body"] for n in acme.get(path).json()}
    assert bodies == {f"{side} note {i}" for side in ("acme", "globex") for i in range(20)}
    # The case's version (its ETag) is its last sequence number.
    assert acme.get(f"/api/v1/cases/{case['id']}").headers["ETag"] == f'"{case["id"]}-41"'


def _cases_with_reference(app, reference: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(Case).where(Case.submitter_reference == reference)
        )


@pytest.mark.parametrize("copies", [2, 8])
def test_one_idempotency_key_sent_at_once_opens_one_case(race_app, acme, copies):
    reference = f"RACE-IDEM-{copies}"
    key = str(uuid.uuid4())
    body = globex_case(submitter_reference=reference)
    calls = [
        lambda: acme.post("/api/v1/cases", json=body, headers={"Idempotency-Key": key})
    ] * copies
    answers = together(calls)

    assert [a.status_code for a in answers] == [201] * copies, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert len({a.headers["Location"] for a in answers}) == 1
    replayed = [a for a in answers if a.headers.get("Idempotent-Replayed") == "true"]
    assert len(replayed) == copies - 1
    assert _cases_with_reference(race_app, reference) == 1


def test_concurrent_opens_with_their_own_keys_each_open_a_case(race_app, acme):
    reference = "RACE-MANY-OPENS"
    body = globex_case(submitter_reference=reference)
    calls = [
        (lambda k=k: acme.post("/api/v1/cases", json=body, headers={"Idempotency-Key": k}))
        for k in (str(uuid.uuid4()) for _ in range(10))
    ]
    answers = together(calls)

    assert [a.status_code for a in answers] == [201] * 10, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 10
    assert _cases_with_reference(race_app, reference) == 10


def _signed_in(base: str, email: str) -> requests.Session:
    http = requests.Session()
    page = http.get(base + "/login", timeout=TIMEOUT).text
    answer = http.post(
        base + "/login",
        data={"email": email, "password": "exchange-demo", "csrf_token": csrf_token_from(page)},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 302, answer.text
    return http


def test_the_case_form_sent_several_times_at_once_opens_one_case(race_app, race_server):
    """A double (or quintuple) click on "Open case": one case, every answer leads to it."""
    http = _signed_in(race_server, "ed@acme.example")
    html = http.get(race_server + "/cases/new?receiver=globex", timeout=TIMEOUT).text
    summary = "RACE-FORM double submit"
    data = {
        "csrf_token": csrf_token_from(html),
        "receiver": "globex",
        "process": re.search(r'name="process" value="(\d+)"', html).group(1),
        "form_key": re.search(r'name="form_key" value="(\w+)"', html).group(1),
        "severity": "2",
        "summary": summary,
        "description": "Hosts lose paths.",
        "customer.company": "Umbrella",
        "customer.contact_name": "Ann",
        "customer.contact_email": "ann@umbrella.example",
        "intake.hypervisor_version": "8.0",
        "intake.cluster_hosts": "4",
        "intake.admin_email": "ops@umbrella.example",
    }

    def submit():
        # Each click its own connection, with the one browser's cookies.
        browser = requests.Session()
        browser.cookies.update(http.cookies)
        return browser.post(
            race_server + "/cases/new", data=data, allow_redirects=False, timeout=TIMEOUT
        )

    answers = together([submit] * 5)

    assert [a.status_code for a in answers] == [303] * 5, [a.text[:300] for a in answers]
    assert len({a.headers["Location"] for a in answers}) == 1
    with race_app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(Case).where(Case.summary == summary)
        )
    assert count == 1
