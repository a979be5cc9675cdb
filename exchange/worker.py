"""The background worker: fires case deadlines (overdue notices, automatic escalation
along the receiver's escalation path), sends webhook deliveries and e-mail.

Run it with ``exchange worker``; ``exchange serve`` starts one beside gunicorn. Several
workers may run against one PostgreSQL database; on SQLite run one. While the database
is unreachable the worker says so once, slows down to one round a WORKER_SCAN_SECONDS,
and carries on by itself when the database is back.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import signal
import threading
import time

from flask import Flask

from exchange import clock
from exchange.cases.service.clock import scan_deadlines
from exchange.db import db, prefer_writes, transaction
from exchange.errors import database_unavailable
from exchange.idempotency import forget_old_keys
from exchange.members.service import products
from exchange.notifications.mailer import send_due
from exchange.webhooks import wakeup
from exchange.webhooks.dispatch import deliver_due

log = logging.getLogger(__name__)


class _Database:
    """Whether the database answers: an outage is logged once when it begins and once
    when it ends (not a traceback every poll), and the loop polls slowly meanwhile."""

    def __init__(self):
        self.down_since: float | None = None

    def failed(self, job: str, exc: Exception) -> None:
        if database_unavailable(exc):
            if self.down_since is None:
                self.down_since = time.monotonic()
                log.warning(
                    "database unavailable (job %s): %s; retrying until it is back",
                    job,
                    getattr(exc, "orig", exc),
                )
        else:
            log.error("worker job %s failed", job, exc_info=exc)
        # The connection may be gone as well: a failed rollback must not end the worker.
        with contextlib.suppress(Exception):
            db.session.rollback()

    def answered(self) -> None:
        if self.down_since is not None:
            log.info("database reachable again after %.1f s", time.monotonic() - self.down_since)
            self.down_since = None

    @property
    def down(self) -> bool:
        return self.down_since is not None


database = _Database()


def _run_jobs(app: Flask, jobs) -> int:
    done, reached = 0, True
    with app.app_context():
        for job in jobs:
            try:
                done += job()
            except Exception as exc:
                reached = reached and not database_unavailable(exc)
                database.failed(job.__name__, exc)
    if reached:
        database.answered()
    return done


def run_once(app: Flask) -> int:
    """One round of every job; returns how much work was done. A job that fails is
    logged and the others still run (a broken mail server must not stop webhooks)."""
    return _run_jobs(app, JOBS)


def _end_of_support() -> int:
    now = clock.now()
    if not products.end_of_support_due(now=now):
        return 0
    with transaction():
        return products.scan_end_of_support(now=now)


def _deadlines() -> int:
    return scan_deadlines(now=clock.now())


def _mail() -> int:
    return send_due(now=clock.now())


def _housekeeping() -> int:
    return forget_old_keys(now=clock.now())


JOBS = [_end_of_support, _deadlines, deliver_due, _mail, _housekeeping]


def _deliveries_once(app: Flask) -> int:
    return _run_jobs(app, [deliver_due])


def run(app: Flask, stop: threading.Event | None = None) -> None:
    """Loop until ``stop`` is set (SIGINT/SIGTERM set it when run from the CLI).

    Webhook deliveries are looked for every WORKER_POLL_SECONDS (a cheap indexed query),
    so a change reaches trackers within a fraction of a second; every job, the
    deliveries included, runs every WORKER_SCAN_SECONDS.
    """
    stop = stop or threading.Event()
    poll, scan = app.config["WORKER_POLL_SECONDS"], app.config["WORKER_SCAN_SECONDS"]
    log.info("worker started (deliveries every %.2fs, all jobs every %.1fs)", poll, scan)
    with app.app_context():
        # PostgreSQL: woken by the commit that wrote deliveries, not only by the poll.
        listener = wakeup.Listener(db.engine)
    prefer_writes()  # SQLite: its few short transactions go before the web's
    try:
        _loop(app, stop, listener, poll, scan)
    finally:
        listener.close()
    log.info("worker stopped")


def _loop(app: Flask, stop: threading.Event, listener, poll: float, scan: float) -> None:
    next_scan = 0.0
    while not stop.is_set():
        try:
            if time.monotonic() >= next_scan:
                done = run_once(app)
                next_scan = time.monotonic() + scan
            else:
                done = _deliveries_once(app)
        except Exception:  # e.g. closing a session whose connection died: keep going
            log.exception("worker round failed")
            done = 0
        if database.down:
            stop.wait(scan)
        elif not done:
            listener.wait(min(poll, max(next_scan - time.monotonic(), 0)), stop)


def settle() -> None:
    """For a process that is a worker and nothing else (``exchange worker``): what is
    loaded by now lives as long as the process, so it is put out of the collector's
    sight; a full collection no longer walks it (60 ms in the middle of a deadline
    scan)."""
    gc.collect()
    gc.freeze()


def install_signal_handlers(stop: threading.Event) -> None:
    def handle(signum, _frame):
        log.info("worker received signal %s, finishing the current round", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
