"""The background worker: fires case deadlines (overdue notices, automatic escalation
along the receiver's escalation path), sends webhook deliveries and e-mail.

Run it with ``exchange worker``; ``exchange serve`` starts one beside gunicorn. Several
workers may run against one PostgreSQL database; on SQLite run one.
"""

from __future__ import annotations

import logging
import signal
import threading

from flask import Flask

from exchange.cases.service.clock import scan_deadlines
from exchange.db import transaction, utcnow
from exchange.members.service import products
from exchange.notifications.mailer import send_due
from exchange.webhooks.dispatch import deliver_due

log = logging.getLogger(__name__)


def run_once(app: Flask) -> int:
    """One round of every job; returns how much work was done."""
    with app.app_context():
        now = utcnow()
        with transaction():
            announced = products.scan_end_of_support(now=now)
        fired = scan_deadlines(now=now)
        delivered = deliver_due()
        return announced + fired + delivered + send_due(now=utcnow())


def run(app: Flask, stop: threading.Event | None = None) -> None:
    """Loop until ``stop`` is set (SIGINT/SIGTERM set it when run from the CLI)."""
    stop = stop or threading.Event()
    poll = app.config["WORKER_POLL_SECONDS"]
    log.info("worker started (poll %.1fs)", poll)
    while not stop.is_set():
        try:
            done = run_once(app)
        except Exception:  # a bad round must not end the worker; the next one retries
            log.exception("worker round failed")
            done = 0
        if not done:
            stop.wait(poll)
    log.info("worker stopped")


def install_signal_handlers(stop: threading.Event) -> None:
    def handle(signum, _frame):
        log.info("worker received signal %s, finishing the current round", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
