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
