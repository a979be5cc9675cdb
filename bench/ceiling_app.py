"""The ceiling every exchange figure is divided by: a bare Flask + SQLAlchemy app.

``GET /ping`` answers a small JSON document; ``POST /insert`` stores the JSON body as one
row and commits once (the id comes from the flush before the commit, so no refresh
SELECT follows it). The bench serves it with the exchange's own gunicorn settings
(``exchange/gunicorn_conf.py``, 2 sync workers) against the same kind of database,
configured like the exchange's (SQLite: WAL, synchronous=NORMAL, the same busy timeout;
PostgreSQL: psycopg 3, ``pool_pre_ping``):

    BENCH_CEILING_DATABASE_URL=sqlite:///ceiling.sqlite3 \\
        gunicorn -c exchange/gunicorn_conf.py 'bench.ceiling_app:create_app()'
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

from flask import Flask, jsonify, request
from sqlalchemy import DateTime, Text, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

SQLITE_BUSY_TIMEOUT_S = 5.0  # the exchange's SQLITE_BUSY_TIMEOUT_MS


class Base(DeclarativeBase):
    pass


class Row(Base):
    __tablename__ = "ceiling_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def make_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN")

    return engine


def init_db(url: str) -> None:
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    engine.dispose()


def create_app(url: str | None = None) -> Flask:
    app = Flask(__name__)
    engine = make_engine(url or os.environ["BENCH_CEILING_DATABASE_URL"])

    @app.get("/ping")
    def ping():
        return jsonify(pong=True)

    @app.post("/insert")
    def insert():
        body = request.get_json()
        with Session(engine) as session:
            row = Row(body=json.dumps(body), created_at=datetime.now(UTC))
            session.add(row)
            session.flush()
            row_id = row.id
            session.commit()
        return jsonify(id=row_id), 201

    return app
