"""Shared wording for renderers: how states, urgencies and probabilities are said."""

from __future__ import annotations

from fbss.case.model import Presence
from fbss.knowledge.evidence import Evidence
from fbss.knowledge.models import Urgency
from fbss.reasoning.findings import Observed

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


def percent(p: float) -> str:
    """A probability as a whole percentage, never showing a misleading 0 % or 100 %."""
    value = p * 100
    if value < 1:
        return "<1 %"
    if value > 99:
        return ">99 %"
    return f"{value:.0f} %"


def finding_phrase(title: str, state: Presence, observed: Observed) -> str:
    """'Fever: present (38.4)' style phrase for a finding in a reason list."""
    text = title if state is Presence.present else f"not: {title}"
    if observed is not None:
        text += f" [{observed}]"
    return text
