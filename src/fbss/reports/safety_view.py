"""The red flags laid out for a page, a document or a card: each fired flag with its definitive treatment first,
the urgent tests still to do and those already done, and the open red-flag questions as one checklist. Nothing is
recomputed: flags, ratings and tests are the Assessment's own. Renderers and the decision summary share this."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fbss.knowledge.models import Urgency
from fbss.reasoning.assess import Assessment
from fbss.reasoning.care_results import Rating, RecordedResult, TestSuggestion
from fbss.reasoning.results import RedFlagResult, ScreenQuestion


@dataclass(frozen=True, slots=True)
class FlagView:
    """A fired red flag: what to do now, the treatment that acts on it, the tests to order and those done."""

    flag: RedFlagResult
    definitive: tuple[Rating, ...]  # shown right after the action; rated on their own merits
    tests: tuple[TestSuggestion, ...]  # urgent tests still to do
    recorded: tuple[RecordedResult, ...]  # urgent tests already done: result shown, not ordered again


@dataclass(frozen=True, slots=True)
class ScreenView:
    """The red-flag screen as one checklist, visually apart from a fired flag."""

    open: tuple[ScreenQuestion, ...]
    negative: bool  # a negative screen counts for this visit
    recorded_by: str | None
    recorded_at: dt.datetime | None
    stale: bool  # recorded at an earlier visit: it no longer counts
    headline: str
    answerable: int  # open questions a 'screen negative' answers at once


@dataclass(frozen=True, slots=True)
class SafetyView:
    level: Urgency | None
    flags: tuple[FlagView, ...]  # fired flags, most urgent first
    screen: ScreenView

    def sources(self) -> tuple[str, ...]:
        """Source ids the red-flag section cites, in order of first citation."""
        ids = [s for f in self.flags for s in f.flag.sources]
        ids += [s for f in self.flags for t in f.tests if t.accuracy for s in t.accuracy.sources]
        ids += [s for f in self.flags for r in f.definitive for b in r.because for s in b.sources]
        return tuple(dict.fromkeys(ids))


def screen_headline(open_count: int) -> str:
    """'Red-flag screen: 6 questions open'."""
    return f"Red-flag screen: {open_count} question{'s' if open_count != 1 else ''} open"


def _headline(open_count: int, negative: bool, by: str | None, at: dt.datetime | None) -> str:
    if open_count:
        return screen_headline(open_count)
    if negative and by and at:
        return f"Red-flag screen negative (recorded by {by}, {at:%Y-%m-%d %H:%M})"
    return "Red-flag screen: no question open"


def safety_view(assessment: Assessment) -> SafetyView:
    """The red flags and the screen of one assessment, ready to render."""
    triage = assessment.triage
    ratings = {r.id: r for r in assessment.options.options}
    work = assessment.workup
    definitive = {care.flag: care.options for care in assessment.plan.definitive}
    flags = tuple(
        FlagView(
            flag=flag,
            definitive=tuple(ratings[o] for o in definitive.get(flag.flag, ())),
            tests=tuple(t for t in work.urgent if flag.flag in t.for_flags),
            recorded=tuple(r for r in work.recorded if flag.flag in r.for_flags),
        )
        for flag in triage.fired
    )
    screen = triage.screen
    return SafetyView(
        level=triage.level,
        flags=flags,
        screen=ScreenView(
            open=screen.open,
            negative=screen.negative,
            recorded_by=screen.recorded_by,
            recorded_at=screen.recorded_at,
            stale=screen.stale,
            headline=_headline(len(screen.open), screen.negative, screen.recorded_by, screen.recorded_at),
            answerable=sum(1 for q in screen.open if q.screened),
        ),
    )
