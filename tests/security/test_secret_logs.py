"""A whole flow that handles every kind of secret (client secret, access token, webhook
secrets, a set-password link, passwords) run with every logger at DEBUG, SQLAlchemy's
statements and rows included: none of them may appear in the captured output."""

from __future__ import annotations

import pytest

from tests.security.test_secrets import every_log_at_debug, run_flow


@pytest.fixture()
def debug_logs():
    with every_log_at_debug() as capture:
        yield capture


@pytest.fixture()
def db_session(debug_logs, db_session):
    """The suite's rolled-back session, opened after the loggers are at DEBUG (an
    SQLAlchemy connection decides whether it logs when it is opened)."""
    yield db_session


def test_no_secret_reaches_any_log_at_debug(
    app, client, login, make_user, config_value, debug_logs
):
    seen = run_flow(app, client, login, make_user, config_value)
    output = "\n".join(debug_logs.lines)
    assert "SELECT" in output or "select" in output, "SQL logging was not captured"
    for name in (
        "client secret",
        "access token",
        "webhook secret",
        "rotated webhook secret",
        "invitation token",
        "password",
        "new password",
    ):
        value = seen[name]
        assert value not in output, f"the {name} appears in the logs"
        if value.startswith("whsec_"):
            assert value.removeprefix("whsec_") not in output, f"the {name} appears in the logs"
