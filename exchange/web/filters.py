"""Template filters: every time is shown in the viewer's own time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask_login import current_user

from exchange import clock


def viewer_zone() -> ZoneInfo:
    zone = getattr(current_user, "time_zone", None) if current_user else None
    try:
        return ZoneInfo(zone or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    if value is None:
        return ""
    return value.astimezone(viewer_zone()).strftime(fmt)


def duration(seconds: int | None) -> str:
    """A time span for people: "1 h 05 min", "3 d 2 h", "overdue 12 min"."""
    if seconds is None:
        return ""
    prefix = "overdue " if seconds < 0 else ""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{prefix}{days} d {hours} h"
    if hours:
        return f"{prefix}{hours} h {minutes:02d} min"
    return f"{prefix}{minutes} min"


def coverage_local(coverage: dict, today: date | None = None) -> list[str]:
    """A process's weekly hours as the viewer's wall-clock times ("Mon 02:00-12:00"),
    read for the coming week (daylight saving can shift them by an hour later on)."""
    if not coverage or coverage.get("mode") != "business_hours":
        return []
    zone, viewer = ZoneInfo(coverage.get("time_zone") or "UTC"), viewer_zone()
    today = today or clock.today(zone)
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    shown = []
    for window in coverage.get("hours", []):
        offset = (days.index(window["day"]) - today.weekday()) % 7
        day = today + timedelta(days=offset)
        start, end = (_at(day, window[k], zone).astimezone(viewer) for k in ("start", "end"))
        label = start.strftime("%a %H:%M") + "\u2013" + end.strftime("%H:%M")
        if end.date() != start.date():
            label += end.strftime(" (%a)")
        shown.append(label)
    return shown


def _at(day: date, hhmm: str, zone: ZoneInfo) -> datetime:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(0, 0), tzinfo=zone) + timedelta(hours=hours, minutes=minutes)


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["duration"] = duration
    app.jinja_env.filters["coverage_local"] = coverage_local
