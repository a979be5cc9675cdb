"""The worker loop as it runs in production: its own thread, real commits, a real
receiver; a change reaches the tracker quickly and the loop stops on request."""

import importlib.util
import threading
import time
from pathlib import Path

from exchange import create_app, worker
from exchange.auth.actor import actor_for_user
from exchange.db import db, transaction
from exchange.members import service as members
from exchange.members.models import User
from exchange.webhooks import service as webhooks
from exchange.webhooks.models import WebhookEndpoint

ROOT = Path(__file__).resolve().parent.parent


def _tracker():
    spec = importlib.util.spec_from_file_location(
        "tracker_receiver", ROOT / "examples" / "tracker_receiver.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_worker_loop_delivers_and_stops(fresh_database_url):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": True,
            "DATABASE_URL": fresh_database_url("worker"),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    suite_session, db.session = db.session, db._make_scoped_session({})
    receiver = None
    stop = threading.Event()
    loop = threading.Thread(target=worker.run, args=(app, stop), daemon=True)
    try:
        with app.app_context():
            db.create_all()
            with transaction():
                member = members.create_member(slug="m", name="M")
                admin = members.create_user(
                    member=member, email="a@m.example", name="A", roles=["admin"]
                )
            with transaction():
                endpoint, secret = webhooks.create_endpoint(
                    actor=actor_for_user(admin), url="http://127.0.0.1:9/x", event_types=["*"]
                )
            receiver = _tracker().serve(secret)
            with transaction():
                endpoint.url = f"http://127.0.0.1:{receiver.server_port}/hook"
            admin_id, endpoint_id = admin.id, endpoint.id
        loop.start()
        with app.app_context(), transaction():
            webhooks.ping(
                actor=actor_for_user(db.session.get(User, admin_id)),
                endpoint=db.session.get(WebhookEndpoint, endpoint_id),
            )
        deadline = time.monotonic() + 10
        while not receiver.store.messages and time.monotonic() < deadline:
            time.sleep(0.02)
        stop.set()
        loop.join(10)
        assert not loop.is_alive()
        assert [m["type"] for m in receiver.store.messages] == ["ping"]
    finally:
        stop.set()
        if loop.is_alive():
            loop.join(10)
        if receiver is not None:
            receiver.shutdown()
            receiver.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        db.session = suite_session
