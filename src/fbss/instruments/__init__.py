"""Questionnaire scoring and clinically important change: instruments, bands, MCIDs, safety alerts, follow-up.

Definitions live in knowledge/data/instruments.yaml; this package loads them and applies them as pure
functions.
"""

from fbss.instruments.catalogue import InstrumentCatalogue, load_crisis_contacts, load_instruments
from fbss.instruments.change import ChangeResult, DefinitionResult, McidResult, classify_change
from fbss.instruments.errors import (
    AnswerError,
    ChangeError,
    InstrumentError,
    MissingAnswersError,
    ScheduleError,
    UnknownInstrumentError,
)
from fbss.instruments.models import CrisisContacts, Outcome
from fbss.instruments.safety import SafetyAlert
from fbss.instruments.schedule import TimePointState, TimePointStatus, schedule
from fbss.instruments.scoring import BandResult, ScaleValue, Score, score

__all__ = [
    "AnswerError",
    "BandResult",
    "ChangeError",
    "ChangeResult",
    "CrisisContacts",
    "DefinitionResult",
    "InstrumentCatalogue",
    "InstrumentError",
    "McidResult",
    "MissingAnswersError",
    "Outcome",
    "SafetyAlert",
    "ScaleValue",
    "ScheduleError",
    "Score",
    "TimePointState",
    "TimePointStatus",
    "UnknownInstrumentError",
    "classify_change",
    "load_crisis_contacts",
    "load_instruments",
    "schedule",
    "score",
]
