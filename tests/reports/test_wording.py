"""Values read from a case, as a clinician writes them in a 'fired by' line."""

from __future__ import annotations

import pytest

from fbss.reasoning.results import Trigger
from fbss.reports.wording import observed_text, trigger_phrase


@pytest.mark.parametrize(
    ("months", "text"),
    [(0.0, "day 0"), (0.07, "day 2"), (0.1, "day 3"), (1.6, "7 weeks"), (8.0, "8 months"), (40.0, "3.3 years")],
)
def test_time_since_surgery_reads_in_days_weeks_months_or_years(months: float, text: str) -> None:
    assert observed_text(months, "derived.months_since_surgery") == text


@pytest.mark.parametrize(
    ("value", "source", "text"),
    [
        (650.0, "red_flags.post_void_residual_ml", "650 mL"),
        (38.44, "exam.temperature_c", "38.4 °C"),
        (120.0, "lab:crp", "120 mg/L"),
        (12.5, "lab:wbc", "12.5 ×10⁹/L"),
        ("raised", "lab:crp", "raised"),
        (63, "patient.age", "63 years"),
        (True, "red_flags.fever", "yes"),
        (20.73, None, "20.7"),
    ],
)
def test_a_value_carries_its_unit_never_a_raw_float(value: float | str, source: str | None, text: str) -> None:
    assert observed_text(value, source) == text


def test_a_title_in_brackets_is_not_followed_by_a_second_bracket() -> None:
    trigger = Trigger(
        "phq9_item9_positive", "PHQ-9 item 9 above 0 (thoughts of death or self-harm)", 1, "psychosocial.phq9_item9"
    )
    assert trigger_phrase(trigger) == "PHQ-9 item 9 above 0 (thoughts of death or self-harm), scored 1"
    assert trigger_phrase(Trigger("urinary_retention", "Urinary retention", None)) == "Urinary retention"
