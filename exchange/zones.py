"""IANA time zone names, read once: the system's zone list does not change while the
exchange runs, and reading it costs milliseconds each time."""

import functools
from zoneinfo import available_timezones


@functools.cache
def known_time_zones() -> frozenset[str]:
    return frozenset(available_timezones())
