"""The background worker: fires case deadlines (overdue notices, automatic escalation
along the receiver's escalation path), sends webhook deliveries and e-mail.

Run it with ``exchange worker``; ``exchange serve`` starts one beside gunicorn. Several
workers may run against one PostgreSQL database; on SQLite run one.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from flask import Flask

from exchange.cases.service.clock import scan_deadlines
from exchange.db import db, transaction, utcnow
from exchange.idempotency import forget_old_keys
from exchange.members.service import products
from exchange.notifications.mailer import send_due
from exchange.webhooks.dispatch import deliver_due

log = logging.getLogger(__name__)


def run_once(app: Flask) -> int:
    """One round of every job; returns how much work was done. A job that fails is
    logged and the others still run (a broken mail server must not stop webhooks)."""
    done = 0
    with app.app_context():
        for job in JOBS:
            try:
                done += job()
            except Exception:
                log.exception("worker job %s failed", job.__name__)
                db.session.rollback()
    return done


def _end_of_support() -> int:
    now = utcnow()
    if not products.end_of_support_due(now=now):
        return 0
    with transaction():
        return products.scan_end_of_support(now=now)


def _deadlines() -> int:
    return scan_deadlines(now=utcnow())


def _mail() -> int:
    return send_due(now=utcnow())


def _housekeeping() -> int:
    return forget_old_keys(now=utcnow())


JOBS = [_end_of_support, _deadlines, deliver_due, _mail, _housekeeping]


def _deliveries_once(app: Flask) -> int:
    with app.app_context():
        try:
            return deliver_due()
        except Exception:
            log.exception("worker job deliver_due failed")
            db.session.rollback()
            return 0


def run(app: Flask, stop: threading.Event | None = None) -> None:
    """Loop until ``stop`` is set (SIGINT/SIGTERM set it when run from the CLI).

    Webhook deliveries are looked for every WORKER_POLL_SECONDS (a cheap indexed query),
    so a change reaches trackers within a fraction of a second; every job, the
    deliveries included, runs every WORKER_SCAN_SECONDS.
    """
    stop = stop or threading.Event()
    poll, scan = app.config["WORKER_POLL_SECONDS"], app.config["WORKER_SCAN_SECONDS"]
    log.info("worker started (deliveries every %.2fs, all jobs every %.1fs)", poll, scan)
    next_scan = 0.0
    while not stop.is_set():
        if time.monotonic() >= next_scan:
            done = run_once(app)
            next_scan = time.monotonic() + scan
        else:
            done = _deliveries_once(app)
        if not done:
            stop.wait(poll)
    log.info("worker stopped")


def install_signal_handlers(stop: threading.Event) -> None:
    def handle(signum, _frame):
        log.info("worker received signal %s, finishing the current round", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
