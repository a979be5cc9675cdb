"""Waking the delivery worker the moment a change commits (PostgreSQL LISTEN/NOTIFY).

Deliveries are written in the change's transaction; on PostgreSQL that transaction also
sends ``NOTIFY exchange_deliveries``, which PostgreSQL passes on only if it commits. A
worker waiting between rounds listens on that channel and starts its next round at once,
instead of at its next poll: a tracker hears of a change a few milliseconds after its
commit. Polling every ``WORKER_POLL_SECONDS`` stays, for retries that come due, for
SQLite (one machine, where the worker only polls) and while the listening connection is
down (it is opened again at the next wait).
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import text

from exchange.db import db

log = logging.getLogger(__name__)

CHANNEL = "exchange_deliveries"
SENT = "exchange.deliveries_announced"  # on the session's info, for one transaction


def announce() -> None:
    """A delivery was written in this transaction: tell listening workers at commit.
    Once per transaction (PostgreSQL folds repeats anyway; this saves the round trip)."""
    session = db.session
    if session.info.get(SENT) or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text(f"NOTIFY {CHANNEL}"))
    session.info[SENT] = True


class Listener:
    """The worker's wait between rounds: until a NOTIFY arrives or ``timeout`` passes."""

    def __init__(self, engine):
        self._url = engine.url if engine.dialect.name == "postgresql" else None
        self._connection = None

    def wait(self, timeout: float, stop: threading.Event) -> bool:
        """True when woken by a committed change, False after ``timeout``."""
        if self._url is None:
            stop.wait(timeout)
            return False
        import psycopg

        try:
            connection = self._listening()
            return any(True for _ in connection.notifies(timeout=timeout, stop_after=1))
        except psycopg.Error as exc:
            # The database is away (a restart, a network cut): poll until it is back.
            log.debug("not listening for deliveries: %s", exc)
            self.close()
            stop.wait(timeout)
            return False

    def _listening(self):
        import psycopg

        if self._connection is None or self._connection.closed:
            url = self._url.set(drivername="postgresql")
            self._connection = psycopg.connect(
                url.render_as_string(hide_password=False), autocommit=True, connect_timeout=5
            )
            self._connection.execute(f"LISTEN {CHANNEL}")
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # closing a broken connection must not stop the worker
                log.debug("closing the listening connection failed", exc_info=True)
            self._connection = None
