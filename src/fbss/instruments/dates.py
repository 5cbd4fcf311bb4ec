"""Calendar arithmetic for follow-up time points: offsets in days, weeks and calendar months."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from fbss.instruments.models import Offset, TimePoint


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def shift(day: date, offset: Offset) -> date:
    """The date `offset` after `day`."""
    return add_months(day, offset.months) + timedelta(days=offset.days, weeks=offset.weeks)


def window(reference: date, time_point: TimePoint) -> tuple[date, date, date]:
    """(opens, target, closes) of a time point for a reference date; both ends belong to the window."""
    target = shift(reference, time_point.offset)
    return (
        target - timedelta(days=time_point.window_before_days),
        target,
        target + timedelta(days=time_point.window_after_days),
    )
