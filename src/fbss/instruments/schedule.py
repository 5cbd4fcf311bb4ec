"""Follow-up time points after a reference date: upcoming, due, overdue, completed or missed on a day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from fbss.instruments.catalogue import InstrumentCatalogue, load_instruments
from fbss.instruments.dates import window
from fbss.instruments.errors import ScheduleError
from fbss.knowledge.evidence import Evidence


class TimePointState(StrEnum):
    """Where a time point stands on a given day. Window ends belong to the window."""

    upcoming = "upcoming"  # the window has not opened
    due = "due"  # the window is open and the target date has not passed
    overdue = "overdue"  # past the target date, window still open
    missed = "missed"  # the window closed without a completed questionnaire
    completed = "completed"  # a completion date falls inside the window


class TimePointStatus(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    time_point_id: str
    title: str
    target: date
    opens: date
    closes: date
    status: TimePointState
    completed_on: date | None
    window_evidence: Evidence
    because: str


def schedule(
    reference_date: date,
    completed_dates: Iterable[date],
    today: date,
    *,
    catalogue: InstrumentCatalogue | None = None,
) -> list[TimePointStatus]:
    """The status of every time point on `today`; each completion counts for the window it falls in."""
    catalogue = catalogue or load_instruments()
    plan = catalogue.schedule
    completed = sorted(set(completed_dates))
    late = [d.isoformat() for d in completed if d > today]
    if late:
        raise ScheduleError(
            f"completed_dates: {', '.join(late)} after today ({today.isoformat()}); expected past dates"
        )
    statuses = []
    for time_point in plan.time_points:
        opens, target, closes = window(reference_date, time_point)
        done = next((d for d in completed if opens <= d <= closes), None)
        if done is not None:
            state = TimePointState.completed
        elif today < opens:
            state = TimePointState.upcoming
        elif today <= target:
            state = TimePointState.due
        elif today <= closes:
            state = TimePointState.overdue
        else:
            state = TimePointState.missed
        statuses.append(
            TimePointStatus(
                time_point_id=time_point.id,
                title=time_point.title,
                target=target,
                opens=opens,
                closes=closes,
                status=state,
                completed_on=done,
                window_evidence=plan.window_evidence,
                because=(
                    f"{time_point.title}: target {target}, window {opens} to {closes} "
                    f"({plan.window_evidence.value}); {state.value} on {today}"
                ),
            )
        )
    return statuses
