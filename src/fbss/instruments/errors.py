"""Errors raised when an instrument is unknown, an answer is bad or a score cannot be computed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fbss.errors import FbssError

if TYPE_CHECKING:
    from fbss.instruments.safety import SafetyAlert


class InstrumentError(FbssError):
    """Bad input to an instrument: the message names the field and what was expected.

    Safety alerts found in the valid answers travel with the error, so refusing to score a form never hides,
    for example, a non-zero PHQ-9 item 9.
    """

    def __init__(self, message: str, alerts: tuple[SafetyAlert, ...] = ()) -> None:
        super().__init__(message)
        self.alerts = alerts


class UnknownInstrumentError(InstrumentError):
    """An instrument id that is not in the catalogue."""


class AnswerError(InstrumentError):
    """An answer that is out of range, not a number, or for an item the instrument does not have."""


class MissingAnswersError(InstrumentError):
    """Too many items are unanswered for the instrument's missing-item rule."""


class ChangeError(InstrumentError):
    """A change between two scores cannot be classified (no definition, or a score is missing)."""


class ScheduleError(InstrumentError):
    """Dates given to the follow-up schedule are inconsistent."""
