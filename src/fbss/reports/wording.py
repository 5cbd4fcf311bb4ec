"""Shared wording for renderers: how states, urgencies and probabilities are said."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from fbss.case.model import Presence
from fbss.case.vocabulary import LAB_UNITS, Lab
from fbss.knowledge.evidence import Evidence
from fbss.knowledge.models import Urgency
from fbss.reasoning.findings import Observed
from fbss.reasoning.results import Differential, RedFlagResult, Trigger, shown_percent

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


DAYS_PER_MONTH = 30.44

# How a number read from a case path is written, as a clinician writes it: '{}' is the value.
_UNITS: dict[str, str] = {
    "patient.age": "{} years",
    "patient.egfr": "eGFR {} mL/min/1.73 m²",
    "exam.temperature_c": "{} °C",
    "exam.motor_grade_weakest": "MRC grade {}",
    "exam.si_provocation_positive_tests": "{} tests positive",
    "red_flags.post_void_residual_ml": "{} mL",
    "pain.nrs_back": "NRS {}/10",
    "pain.nrs_leg": "NRS {}/10",
    "pain.back_share_percent": "{} % of the pain in the back",
    "pain.duration_months": "{} months",
    "course.pain_free_interval_months": "{} months",
    "function.odi_percent": "ODI {} %",
    "function.walking_distance_m": "{} m",
    "psychosocial.phq9_item9": "scored {}",
    "psychosocial.phq9_total": "PHQ-9 {}",
    "psychosocial.gad7_total": "GAD-7 {}",
    "psychosocial.dn4_total": "DN4 {}/10",
    "psychosocial.pcs_total": "PCS {}",
    "psychosocial.startback_distress": "STarT Back distress {}",
    "psychosocial.opioid_mme": "{} mg morphine equivalent a day",
    "risk_factors.bmi": "BMI {}",
    "risk_factors.dexa_t_score": "T-score {}",
    "alignment.sagittal_vertical_axis_mm": "SVA {} mm",
    "alignment.coronal_offset_mm": "{} mm",
    "alignment.pelvic_tilt_deg": "{}°",
    "derived.pi_ll_mismatch_deg": "PI-LL {}°",
    "derived.operations": "{} operations",
    "treatment": "{} % relief",
}


def _number(value: float) -> str:
    return f"{round(value, 1):g}"


def time_since_surgery(months: float) -> str:
    """0.07 months -> 'day 2'; 1.6 -> '7 weeks'; 8 -> '8 months'; 40 -> '3.3 years'."""
    days = round(months * DAYS_PER_MONTH)
    if days < 14:
        return f"day {days}"
    if months < 3:
        return f"{round(days / 7)} weeks"
    if months < 24:
        return f"{round(months):d} months"
    return f"{_number(months / 12)} years"


def observed_text(observed: Observed, source: str | None = None) -> str:
    """A value a finding was read from, as a clinician writes it: 20.73 months since surgery -> '21 months',
    650 at the post-void residual -> '650 mL', 'back_and_leg' -> 'back and leg'."""
    if isinstance(observed, bool):  # a yes/no never prints as 'True'
        return "yes" if observed else "no"
    if isinstance(observed, int | float):
        if source == "derived.months_since_surgery":
            return time_since_surgery(float(observed))
        if source is not None and source.startswith("lab:"):
            unit = LAB_UNITS.get(Lab(source.removeprefix("lab:")), "").replace("10^9", "×10⁹")
            return f"{_number(observed)} {unit}".strip()
        return _UNITS.get(source or "", "{}").format(_number(observed))
    return str(observed).replace("_", " ")


def finding_phrase(title: str, state: Presence, observed: Observed, source: str | None = None) -> str:
    """'Age 50 or over (62 years)' for a finding present, 'not: Fever' for one absent."""
    text = title if state is Presence.present else f"not: {title}"
    if observed is not None:
        value = observed_text(observed, source)
        # a value with its unit never follows a bracket in brackets: '… (thoughts of death or self-harm), scored 1'
        text += f", {value}" if source and text.endswith(")") else f" ({value})"
    return text


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
