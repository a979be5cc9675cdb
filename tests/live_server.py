"""A live exchange for tests that need real concurrency: its own database (migrated,
with the demo data, committing for real) served by werkzeug on 127.0.0.1 in a thread,
one thread per request.

The suite's usual session is one connection inside a rolled-back savepoint; a server
answering from other threads cannot share that, so these tests get a database of their
own. Used by the browser tests and the race tests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server

from exchange import create_app
from exchange.db import db, transaction


def build_live_app(database_url: str, tmp_path_factory, **config) -> Flask:
    """An app on ``database_url``, migrated with the real migrations, demo data loaded."""
    import flask_migrate

    from exchange.demo import load_demo

    app = create_app(
        {
            "SECRET_KEY": "live-tests",
            "DATABASE_URL": database_url,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "ATTACHMENTS_PATH": str(tmp_path_factory.mktemp("attachments")),
            "MAIL_OUTBOX_PATH": str(tmp_path_factory.mktemp("mail")),
            "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": True,
            # Races and journeys fetch many tokens and sign in often from one address;
            # the rate limits have tests of their own (tests/security).
            "RATELIMIT_ENABLED": False,
            **config,
        }
    )
    with app.app_context():
        flask_migrate.upgrade()
        with transaction():
            load_demo()
    return app


def dispose(app: Flask) -> None:
    with app.app_context():
        db.engine.dispose()


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free loopback port, a thread per request; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
