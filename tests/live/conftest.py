"""Fixtures for tests with real processes on loopback (``pytest -m slow``).

``deploy(**settings)`` builds a ``Deployment`` (see ``deployment.py``): an instance
folder and its ``config.py``, a database of its own (a SQLite file in the instance
folder; on the PostgreSQL pass a new database on the cluster named by
``EXCHANGE_TEST_POSTGRES_URL``), migrated, with the demo members and two tracker
programs, all done once per session through the command line and copied per test.
The test starts the web server and workers it needs; teardown stops every process by
its PID, failed test or not, and shows their logs when the test failed.
``receiver()`` starts a ``FaultServer`` (a partner tracker that misbehaves on request).

These tests share nothing with the suite's database: ``db_session`` is switched off.
"""

from __future__ import annotations

import itertools
import os

import pytest

from tests.live.deployment import Deployment, drop_postgres_database, postgres_database
from tests.receivers import FaultServer

POSTGRES = os.environ.get("EXCHANGE_TEST_POSTGRES_URL")
_numbers = itertools.count()


@pytest.fixture(autouse=True)
def db_session():
    """The live tests talk to their own deployments only, never the suite's session."""
    yield None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.live_failed = report.failed


@pytest.fixture(scope="session")
def installed(tmp_path_factory, worker_id):
    """One deployment installed per test session (per xdist worker) through the CLI:
    ``db upgrade``, ``demo``, ``create-client``. Each test's deployment starts from a
    copy of its database, which saves every test the same half minute of set-up."""
    name = f"live_{worker_id}_{os.getpid()}_template"
    url = postgres_database(POSTGRES, name) if POSTGRES else None
    template = Deployment(tmp_path_factory.mktemp("live-template"), url, {})
    template.install()
    yield template, name
    if POSTGRES:
        drop_postgres_database(POSTGRES, name)


@pytest.fixture()
def deploy(request, tmp_path, worker_id, installed):
    """``deploy(database_url=None, **settings)`` -> an installed ``Deployment``: a copy
    of the session's installed one, or, given a ``database_url``, installed there."""
    made: list[Deployment] = []
    databases: list[tuple[str, str]] = []
    template, template_name = installed

    def make(database_url: str | None = None, **settings) -> Deployment:
        copy = database_url is None
        if copy and POSTGRES:
            name = f"live_{worker_id}_{os.getpid()}_{next(_numbers)}"
            database_url = postgres_database(POSTGRES, name, template=template_name)
            databases.append((POSTGRES, name))
        deployment = Deployment(tmp_path / f"deployment{len(made)}", database_url, settings)
        made.append(deployment)
        if copy:
            deployment.copy_of(template)
        else:
            deployment.install()
        return deployment

    try:
        yield make
    finally:
        for deployment in made:
            deployment.stop()
        if getattr(request.node, "live_failed", False):
            for deployment in made:
                print(deployment.logs())
        for admin_url, name in databases:
            drop_postgres_database(admin_url, name)


@pytest.fixture()
def receiver():
    """``receiver(port=0, captured=None)`` -> a running ``FaultServer`` (answers 204)."""
    started: list[FaultServer] = []

    def start(port: int = 0, captured=None) -> FaultServer:
        server = FaultServer(port, captured).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
