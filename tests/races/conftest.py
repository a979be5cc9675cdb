"""Race tests: many requests released at once (a ``threading.Barrier``) against a live
exchange with a database that commits for real, on SQLite (a file) and PostgreSQL.

Each party (the demo members ``acme`` and ``globex``) calls as its own program with an
OAuth bearer token fetched from the live token endpoint; every thread has its own
HTTP connection, so the server really handles the requests side by side.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import requests

from exchange.auth import service as auth_service
from exchange.db import transaction
from exchange.members import service as members
from tests.live_server import build_live_app, dispose, serve

SCOPES = "cases:read cases:write"
TIMEOUT = 120


@pytest.fixture()
def db_session():
    """Race tests commit for real, in the live server's own database."""
    yield None


@pytest.fixture(scope="session")
def race_app(fresh_database_url, tmp_path_factory):
    app = build_live_app(fresh_database_url("races"), tmp_path_factory)
    yield app
    dispose(app)


@pytest.fixture(scope="session")
def race_server(race_app):
    with serve(race_app) as url:
        yield url


@dataclass
class Program:
    """A member's program calling the live server with its bearer token."""

    base: str
    token: str

    def call(self, method: str, path: str, headers: dict | None = None, **kw):
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        # A new connection each call: no session shared between threads.
        return requests.request(method, self.base + path, headers=headers, timeout=TIMEOUT, **kw)

    def get(self, path: str, **kw):
        return self.call("GET", path, **kw)

    def post(self, path: str, **kw):
        return self.call("POST", path, **kw)


def _program(app, base: str, slug: str) -> Program:
    with app.app_context(), transaction():
        member = members.get_member(slug=slug)
        client, secret = auth_service.create_client(
            member=member, name=f"{slug} race tracker", scopes=SCOPES
        )
        client_id = client.client_id
    answer = requests.post(
        base + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200, answer.text
    return Program(base, answer.json()["access_token"])


@pytest.fixture(scope="session")
def acme(race_app, race_server) -> Program:
    return _program(race_app, race_server, "acme")


@pytest.fixture(scope="session")
def globex(race_app, race_server) -> Program:
    return _program(race_app, race_server, "globex")


def together(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run every call in its own thread, all released at the same moment; returns the
    answers in the order of ``calls`` (a call that raised fails the test)."""
    barrier = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)

    def run(index: int, call) -> None:
        barrier.wait()
        try:
            answers[index] = call()
        except Exception as exc:  # reported below, with the others
            answers[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failures = [a for a in answers if isinstance(a, Exception)]
    assert not failures, failures
    return answers
