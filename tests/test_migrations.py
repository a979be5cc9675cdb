"""Alembic migrations are the only way the schema is made: upgrading an empty database
must give exactly the models, and downgrading must undo it."""

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from exchange import create_app
from exchange.db import db


def test_upgrade_from_empty_matches_the_models(fresh_database_url):
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": fresh_database_url("migrations")}
    )
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []

        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        assert {"members", "users"} <= set(inspect(db.engine).get_table_names())
        db.engine.dispose()


def test_upgrading_a_database_that_holds_cases_keeps_them(fresh_database_url):
    """Later revisions alter tables that rows already refer to (SQLite copies and drops
    them): an exchange in use must upgrade without losing or breaking anything."""
    from sqlalchemy import text

    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": fresh_database_url("upgrade")}
    )
    with app.app_context():
        flask_migrate.upgrade(revision="2c6883e793ae")  # cases exist from here on
        with db.engine.begin() as conn:
            now = "2026-11-01 10:00:00"
            conn.execute(
                text(
                    "INSERT INTO members (id, slug, name, tier, status, description, "
                    "email_domains, created_at, updated_at) VALUES "
                    "(1, 'a', 'A', 'standard', 'active', '', '[]', :t, :t), "
                    "(2, 'b', 'B', 'standard', 'active', '', '[]', :t, :t)"
                ),
                {"t": now},
            )
            conn.execute(
                text(
                    "INSERT INTO processes (id, member_id, name, created_at, updated_at) "
                    "VALUES (1, 2, 'P', :t, :t)"
                ),
                {"t": now},
            )
            conn.execute(
                text(
                    "INSERT INTO process_versions (id, process_id, number, status, content, "
                    "created_at, updated_at, published_at, effective_at) VALUES "
                    "(1, 1, 1, 'published', '{}', :t, :t, :t, :t)"
                ),
                {"t": now},
            )
            conn.execute(
                text(
                    "INSERT INTO cases (id, submitter_id, receiver_id, process_id, "
                    "process_version_id, status, severity, summary, description, customer, "
                    "product_obsolete, intake, test, escalation_level, version, created_at, "
                    "updated_at) VALUES (1, 1, 2, 1, 1, 'open', '1', 's', 'd', '{}', false, "
                    "'{}', false, 0, 1, :t, :t)"
                ),
                {"t": now},
            )
            conn.execute(
                text(
                    "INSERT INTO case_events (id, case_id, sequence, type, side, origin, "
                    "actor_label, data, created_at) VALUES "
                    "(1, 1, 1, 'case.opened', 'submitter', 'web', 'x', '{}', :t)"
                ),
                {"t": now},
            )
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM cases")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM case_events")).scalar() == 1
            assert conn.execute(text("SELECT response_used_seconds FROM cases")).scalar() == 0
            if db.engine.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()


def test_withdrawn_cases_stored_as_closed_become_withdrawn(fresh_database_url):
    """Before withdrawn had a status of its own, a withdrawal stored ``closed``; a closed
    case never accepted was withdrawn, and the tallies follow it."""
    from sqlalchemy import text

    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": fresh_database_url("withdrawn")}
    )
    with app.app_context():
        flask_migrate.upgrade(revision="00637340d1de")
        t = {"t": "2026-11-01 10:00:00"}
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO members (id, slug, name, tier, status, description, "
                    "email_domains, created_at, updated_at) VALUES "
                    "(1, 'a', 'A', 'standard', 'active', '', '[]', :t, :t), "
                    "(2, 'b', 'B', 'standard', 'active', '', '[]', :t, :t)"
                ),
                t,
            )
            conn.execute(
                text(
                    "INSERT INTO processes (id, member_id, name, created_at, updated_at) "
                    "VALUES (1, 2, 'P', :t, :t)"
                ),
                t,
            )
            conn.execute(
                text(
                    "INSERT INTO process_versions (id, process_id, number, status, content, "
                    "created_at, updated_at, published_at, effective_at) VALUES "
                    "(1, 1, 1, 'published', '{}', :t, :t, :t, :t)"
                ),
                t,
            )
            for case_id, accepted in ((1, None), (2, t["t"])):
                conn.execute(
                    text(
                        "INSERT INTO cases (id, submitter_id, receiver_id, process_id, "
                        "process_version_id, status, severity, summary, description, "
                        "customer, product_obsolete, intake, test, escalation_level, "
                        "response_used_seconds, escalation_tier, version, created_at, "
                        "updated_at, accepted_at, closed_at) VALUES (:id, 1, 2, 1, 1, "
                        "'closed', '1', 's', 'd', '{}', false, '{}', false, 0, 0, 0, 1, "
                        ":t, :t, :accepted, :t)"
                    ),
                    {**t, "id": case_id, "accepted": accepted},
                )
            conn.execute(
                text(
                    "INSERT INTO case_tallies (member_id, direction, status, count) VALUES "
                    "(1, 'outbound', 'closed', 2), (2, 'inbound', 'closed', 2)"
                )
            )
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            statuses = conn.execute(text("SELECT id, status FROM cases ORDER BY id")).all()
            assert [tuple(r) for r in statuses] == [(1, "withdrawn"), (2, "closed")]
            tallies = conn.execute(
                text("SELECT member_id, direction, status, count FROM case_tallies")
            ).all()
            assert sorted(tuple(r) for r in tallies) == [
                (1, "outbound", "closed", 1),
                (1, "outbound", "withdrawn", 1),
                (2, "inbound", "closed", 1),
                (2, "inbound", "withdrawn", 1),
            ]
        flask_migrate.downgrade(revision="00637340d1de")
        with db.engine.connect() as conn:
            assert (
                conn.execute(text("SELECT count(*) FROM cases WHERE status = 'closed'")).scalar()
                == 2
            )
        db.engine.dispose()
