"""PostgreSQL: a transaction that writes a delivery wakes a waiting worker when it
commits (LISTEN/NOTIFY), and never when it rolls back."""

from __future__ import annotations

import os
import threading

import pytest

from exchange.db import db, transaction
from exchange.webhooks import wakeup
from tests.live_server import build_live_app, dispose

pytestmark = pytest.mark.skipif(
    not os.environ.get("EXCHANGE_TEST_POSTGRES_URL"),
    reason="LISTEN/NOTIFY is PostgreSQL's; on SQLite the worker polls",
)


@pytest.fixture()
def db_session():
    """Real commits, in a database of this test's own."""
    yield None


@pytest.fixture()
def live_app(fresh_database_url, tmp_path_factory):
    app = build_live_app(fresh_database_url("wakeup"), tmp_path_factory)
    yield app
    dispose(app)


def test_a_committed_delivery_wakes_the_worker_and_a_rolled_back_one_does_not(live_app):
    stop = threading.Event()
    with live_app.app_context():
        listener = wakeup.Listener(db.engine)
        try:
            assert listener.wait(0.01, stop) is False  # listening from here on
            with pytest.raises(RuntimeError), transaction():
                wakeup.announce()
                raise RuntimeError("the change fails")
            assert listener.wait(0.3, stop) is False
            with transaction():
                wakeup.announce()
                wakeup.announce()  # once per transaction is enough
            assert listener.wait(30, stop) is True
            assert listener.wait(0.3, stop) is False  # one commit, one wake-up
        finally:
            listener.close()
