"""What README.md and docs/api.md tell an operator or a programmer trying the exchange
locally, held against the exchange: refused commands print ``Error: ...`` and exit 1,
``set-member-status`` included, and the local walk-through says what oauthlib-based
clients need on plain http."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.members import service

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("status", ["active", "suspended"])
def test_set_member_status_with_an_unknown_slug_prints_an_error(app, status):
    result = app.test_cli_runner().invoke(
        args=["set-member-status", "--member", "no-such-member", status]
    )

    assert result.exit_code == 1, result.output
    assert result.output == "Error: No member 'no-such-member'.\n"
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_set_member_status_changes_a_known_member(app, make_member):
    member = make_member()

    result = app.test_cli_runner().invoke(
        args=["set-member-status", "--member", member.slug, "suspended"]
    )

    assert result.exit_code == 0, result.output
    assert service.get_member(slug=member.slug).status == "suspended"


def test_the_readme_says_every_refused_command_prints_an_error():
    section = (ROOT / "README.md").read_text().split("## Command line", 1)[1]
    section = section.split("\n## ", 1)[0]

    assert "traceback" not in section.lower()
    assert "`set-member-status --member <unknown slug>` too" in section


@pytest.mark.parametrize("doc", ["README.md", "docs/api.md"])
def test_the_local_walk_through_names_oauthlib_insecure_transport(doc):
    text = (ROOT / doc).read_text()

    assert "OAUTHLIB_INSECURE_TRANSPORT=1" in text
    assert "requests-oauthlib" in text
