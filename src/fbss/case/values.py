"""How a value read from a case is written for a reader: in words, with its unit, never as a bare number."""

from __future__ import annotations

import re

from fbss.case.vocabulary import LAB_UNITS, Lab

DAYS_PER_MONTH = 30.44

# How a number read from a case path is written, as a clinician writes it: '{}' is the value.
UNITS: dict[str, str] = {
    "patient.age": "{} years",
    "patient.egfr": "eGFR {} mL/min/1.73 m²",
    "exam.temperature_c": "{} °C",
    "exam.motor_grade_weakest": "MRC grade {}",
    "exam.si_provocation_positive_tests": "{} tests positive",
    "red_flags.post_void_residual_ml": "{} mL",
    "pain.nrs_back": "NRS {}/10",
    "pain.nrs_leg": "NRS {}/10",
    "pain.back_share_percent": "{} % of the pain in the back",
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

# Durations recorded in months, written in days, weeks, months or years as their size asks.
DURATIONS = frozenset({"pain.duration_months", "course.pain_free_interval_months"})


def number(value: float) -> str:
    """20.73 -> '20.7', 650.0 -> '650': one decimal at most, never a trailing '.0'."""
    return f"{round(value, 1):g}"


def time_parts(months: float, since_surgery: bool = False) -> tuple[str, str]:
    """A length of time recorded in months as (number, unit), the unit one of 'day' (the day after surgery: 'day
    2'), 'days', 'weeks', 'months', 'years', so that a translated template can say it in its own words."""
    days = round(months * DAYS_PER_MONTH)
    if days < 14:
        return str(days), "day" if since_surgery else "days"
    if months < 3:
        return str(round(days / 7)), "weeks"
    if months < 24:
        return str(round(months)), "months"
    return number(months / 12), "years"


def _say(months: float, since_surgery: bool) -> str:
    n, unit = time_parts(months, since_surgery)
    if unit == "day":
        return f"day {n}"
    if n == "1":
        unit = unit.removesuffix("s")
    return f"{n} {unit}"


def time_since_surgery(months: float) -> str:
    """0.07 months -> 'day 2'; 1.6 -> '7 weeks'; 8 -> '8 months'; 40 -> '3.3 years'."""
    return _say(months, since_surgery=True)


def duration(months: float) -> str:
    """A length of time recorded in months: 0.1 -> '3 days'; 1.6 -> '7 weeks'; 8 -> '8 months'; 78 -> '6.5 years'."""
    return _say(months, since_surgery=False)


def since_surgery(months: float | None, operation: str) -> str:
    """The header line's time since the operation: 'day 2 after fusion', '7 weeks after decompression', or
    'time since surgery not given'."""
    if months is None:
        return "time since surgery not given"
    when = time_since_surgery(months)
    return f"{when} after {operation}"


def value_text(value: str | float | bool | None, source: str | None = None) -> str:
    """A value a finding was read from, as a clinician writes it: 20.73 months since surgery -> '21 months',
    650 at the post-void residual -> '650 mL', 'back_and_leg' -> 'back and leg'."""
    if value is None:
        return ""
    if isinstance(value, bool):  # a yes/no never prints as 'True'
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if source == "derived.months_since_surgery":
            return time_since_surgery(float(value))
        if source in DURATIONS:
            return duration(float(value))
        if source is not None and source.startswith("lab:"):
            lab = Lab(source.removeprefix("lab:"))
            unit = LAB_UNITS.get(lab, "").replace("10^9", "×10⁹")
            if unit == "ratio":  # a ratio has no unit: 'ratio 0.3'
                return f"ratio {number(value)}"
            return f"{number(value)} {unit}".strip()
        return UNITS.get(source or "", "{}").format(number(value))
    return str(value).replace("_", " ")


def restates(title: str, value: str) -> bool:
    """True when a value in words adds nothing to its finding's title: 'different' after 'Pain is new and
    different from before surgery', 'severe' after '… or called severe'."""
    words = re.findall(r"[a-z0-9]+", value.lower().replace("_", " "))
    said = set(re.findall(r"[a-z0-9]+", title.lower()))
    return bool(words) and all(w in said for w in words)
