"""Business time on coverage calendars: table tests for the awkward cases and
property-based tests for the arithmetic's laws."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.processes.calendar import (
    NoWorkingTime,
    add_business_time,
    business_time_between,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def office(zone="Europe/Berlin", start="08:00", end="18:00", days=WEEKDAYS, holidays=()):
    return {
        "mode": "business_hours",
        "time_zone": zone,
        "hours": [{"day": d, "start": start, "end": end} for d in days],
        "holidays": list(holidays),
    }


def local(zone, *args):
    return datetime(*args, tzinfo=zone)


def minutes(n):
    return timedelta(minutes=n)


def test_24x7_is_plain_elapsed_time():
    start = datetime(2026, 11, 27, 17, 59, tzinfo=UTC)
    assert add_business_time(start, minutes(60), {"mode": "24x7"}) == start + minutes(60)
    assert business_time_between(start, start + minutes(90), None) == minutes(90)


def test_friday_1759_before_a_monday_holiday_lands_on_tuesday():
    calendar = office(holidays=["2026-11-30"])  # Monday
    start = local(BERLIN, 2026, 11, 27, 17, 59)  # Friday
    due = add_business_time(start, minutes(60), calendar)
    assert due == local(BERLIN, 2026, 12, 1, 8, 59)
    assert business_time_between(start, due, calendar) == minutes(60)


def test_opened_outside_hours_starts_counting_at_the_next_window():
    start = local(BERLIN, 2026, 11, 28, 10, 0)  # Saturday
    assert add_business_time(start, minutes(120), office()) == local(BERLIN, 2026, 11, 30, 10, 0)


def test_spans_several_days():
    start = local(BERLIN, 2026, 11, 23, 17, 0)  # Monday
    # 4 h: 1 h on Monday, 3 h on Tuesday.
    assert add_business_time(start, minutes(240), office()) == local(BERLIN, 2026, 11, 24, 11, 0)


def test_spring_forward_window_holds_one_hour_less():
    # 2027-03-28 02:00 -> 03:00 in Berlin; a Sunday window 01:00-04:00 is 2 real hours.
    calendar = office(start="01:00", end="04:00", days=("sun",))
    start = local(BERLIN, 2027, 3, 28, 0, 0)
    assert business_time_between(start, start + timedelta(hours=6), calendar) == minutes(120)
    due = add_business_time(start, minutes(90), calendar)
    assert due.astimezone(BERLIN).replace(tzinfo=None) == datetime(2027, 3, 28, 3, 30)


def test_window_starting_in_the_missing_hour_starts_when_the_clock_resumes():
    calendar = office(zone="America/New_York", start="02:30", end="05:00", days=("sun",))
    start = local(NEW_YORK, 2027, 3, 14, 0, 0)  # clocks jump 02:00 -> 03:00
    due = add_business_time(start, minutes(30), calendar)
    assert due.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(2027, 3, 14, 3, 30)


def test_fall_back_window_holds_one_hour_more():
    # 2026-10-25 03:00 -> 02:00 in Berlin; a Sunday window 00:00-04:00 is 5 real hours.
    calendar = office(start="00:00", end="04:00", days=("sun",))
    start = local(BERLIN, 2026, 10, 24, 23, 0)
    assert business_time_between(start, start + timedelta(hours=8), calendar) == minutes(300)


def test_window_until_midnight():
    calendar = office(start="20:00", end="24:00", days=("mon",))
    start = local(BERLIN, 2026, 11, 23, 23, 0)
    assert add_business_time(start, minutes(90), calendar) == local(BERLIN, 2026, 11, 30, 20, 30)


def test_a_calendar_without_working_time_is_refused():
    with pytest.raises(NoWorkingTime):
        add_business_time(datetime(2026, 1, 1, tzinfo=UTC), minutes(1), office(days=()))


CALENDARS = st.sampled_from(
    [
        office(),
        office(zone="America/New_York", holidays=["2026-12-25", "2027-01-01"]),
        office(
            zone="Asia/Kolkata",
            start="09:00",
            end="21:00",
            days=("mon", "tue", "wed", "thu", "fri", "sat"),
        ),
        office(start="00:00", end="04:00", days=("sun",)),
        {
            "mode": "business_hours",
            "time_zone": "Australia/Lord_Howe",
            "hours": [
                {"day": "mon", "start": "01:00", "end": "03:00"},
                {"day": "mon", "start": "13:00", "end": "24:00"},
                {"day": "sun", "start": "01:30", "end": "02:30"},
            ],
            "holidays": [],
        },
        {"mode": "24x7"},
    ]
)
STARTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
AMOUNTS = st.integers(min_value=0, max_value=20_000).map(minutes)


@settings(max_examples=150, deadline=None)
@given(calendar=CALENDARS, start=STARTS, amount=AMOUNTS)
def test_adding_then_measuring_gives_the_amount_back(calendar, start, amount):
    due = add_business_time(start, amount, calendar)
    assert due >= start
    assert business_time_between(start, due, calendar) == amount


@settings(max_examples=150, deadline=None)
@given(calendar=CALENDARS, start=STARTS, a=AMOUNTS, b=AMOUNTS)
def test_adding_is_additive(calendar, start, a, b):
    assert add_business_time(start, a + b, calendar) == add_business_time(
        add_business_time(start, a, calendar), b, calendar
    )


@settings(max_examples=100, deadline=None)
@given(calendar=CALENDARS, start=STARTS, a=AMOUNTS, b=AMOUNTS)
def test_more_time_never_comes_earlier(calendar, start, a, b):
    small, large = sorted((a, b))
    assert add_business_time(start, small, calendar) <= add_business_time(start, large, calendar)
