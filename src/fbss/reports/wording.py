"""Shared wording for renderers: how states, urgencies and probabilities are said."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from fbss.case.model import Presence
from fbss.case.values import restates, since_surgery, value_text
from fbss.knowledge.evidence import Evidence
from fbss.knowledge.models import Urgency
from fbss.reasoning.assess import Assessment
from fbss.reasoning.findings import Observed
from fbss.reasoning.prose import joined as joined
from fbss.reasoning.results import Differential, Question, Reason, RedFlagResult, Trigger, shown_percent

URGENCY_LABEL = {
    Urgency.emergency: "EMERGENCY",
    Urgency.same_day: "SAME DAY",
    Urgency.within_days: "WITHIN DAYS",
}

EVIDENCE_LABEL = {
    Evidence.published_figure: "published figure",
    Evidence.guideline: "guideline",
    Evidence.secondary: "secondary source",
    Evidence.expert_estimate: "expert estimate",
}


percent = shown_percent


def cause_percent(differential: Differential) -> Callable[[float], str]:
    """`percent` with the ceiling of the differential's calibration statement."""
    return differential.percent


COMPETING = (
    "The causes compete for the main explanation: their probabilities and the share no listed cause explains add "
    "up to 100 %; causes that contribute beside the main one are listed as coexisting."
)


def calibration_lines(differential: Differential) -> list[str]:
    """What the differential says beyond its table: coexisting contributors, the unexplained share, calibration."""
    show = cause_percent(differential)
    lines = []
    if differential.coexisting:
        lines.append(
            "Coexisting contributors: "
            + "; ".join(
                f"{c.title} (its own findings ×{likelihood_ratio(c.likelihood_ratio)})" for c in differential.coexisting
            )
        )
    lines.append(f"No listed cause: {show(differential.unexplained)}.")
    if differential.calibration:
        lines.append(f"How far to trust the numbers: {differential.calibration.statement}")
    return lines


def likelihood_ratio(value: float) -> str:
    """A likelihood ratio to two significant figures: 0.487805 -> '0.49', 2.5 -> '2.5', 8 -> '8', 12.4 -> '12'."""
    if value >= 10:
        return f"{round(value):d}"
    return f"{float(f'{value:.2g}'):g}"


def since_surgery_text(months: float | None, operation: str) -> str:
    """'day 2 after fusion', '7 weeks after decompression', '7.4 years after fusion' or 'time since surgery not
    given': the time since the operation as the header of every output says it."""
    return since_surgery(months, operation)


def observed_text(observed: Observed, source: str | None = None) -> str:
    """A value a finding was read from, as a clinician writes it (see `fbss.case.values.value_text`)."""
    return value_text(observed, source)


def finding_phrase(title: str, state: Presence, observed: Observed, source: str | None = None) -> str:
    """'Age 50 or over (62 years)' for a finding present, 'not: Fever' for one absent; a value in words that only
    repeats the title ('Pain is new and different from before surgery (different)') is left out."""
    text = title if state is Presence.present else f"not: {title}"
    if isinstance(observed, str) and restates(title, observed):
        observed = None
    if observed is not None:
        value = observed_text(observed, source)
        # a value with its unit never follows a bracket in brackets: '… (thoughts of death or self-harm), scored 1'
        text += f", {value}" if source and text.endswith(")") else f" ({value})"
    return text


def reason_phrase(reason: Reason) -> str:
    """A finding that moved a cause, with its value in words and units: 'More than 2 years since surgery
    (7.4 years)', 'CRP above 10 mg/L (92 mg/L)', 'not: Fever'."""
    return finding_phrase(reason.title, reason.state, reason.observed, reason.source)


def reason_with_ratio(reason: Reason, mark: str = "LR ") -> str:
    """'More than 2 years since surgery (7.4 years) (LR 3)': a reason with its rounded likelihood ratio."""
    ratio = f"{mark}{likelihood_ratio(reason.likelihood_ratio)}"
    return f"{reason_phrase(reason)} ({ratio})" if mark == "LR " else f"{reason_phrase(reason)} {ratio}"


def trigger_phrase(trigger: Trigger) -> str:
    """A finding that fired a red flag as a clinician writes it: 'Within the first month after surgery (day 0)'."""
    return finding_phrase(trigger.title, Presence.present, trigger.observed, trigger.source)


def fired_by_text(flag: RedFlagResult, sep: str = "; ") -> str:
    """What fired a red flag, one finding after another."""
    return sep.join(trigger_phrase(t) for t in flag.fired_by)


class _Asked(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def question(self) -> str | None: ...


def asks(items: Iterable[_Asked]) -> str:
    """The questions of red flags or findings still open, run together."""
    return joined(q.question or q.title for q in items)


def ask_next(assessment: Assessment) -> tuple[Question, ...]:
    """The questions that would change the differential most, less any the open red-flag screen already asks:
    one item is asked once, in its most urgent place."""
    screen = assessment.triage.screen.open
    asked = {q.finding for q in screen} | {f.finding for q in screen for f in q.then_ask}
    texts = {_said(q.question or q.title) for q in screen} | {_said(f.text) for q in screen for f in q.then_ask}
    return tuple(
        q
        for q in assessment.differential.ask_next
        if q.finding not in asked and _said(q.question or q.title) not in texts
    )


def _said(text: str) -> str:
    return " ".join(text.lower().replace(",", " ").split())
