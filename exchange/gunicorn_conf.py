"""gunicorn settings for ``exchange serve``; every value can be overridden by env.

PORT (default 8000) and EXCHANGE_BIND_HOST (default 127.0.0.1) choose the address;
WEB_CONCURRENCY the number of worker processes (default 2).
"""

import gc
import os
import subprocess
import sys

from exchange.version import SIGNATURE

bind = f"{os.environ.get('EXCHANGE_BIND_HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = 60
graceful_timeout = 10
accesslog = "-"
errorlog = "-"
# The formatter below adds the version signature to every line, access lines included.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
# No runtime control socket: several instances may run as one user on one host.
control_socket_disable = True

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "exchange": {
            "format": f"%(asctime)s %(levelname)s [exchange {SIGNATURE}] %(name)s: %(message)s"
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "exchange",
            "stream": "ext://sys.stderr",
        },
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # Alembic announces its plugins at INFO whenever a worker imports it.
        "alembic": {"level": "WARNING"},
    },
}


# `exchange serve` runs one background worker beside the web workers, so a single
# command gives a complete exchange. EXCHANGE_SERVE_WORKER=0 leaves it out (run
# `exchange worker` separately, e.g. on other hosts).
_background = {}


def post_worker_init(worker):
    # The application is loaded by now and lives as long as the worker: out of the
    # collector's sight, a full collection no longer walks it (tens of milliseconds
    # added to whichever request it fell in).
    gc.collect()
    gc.freeze()


def when_ready(server):
    if os.environ.get("EXCHANGE_SERVE_WORKER", "1").strip().lower() in ("0", "false", "no", "off"):
        return
    _background["worker"] = subprocess.Popen([sys.executable, "-m", "exchange", "worker"])
    server.log.info("background worker started (pid %s)", _background["worker"].pid)


def on_exit(server):
    worker = _background.get("worker")
    if worker is not None and worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
