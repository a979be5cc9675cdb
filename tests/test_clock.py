"""The wall clock belongs to ``exchange.clock``: no other module of the package reads it.

A direct read elsewhere (a model default, a service, a worker round, the demo loader)
makes the suite depend on the calendar, which is how main once went red on a date its
tests had not seen. This test reads every module's syntax tree, so it also catches reads
through an alias (``from time import time``) and the database's own clock in SQL.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

import exchange
from exchange import clock

PACKAGE = Path(exchange.__file__).parent
CLOCK_MODULE = PACKAGE / "clock.py"

# (module, attribute) pairs that read the wall clock when called.
WALL_CLOCK_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("time", "ctime"),
    ("time", "asctime"),
    ("time", "strftime"),
    ("func", "now"),
    ("func", "current_timestamp"),
    ("func", "current_date"),
    ("func", "localtimestamp"),
}
# Names that read the clock when imported bare (``from time import time``).
WALL_CLOCK_NAMES = {"time", "time_ns", "localtime", "gmtime", "ctime", "asctime", "strftime"}
# SQL text that asks the database for its time.
WALL_CLOCK_SQL = ("CURRENT_TIMESTAMP", "CURRENT_DATE", "datetime('now')", "now()")


def wall_clock_reads(source: str, filename: str = "<source>") -> list[str]:
    """Every place in ``source`` that reads the wall clock, as "file:line: what"."""
    tree = ast.parse(source, filename)
    bare = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "time":
            bare |= {a.asname or a.name for a in node.names if a.name in WALL_CLOCK_NAMES}
    found = []
    for node in ast.walk(tree):
        what = None
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                owner = func.value
                owner_name = (
                    owner.id
                    if isinstance(owner, ast.Name)
                    else owner.attr
                    if isinstance(owner, ast.Attribute)
                    else None
                )
                if (owner_name, func.attr) in WALL_CLOCK_CALLS:
                    what = f"{owner_name}.{func.attr}()"
            elif isinstance(func, ast.Name) and func.id in bare:
                what = f"{func.id}()"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            hit = next((sql for sql in WALL_CLOCK_SQL if sql.lower() in text.lower()), None)
            if hit and len(text) < 2000 and _looks_like_sql(text):
                what = f"SQL {hit}"
        if what:
            found.append(f"{filename}:{node.lineno}: {what}")
    return found


def _looks_like_sql(text: str) -> bool:
    upper = text.upper()
    return any(word in upper for word in ("SELECT", "INSERT", "UPDATE", "DEFAULT", "WHERE"))


def test_nothing_in_the_package_reads_the_wall_clock_but_the_clock_module():
    reads = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == CLOCK_MODULE:
            continue
        relative = str(path.relative_to(PACKAGE.parent))
        reads += wall_clock_reads(path.read_text(encoding="utf-8"), relative)
    assert reads == [], "read the time through exchange.clock instead:\n" + "\n".join(reads)


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime\nx = datetime.now()",
        "import datetime\nx = datetime.datetime.utcnow()",
        "from datetime import date\nx = date.today()",
        "import time\nx = time.time()",
        "from time import time as t\nx = t()",
        "from sqlalchemy import func\nx = func.now()",
        "x = 'SELECT * FROM cases WHERE due_at < CURRENT_TIMESTAMP'",
    ],
)
def test_the_check_finds_each_kind_of_read(source):
    assert len(wall_clock_reads(source)) == 1


def test_harmless_uses_are_not_reads():
    source = (
        "import time\nfrom datetime import datetime, UTC\n"
        "a = time.monotonic()\nb = datetime.now\nc = datetime(2030, 1, 1, tzinfo=UTC)\n"
        "d = time.sleep(0)\n"
    )
    assert wall_clock_reads(source) == []


def test_the_clock_is_aware_utc_and_follows_a_frozen_time(time_machine):
    time_machine.move_to(datetime(2028, 2, 29, 23, 30, tzinfo=UTC), tick=False)
    assert clock.now() == datetime(2028, 2, 29, 23, 30, tzinfo=UTC)
    assert clock.today().isoformat() == "2028-02-29"
    from zoneinfo import ZoneInfo

    assert clock.today(ZoneInfo("Asia/Kolkata")).isoformat() == "2028-03-01"
    assert clock.timestamp() == datetime(2028, 2, 29, 23, 30, tzinfo=UTC).timestamp()
