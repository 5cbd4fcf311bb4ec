"""Shared wording for renderers: how states, urgencies and probabilities are said."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from fbss.case.model import Presence
from fbss.knowledge.evidence import Evidence
from fbss.knowledge.models import Urgency
from fbss.reasoning.findings import Observed
from fbss.reasoning.results import Differential, shown_percent

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
            + "; ".join(f"{c.title} (its own findings ×{c.likelihood_ratio:.0f})" for c in differential.coexisting)
        )
    lines.append(f"No listed cause: {show(differential.unexplained)}.")
    if differential.calibration:
        lines.append(f"How far to trust the numbers: {differential.calibration.statement}")
    return lines


def observed_text(observed: Observed) -> str:
    """A value a finding was read from, as a clinician writes it: 20.73 months -> '20.7', 'back_and_leg' ->
    'back and leg'."""
    if isinstance(observed, float):
        return f"{round(observed, 1):g}"
    return str(observed).replace("_", " ")


def finding_phrase(title: str, state: Presence, observed: Observed) -> str:
    """'Age 50 or over (62)' for a finding present, 'not: Fever' for one absent."""
    text = title if state is Presence.present else f"not: {title}"
    if observed is not None:
        text += f" ({observed_text(observed)})"
    return text


class _Asked(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def question(self) -> str | None: ...


def asks(items: Iterable[_Asked]) -> str:
    """The questions of red flags or findings still open, run together."""
    return joined(q.question or q.title for q in items)


def joined(texts: Iterable[str]) -> str:
    """Questions and clauses run together: 'Any fever? Any weight loss?; …' never shows '?;'."""
    out = ""
    for text in texts:
        text = text.strip()
        if not text:
            continue
        if out:
            out += " " if out[-1] in "?.!" else "; "
        out += text
    return out
