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
