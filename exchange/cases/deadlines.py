"""When a case's commitments fall due.

For now elapsed minutes from the moment the clock starts; the deadlines work replaces
the body of ``due_after`` with arithmetic on the receiver's coverage calendar, and
every caller keeps working unchanged.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def due_after(start: datetime, minutes: int | None, coverage: dict) -> datetime | None:
    """``minutes`` of the receiver's commitment counted from ``start``; None when the
    commitment is "as negotiated" (no deadline)."""
    if minutes is None:
        return None
    return start + timedelta(minutes=minutes)


def response_due(content: dict, severity: str, start: datetime) -> datetime | None:
    level = next(s for s in content["severities"] if s["key"] == severity)
    return due_after(start, level.get("response_minutes"), content.get("coverage", {}))
