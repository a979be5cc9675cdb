"""Business time on a process's coverage calendar: pure functions, no clock of their own.

Coverage is ``24x7`` or weekly windows (``HH:MM``-``HH:MM`` per weekday, ``24:00``
allowed as an end) in an IANA time zone, minus holiday dates. Commitments count only
time inside the windows. Windows are wall-clock times, so on the days clocks change a
window holds one hour more or less of real time; a window boundary that falls in the
hour that does not exist moves to the first minute that does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from exchange.processes.defaults import DAYS

# Searching further than this for working time means the calendar has none (generous:
# a sparse calendar may need years to fit a long commitment).
MAX_DAYS = 366 * 20


class NoWorkingTime(ValueError):
    """The calendar has no working time at all."""


def _parse(value: str) -> tuple[int, int]:
    hours, minutes = value.split(":")
    return int(hours), int(minutes)


def _wall_to_utc(day: date, hhmm: str, zone: ZoneInfo) -> datetime:
    hours, minutes = _parse(hhmm)
    if hours == 24:
        day, hours = day + timedelta(days=1), 0
    local = datetime.combine(day, time(hours, minutes), tzinfo=zone)
    # In the hour skipped when clocks go forward the wall time does not exist: move to
    # the first minute that does (it round-trips through UTC unchanged).
    for _ in range(24 * 60):
        back = local.astimezone(UTC).astimezone(zone)
        if back.replace(tzinfo=None) == local.replace(tzinfo=None):
            return local.astimezone(UTC)
        local += timedelta(minutes=1)
    raise NoWorkingTime(f"cannot place {hhmm} on {day} in {zone.key}")


def _windows(coverage: dict, day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    if day.isoformat() in set(coverage.get("holidays", [])):
        return []
    weekday = DAYS[day.weekday()]
    spans = sorted((h["start"], h["end"]) for h in coverage.get("hours", []) if h["day"] == weekday)
    return [(_wall_to_utc(day, s, zone), _wall_to_utc(day, e, zone)) for s, e in spans]


def is_24x7(coverage: dict | None) -> bool:
    return not coverage or coverage.get("mode", "24x7") == "24x7"


def _walk(start: datetime, coverage: dict):
    """Working windows (UTC) that end after ``start``, in order, clipped to ``start``."""
    zone = ZoneInfo(coverage.get("time_zone") or "UTC")
    first = start.astimezone(zone).date() - timedelta(days=1)
    for offset in range(MAX_DAYS):
        for begin, end in _windows(coverage, first + timedelta(days=offset), zone):
            if end > start:
                yield max(begin, start), end
    raise NoWorkingTime("the coverage calendar has no working time")


def add_business_time(start: datetime, amount: timedelta, coverage: dict | None) -> datetime:
    """The moment ``amount`` of working time after ``start`` has passed."""
    if is_24x7(coverage):
        return start + amount
    remaining = amount
    for begin, end in _walk(start, coverage):
        if remaining <= end - begin:
            return begin + remaining
        remaining -= end - begin
    raise NoWorkingTime("unreachable")  # _walk raises first


def business_time_between(start: datetime, end: datetime, coverage: dict | None) -> timedelta:
    """Working time from ``start`` to ``end`` (zero if ``end`` is not after ``start``)."""
    if end <= start:
        return timedelta(0)
    if is_24x7(coverage):
        return end - start
    total = timedelta(0)
    for begin, finish in _walk(start, coverage):
        if begin >= end:
            return total
        total += min(finish, end) - begin
    return total


def has_working_time(coverage: dict | None) -> bool:
    if is_24x7(coverage):
        return True
    return bool(coverage.get("hours"))
