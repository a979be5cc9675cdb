"""The one commit point: transaction(), nesting, rollback, and on_commit side effects."""

import pytest
from sqlalchemy import select

from exchange.db import on_commit, transaction, transactional
from exchange.members.models import Member


def _slugs(session):
    return set(session.scalars(select(Member.slug)))


def test_outermost_block_commits_and_runs_callbacks_after(db_session):
    seen = []
    with transaction() as session:
        session.add(Member(slug="one", name="One"))
        on_commit(lambda: seen.append(_slugs(db_session)))
        with transaction():
            on_commit(lambda: seen.append("inner"))
        assert seen == []  # nothing leaves before the outermost commit
    assert seen == [{"one"}, "inner"]


def test_rollback_forgets_writes_and_callbacks(db_session):
    seen = []
    with pytest.raises(RuntimeError), transaction() as session:
        session.add(Member(slug="gone", name="Gone"))
        on_commit(lambda: seen.append("sent"))
        raise RuntimeError("boom")
    assert "gone" not in _slugs(db_session)
    assert seen == []
    # The next unit of work starts clean: no stale callbacks fire.
    with transaction():
        pass
    assert seen == []


def test_inner_failure_rolls_back_the_whole_unit(db_session):
    with pytest.raises(ValueError), transaction() as session:
        session.add(Member(slug="outer", name="Outer"))
        with transaction():
            raise ValueError("inner")
    assert "outer" not in _slugs(db_session)


def test_failed_callback_does_not_undo_the_commit(db_session):
    def explode():
        raise RuntimeError("side effect failed")

    with transaction() as session:
        session.add(Member(slug="kept", name="Kept"))
        on_commit(explode)
    assert "kept" in _slugs(db_session)


def test_transactional_decorator_and_on_commit_outside_a_transaction(db_session):
    @transactional
    def create():
        db_session.add(Member(slug="decorated", name="Decorated"))

    create()
    assert "decorated" in _slugs(db_session)
    with pytest.raises(RuntimeError):
        on_commit(lambda: None)


def test_times_come_back_aware_utc(make_member, db_session):
    member = make_member()
    db_session.expire_all()
    assert db_session.get(Member, member.id).created_at.utcoffset().total_seconds() == 0


def test_concurrent_units_of_work_both_commit(fresh_database_url):
    """A unit that reads and then writes while another one commits in between must not
    fail with "database is locked" (SQLite begins units IMMEDIATE for this)."""
    from exchange import create_app
    from exchange.db import db

    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": fresh_database_url("concurrency")}
    )
    # Real sessions on this app's own database, not the suite's rolled-back connection.
    suite_session, db.session = db.session, db._make_scoped_session({})
    try:
        _race(app)
    finally:
        db.session = suite_session


def _race(app):
    import threading

    from exchange.db import db

    with app.app_context():
        db.create_all()
        with transaction() as session:
            session.add(Member(slug="seed", name="Seed"))
    read_done, other_done = threading.Event(), threading.Event()
    errors = []

    def first():
        with app.app_context():
            try:
                with transaction() as session:
                    session.scalar(select(Member).where(Member.slug == "seed"))
                    read_done.set()
                    other_done.wait(0.5)  # the other unit tries to commit meanwhile
                    session.add(Member(slug="first", name="First"))
            except Exception as exc:
                errors.append(exc)
            finally:
                read_done.set()

    def second():
        with app.app_context():
            read_done.wait(5)
            try:
                with transaction() as session:
                    session.add(Member(slug="second", name="Second"))
            except Exception as exc:
                errors.append(exc)
            finally:
                other_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    with app.app_context():
        slugs = set(db.session.scalars(select(Member.slug)))
        db.session.remove()
        db.engine.dispose()
    assert errors == []
    assert {"first", "second"} <= slugs


def test_a_worker_preferring_writes_waits_for_the_lock_and_commits(fresh_database_url):
    """SQLite: ``prefer_writes`` (the worker's) asks for the write lock again and again
    while another connection holds it, then commits, and restores the busy timeout."""
    import sqlite3
    import threading

    from sqlalchemy.engine import make_url

    from exchange import create_app
    from exchange.db import _WRITE_PRIORITY, db, prefer_writes

    url = fresh_database_url("priority")
    if not url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url})
    suite_session, db.session = db.session, db._make_scoped_session({})
    holder = None
    try:
        with app.app_context():
            db.create_all()
        holder = sqlite3.connect(
            make_url(url).database, isolation_level=None, check_same_thread=False
        )
        holder.execute("BEGIN IMMEDIATE")  # another process writing
        released = threading.Timer(0.3, holder.execute, args=("COMMIT",))
        released.start()
        prefer_writes()
        with app.app_context():
            with transaction() as session:
                session.add(Member(slug="worker", name="Worker"))
            assert db.session.scalar(select(Member.slug)) == "worker"
            raw = db.engine.raw_connection()
            try:
                (timeout,) = raw.driver_connection.execute("PRAGMA busy_timeout").fetchone()
            finally:
                raw.close()
            assert timeout == app.config["SQLITE_BUSY_TIMEOUT_MS"]
            db.session.remove()
            db.engine.dispose()
        released.join(5)
    finally:
        _WRITE_PRIORITY.clear()
        db.session = suite_session
        if holder is not None:
            holder.close()
