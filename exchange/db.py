"""The database layer: the declarative ``Base``, the ``db`` extension object and the
one place that commits.

Services never commit. A web view, API endpoint, CLI command or worker step wraps the
whole unit of work in ``transaction()`` (or decorates it with ``@transactional``); the
outermost block commits once, and only then runs the callbacks registered with
``on_commit()``. A crash before the commit therefore loses nothing and sends nothing.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, registry

log = logging.getLogger(__name__)

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every database.

    SQLite has no time zones; values are stored naive in UTC and come back aware, so
    comparisons with ``clock.now()`` behave the same on SQLite and PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type:
        # Named, so code that works from column types (cursor decoding) sees datetimes.
        return datetime

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the exchange stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    # Every ``Mapped[datetime]`` column is an aware UTC timestamp.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


db = SQLAlchemy(model_class=Base)


_DEPTH = "exchange.tx_depth"
# Set inside transaction(): SQLite connections then begin with BEGIN IMMEDIATE.
_IMMEDIATE: ContextVar[bool] = ContextVar("exchange_sqlite_immediate", default=False)
_CALLBACKS = "exchange.on_commit"
# On a SQLite connection's info: whether its current transaction began IMMEDIATE.
_BEGAN_IMMEDIATE = "exchange.began_immediate"
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@contextmanager
def transaction() -> Iterator:
    """Run a unit of work; the outermost block commits once, inner blocks join it.

    On an exception the outermost block rolls back and forgets every ``on_commit``
    callback; after a successful commit the callbacks run in registration order.
    """
    session = db.session
    info = session.info
    depth = info.get(_DEPTH, 0)
    info[_DEPTH] = depth + 1
    token = None
    if depth == 0 and session.get_bind().dialect.name == "sqlite":
        # SQLite: a unit of work takes the write lock when it begins (BEGIN IMMEDIATE).
        # A deferred transaction that read first and writes later cannot wait for a
        # writer that committed meanwhile ("database is locked" at once), so end the
        # read-only transaction the request may have begun, and begin anew.
        # A request that began IMMEDIATE already (see ``immediate_write_requests``) keeps
        # its transaction, and with it what it loaded (committing expires every object).
        current = session()  # the scoped session's Session of this context
        if (
            current.in_transaction()
            and not (current.new or current.dirty or current.deleted)
            and not current.connection().info.get(_BEGAN_IMMEDIATE)
        ):
            current.commit()
        token = _IMMEDIATE.set(True)
    try:
        yield session
        if depth == 0:
            session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
            info.pop(_CALLBACKS, None)
        raise
    finally:
        info[_DEPTH] = depth
        if token is not None:
            _IMMEDIATE.reset(token)
            # What a request reads after its change (its answer) needs no write lock.
            _IMMEDIATE.set(False)
    if depth == 0:
        for callback in info.pop(_CALLBACKS, []):
            try:
                callback()
            except Exception:  # the commit stands; a failed side effect must not undo it
                log.exception("on_commit callback %r failed", callback)


def transactional(func: Callable) -> Callable:
    """Decorator form of ``transaction()``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with transaction():
            return func(*args, **kwargs)

    return wrapper


def on_commit(callback: Callable[[], object]) -> None:
    """Run ``callback`` after the enclosing transaction commits (never if it rolls back)."""
    info = db.session.info
    if not info.get(_DEPTH):
        raise RuntimeError("on_commit() called outside transaction()")
    info.setdefault(_CALLBACKS, []).append(callback)


def configure_engine_events(engine) -> None:
    """SQLite: WAL, foreign keys, and transactions SQLAlchemy controls (so SAVEPOINTs work).

    Python's sqlite3 module opens transactions lazily on its own; turning that off and
    emitting BEGIN ourselves is the documented way to get correct SAVEPOINT behaviour.
    """
    if engine.dialect.name != "sqlite":
        return
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        immediate = _IMMEDIATE.get()
        connection.info[_BEGAN_IMMEDIATE] = immediate
        if immediate and _WRITE_PRIORITY.is_set():
            _begin_immediate_eagerly(connection.connection.dbapi_connection)
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# Set in the background worker (``prefer_writes``): see _begin_immediate_eagerly.
_WRITE_PRIORITY = threading.Event()


def prefer_writes() -> None:
    """SQLite: this process asks for the write lock every millisecond while it waits.

    SQLite's own wait backs off to sleeps of 25-100 ms, and the web workers, writing back
    to back, take the lock in between: the delivery worker's few short transactions then
    waited seconds behind them, and webhooks with them. The worker calls this.
    """
    _WRITE_PRIORITY.set()


def _begin_immediate_eagerly(raw) -> None:
    (timeout_ms,) = raw.execute("PRAGMA busy_timeout").fetchone()
    deadline = time.monotonic() + timeout_ms / 1000
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.001)
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")


def immediate_write_requests(app) -> None:
    """SQLite: a request that may write (POST, PUT, PATCH, DELETE) begins IMMEDIATE with
    its first statement, usually the caller's authentication.

    Otherwise ``transaction()`` must end the request's read transaction before taking
    the write lock, and that commit expires the caller's token, client and member, which
    are then read again: three extra round trips and a commit on every change.
    """
    from flask import request

    @app.before_request
    def _begin_immediate():
        if request.method in _WRITE_METHODS:
            request.environ[_BEGAN_IMMEDIATE] = _IMMEDIATE.set(True)

    @app.teardown_request
    def _end_immediate(_exc):
        token = request.environ.pop(_BEGAN_IMMEDIATE, None)
        if token is not None:
            _IMMEDIATE.reset(token)


def get_by_id(model, ident: int):
    """``session.get`` for an id that came from outside (a URL, a body): an id the
    primary key's type cannot hold is simply not there, instead of a database error
    (PostgreSQL refuses to bind it at all)."""
    from sqlalchemy import BigInteger

    column = model.__table__.primary_key.columns[0]
    limit = 2**63 if isinstance(column.type, BigInteger) else 2**31
    if not isinstance(ident, int) or not 0 < ident < limit:
        return None
    return db.session.get(model, ident)
