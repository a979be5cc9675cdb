"""Shared by the notification tests: the demo's people as actors, a case opened by Acme
against Globex at a fixed time inside Globex's office hours, and a folder outbox."""

from datetime import UTC, datetime

import pytest

from exchange.auth.actor import actor_for_user
from exchange.cases import service as cases
from exchange.db import transaction
from exchange.demo import load_demo
from exchange.members import service as members

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a Tuesday, inside Globex office hours


@pytest.fixture()
def demo():
    load_demo()
    users = {
        e: members.find_user_by_email(email=e)
        for e in (
            "ed@acme.example",
            "gustav@globex.example",
            "gina@globex.example",
            "admin@globex.example",
            "admin@acme.example",
        )
    }
    return {e.split("@")[0]: actor_for_user(u) for e, u in users.items()} | {"users": users}


def open_case(demo, now=T0, test=False, product=None):
    with transaction():
        return cases.open_case(
            actor=demo["ed"],
            receiver="globex",
            severity="2",
            summary="Paths lost",
            description="Hosts lose paths to the array.",
            now=now,
            test=test,
            product=product,
            customer={
                "company": "Umbrella",
                "contact_name": "Ann",
                "contact_email": "ann@umbrella.example",
            },
            intake={
                "hypervisor_version": "8.0",
                "cluster_hosts": 4,
                "admin_email": "ops@umbrella.example",
            },
        )


@pytest.fixture()
def mail_folder(app, tmp_path):
    saved = app.config["MAIL_OUTBOX_PATH"]
    app.config["MAIL_OUTBOX_PATH"] = str(tmp_path)
    yield tmp_path
    app.config["MAIL_OUTBOX_PATH"] = saved
