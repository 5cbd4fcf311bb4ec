"""Follow-up time points (baseline, 6 weeks, 3 to 24 months): upcoming, due, overdue, completed, missed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fbss.instruments import ScheduleError, TimePointState, schedule
from fbss.instruments.dates import add_months
from fbss.knowledge.evidence import Evidence

OPERATION = date(2024, 3, 15)


def states(completed: list[date], today: date) -> dict[str, TimePointState]:
    return {s.time_point_id: s.status for s in schedule(OPERATION, completed, today)}


def test_time_points_and_windows() -> None:
    plan = {s.time_point_id: s for s in schedule(OPERATION, [], OPERATION)}
    assert list(plan) == ["baseline", "week_6", "month_3", "month_6", "month_12", "month_24"]
    assert plan["baseline"].target == OPERATION
    assert plan["week_6"].target == date(2024, 4, 26)
    assert (plan["week_6"].opens, plan["week_6"].closes) == (date(2024, 4, 12), date(2024, 5, 10))
    assert plan["month_3"].target == date(2024, 6, 15)
    assert plan["month_12"].target == date(2025, 3, 15)
    assert plan["month_24"].target == date(2026, 3, 15)
    assert all(s.window_evidence is Evidence.expert_estimate for s in plan.values())


def test_states_through_the_six_week_window() -> None:
    baseline_done = [date(2024, 3, 1)]
    assert states(baseline_done, date(2024, 4, 11))["week_6"] is TimePointState.upcoming
    assert states(baseline_done, date(2024, 4, 12))["week_6"] is TimePointState.due  # window opens (-2 weeks)
    assert states(baseline_done, date(2024, 4, 26))["week_6"] is TimePointState.due  # target date
    assert states(baseline_done, date(2024, 4, 27))["week_6"] is TimePointState.overdue
    assert states(baseline_done, date(2024, 5, 10))["week_6"] is TimePointState.overdue  # closes +2 weeks
    assert states(baseline_done, date(2024, 5, 11))["week_6"] is TimePointState.missed
    assert states(baseline_done, date(2024, 5, 11))["baseline"] is TimePointState.completed


def test_completion_counts_for_the_window_it_falls_in() -> None:
    today = date(2025, 4, 1)
    result = {s.time_point_id: s for s in schedule(OPERATION, [date(2024, 5, 10), date(2025, 1, 20)], today)}
    assert result["week_6"].status is TimePointState.completed
    assert result["week_6"].completed_on == date(2024, 5, 10)
    assert result["month_12"].status is TimePointState.completed  # 8 weeks before the target is inside
    assert result["baseline"].status is TimePointState.missed
    assert result["month_3"].status is TimePointState.missed
    assert result["month_24"].status is TimePointState.upcoming


def test_completion_outside_every_window_completes_nothing() -> None:
    result = states([date(2024, 8, 1)], date(2024, 8, 2))  # between 3 and 6 months windows
    assert TimePointState.completed not in result.values()


def test_baseline_window_is_six_weeks_before_the_reference_date() -> None:
    assert states([], OPERATION - timedelta(days=43))["baseline"] is TimePointState.upcoming
    assert states([], OPERATION - timedelta(days=42))["baseline"] is TimePointState.due
    assert states([], OPERATION)["baseline"] is TimePointState.due
    assert states([], OPERATION + timedelta(days=1))["baseline"] is TimePointState.missed


def test_month_end_reference_dates_clamp() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 11, 30), 3) == date(2024, 2, 29)
    assert add_months(date(2024, 8, 31), 6) == date(2025, 2, 28)
    plan = {s.time_point_id: s for s in schedule(date(2023, 11, 30), [], date(2023, 11, 30))}
    assert plan["month_3"].target == date(2024, 2, 29)


def test_completion_in_the_future_is_refused() -> None:
    with pytest.raises(ScheduleError, match=r"completed_dates: 2024-06-01 after today \(2024-05-01\)"):
        schedule(OPERATION, [date(2024, 6, 1)], date(2024, 5, 1))
