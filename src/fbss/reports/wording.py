"""Shared wording for renderers: how states, urgencies and probabilities are said."""

from __future__ import annotations

from collections.abc import Callable

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


def finding_phrase(title: str, state: Presence, observed: Observed) -> str:
    """'Fever: present (38.4)' style phrase for a finding in a reason list."""
    text = title if state is Presence.present else f"not: {title}"
    if observed is not None:
        text += f" [{observed}]"
    return text
