"""Fixtures for collaborative-case tests.

``case_world`` loads the demo data: ``acme`` (submitter by default), ``globex`` (the
receiver by default; severity 1 declarable by the receiver only) and ``initech`` (the
outsider). Each party has a program holding ``cases:read cases:write`` and its demo
people; ``world.open_case(...)`` opens a case over the real API and returns its body.
Every test writes attachments to its own temporary folder.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from exchange.auth.actor import Actor, actor_for_user
from exchange.cases.models import Case, CaseEvent
from exchange.db import db, transaction
from exchange.demo import load_demo
from exchange.members import service as members
from exchange.members.models import Member, User
from tests.conftest import ApiCaller, SessionCaller, browser_sign_in

CASE_SCOPES = ("cases:read", "cases:write")

CUSTOMER = {
    "company": "Mutual Customer GmbH",
    "contact_name": "Carla Customer",
    "contact_email": "carla@customer.example",
    "contact_phone": "+49 30 1234567",
}
GLOBEX_INTAKE = {
    "hypervisor_version": "8.0",
    "cluster_hosts": 4,
    "admin_email": "virt-admin@customer.example",
}
ACME_INTAKE = {"array_serial": "AC-123456", "array_os_version": "6.2"}

# A body each action accepts (the state machine is checked before the values matter).
ACTION_BODIES = {
    "accept": {
        "receiver_reference": "GX-4711",
        "engineer": "gustav@globex.example",
        "next_steps": "Collecting hypervisor logs.",
    },
    "request-information": {"question": "Which firmware does the HBA run?"},
    "provide-information": {"answer": "Firmware 2.3.1 on all hosts."},
    "reject": {"reason": "other", "explanation": "Not ours."},
    "withdraw": {"explanation": "Found the cause ourselves."},
    "resolve": {"resolution": "Patched the multipath driver."},
    "close": {"resolution": "Customer confirmed the fix."},
    "reopen": {"reason": "The problem came back."},
    "assign": {"engineer": "erin@acme.example"},
    "escalate": {"reason": "Customer production is at risk."},
    "assign-escalation-manager": {"escalation_manager": "max@acme.example"},
    "change-severity": {"severity": "3", "business_impact": "Workaround in place."},
}
ACTIONS = list(ACTION_BODIES)


def globex_case(**overrides) -> dict:
    """A valid body for acme opening a case to globex (severity 2)."""
    body = {
        "receiver": "globex",
        "severity": "2",
        "summary": "Datastore latency spikes after array failover",
        "description": "After a controller failover, VMs see 5 s latency for minutes.",
        "customer": dict(CUSTOMER),
        "intake": dict(GLOBEX_INTAKE),
        "submitter_reference": "ACME-1001",
        "engineer": "ed@acme.example",
    }
    body.update(copy.deepcopy(overrides))
    return body


def acme_case(**overrides) -> dict:
    """A valid body for globex opening a case to acme (24x7 coverage)."""
    body = {
        "receiver": "acme",
        "severity": "2",
        "summary": "Array rejects hypervisor SCSI reservations",
        "description": "Cluster hosts lose their reservation after a path change.",
        "customer": dict(CUSTOMER),
        "intake": dict(ACME_INTAKE),
        "submitter_reference": "GX-2002",
        "engineer": "gustav@globex.example",
    }
    body.update(copy.deepcopy(overrides))
    return body


@dataclass
class Party:
    member: Member
    api: ApiCaller
    users: dict[str, User] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.member.slug

    def actor(self, name: str) -> Actor:
        return actor_for_user(self.users[name])


class CaseCalls:
    """Opening and acting on cases over the API; a world with ``acme`` mixes it in."""

    acme: Party

    def open_case(self, caller=None, **overrides) -> dict:
        """Open a case over the API (acme -> globex unless told otherwise)."""
        caller = caller or self.acme.api
        response = caller.post("/api/v1/cases", json=globex_case(**overrides))
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json

    def act(self, caller, case_id: int, action: str, expect: int = 200, **body) -> dict:
        payload = {**ACTION_BODIES[action], **body}
        response = caller.post(f"/api/v1/cases/{case_id}/{action}", json=payload)
        assert response.status_code == expect, response.get_data(as_text=True)
        return response.json


@dataclass
class CaseWorld(CaseCalls):
    acme: Party
    globex: Party
    initech: Party
    app: object
    programs: object  # (member, scopes, name) -> ApiCaller

    def program(self, party: Party, scopes, name: str = "extra program") -> ApiCaller:
        return self.programs(party.member, scopes, name)

    def sign_in(self, user: User) -> SessionCaller:
        """A fresh browser (its own cookie jar) signed in as ``user``."""
        return browser_sign_in(self.app, user.email, self.app.config["DEMO_PASSWORD"])

    def bring_to(self, case_id: int, status: str) -> dict:
        """Walk a fresh (open) case to ``status``; ``asked_after_accepting`` is
        information requested after acceptance."""
        acme, globex = self.acme.api, self.globex.api
        steps = {
            "open": [],
            "information_requested": [(globex, "request-information")],
            "accepted": [(globex, "accept")],
            "rejected": [(globex, "reject")],
            "resolved": [(globex, "accept"), (globex, "resolve")],
            "closed": [(globex, "accept"), (globex, "resolve"), (acme, "close")],
            "withdrawn": [(acme, "withdraw")],
            "asked_after_accepting": [(globex, "accept"), (globex, "request-information")],
        }[status]
        body = self.acme.api.get(f"/api/v1/cases/{case_id}").json
        for caller, action in steps:
            body = self.act(caller, case_id, action)
        return body


def _party(slug: str, programs) -> Party:
    member = members.get_member(slug=slug)
    people = {u.email.split("@")[0]: u for u in member.users}
    caller = programs(member, CASE_SCOPES, f"{member.name} tracker")
    return Party(member=member, api=caller, users=people)


@pytest.fixture()
def programs(client, make_client, fetch_token):
    """``programs(member, scopes, name)`` -> an ApiCaller for a new program of ``member``."""

    def make(member, scopes, name="tracker") -> ApiCaller:
        oauth_client, secret = make_client(member=member, scopes=scopes, name=name)
        return ApiCaller(client, fetch_token(oauth_client, secret))

    return make


@pytest.fixture()
def case_world(app, programs) -> CaseWorld:
    with transaction():
        load_demo()
    return CaseWorld(
        acme=_party("acme", programs),
        globex=_party("globex", programs),
        initech=_party("initech", programs),
        app=app,
        programs=programs,
    )


@pytest.fixture(autouse=True)
def attachments_dir(app, tmp_path):
    """Attachments of each test go to its own folder, never the instance folder."""
    before = app.config.get("ATTACHMENTS_PATH")
    folder = tmp_path / "attachments"
    app.config["ATTACHMENTS_PATH"] = str(folder)
    yield folder
    app.config["ATTACHMENTS_PATH"] = before


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


def case_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


def event_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CaseEvent))


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["code"] == code, body
    assert body["status"] == status
    return body
