"""The exchange's one clock: every "now" and "today" in ``exchange/`` comes from here.

Deadlines, coverage calendars, end-of-support notices, retention and automatic closing
all turn on the current time, so reading it in one place is what lets a test fix it
(``time-machine`` in the suite) and a whole process run under a shifted system clock
(``make test-dates`` with libfaketime) and still agree with itself. Services keep their
``now=`` parameters for callers that know better; they default to ``now()``.

``tests/test_clock.py`` fails on a direct wall-clock read anywhere else in the package.
Intervals (timeouts, back-off) use ``time.monotonic``, which is not a wall clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo


def now() -> datetime:
    """The current time, aware and in UTC (the exchange stores and compares only these)."""
    return datetime.now(UTC)


def today(zone: tzinfo | None = None) -> date:
    """Today's date in ``zone`` (UTC unless given): a product's support status, a
    calendar's week and a report's month are read on it."""
    return now().astimezone(zone or UTC).date()


def timestamp() -> float:
    """Seconds since the epoch, for libraries that count in them (rate-limit windows)."""
    return now().timestamp()
