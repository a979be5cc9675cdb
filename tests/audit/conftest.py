"""Fixtures for the audit log: the demo members, an admin program of each (all admin
scopes), people signed in through the login form, and readers of the log.

``audit.since(mark)`` returns the entries written after ``audit.mark()``, so a test
sees exactly what its own action wrote (the demo data wrote entries too).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from exchange.audit.models import AuditEntry
from exchange.db import db, transaction
from exchange.demo import load_demo
from exchange.members import service as members
from tests.conftest import ApiCaller, browser_sign_in, csrf_token_from

ADMIN_SCOPES = ("members:admin", "webhooks:manage", "processes:write", "directory:read")


@dataclass
class Program:
    api: ApiCaller
    client_id: str
    name: str


class Audit:
    def __init__(self, app, make_client, fetch_token, client):
        self.app, self._make_client, self._fetch, self._client = (
            app,
            make_client,
            fetch_token,
            client,
        )
        self.secrets: list[str] = []  # every secret, token, password or link a test saw

    def member(self, slug: str):
        return members.get_member(slug=slug)

    def program(self, slug: str, scopes=ADMIN_SCOPES, name: str = "admin tool") -> Program:
        oauth_client, secret = self._make_client(member=self.member(slug), scopes=scopes, name=name)
        token = self._fetch(oauth_client, secret)
        self.secrets += [secret, token]
        return Program(ApiCaller(self._client, token), oauth_client.client_id, name)

    def person(self, email: str):
        """A fresh browser signed in as the demo person ``email``."""
        return browser_sign_in(self.app, email, self.app.config["DEMO_PASSWORD"])

    def mark(self) -> int:
        return db.session.scalar(select(func.max(AuditEntry.id))) or 0

    def since(self, mark: int) -> list[AuditEntry]:
        db.session.expire_all()
        return list(
            db.session.scalars(
                select(AuditEntry).where(AuditEntry.id > mark).order_by(AuditEntry.id)
            )
        )

    def one_since(self, mark: int) -> AuditEntry:
        entries = self.since(mark)
        assert len(entries) == 1, [(e.action, e.target_type, e.target_id) for e in entries]
        return entries[0]

    def assert_no_secret_anywhere(self) -> None:
        """No entry of any member holds a secret, token, password or link seen."""
        db.session.expire_all()
        dumped = json.dumps(
            [
                [e.changes, e.target_label, e.target_id, e.actor_label, e.origin]
                for e in db.session.scalars(select(AuditEntry))
            ]
        )
        assert self.secrets, "the test recorded no secret to look for"
        for secret in self.secrets:
            assert secret not in dumped, secret


@pytest.fixture()
def audit(app, make_client, fetch_token, client) -> Audit:
    with transaction():
        load_demo()
    return Audit(app, make_client, fetch_token, client)


def post_form(browser, url: str, data: dict, page: str):
    """POST ``data`` from ``page`` with its CSRF token under every name its forms use."""
    html = browser.http.get(page).get_data(as_text=True)
    token = csrf_token_from(html)
    names = set(re.findall(r'name="([\w-]*csrf_token)"', html)) | {"csrf_token"}
    return browser.http.post(url, data={**data, **dict.fromkeys(names, token)})
