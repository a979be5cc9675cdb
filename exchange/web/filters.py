"""Template filters: every time is shown in the viewer's own time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_login import current_user


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


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["duration"] = duration
