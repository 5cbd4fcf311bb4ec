"""Values read from a case, as a clinician writes them in a 'fired by' line."""

from __future__ import annotations

import pytest

from fbss.case.model import Presence
from fbss.reasoning.results import Trigger
from fbss.reports.care_wording import effect_text
from fbss.reports.wording import (
    finding_phrase,
    joined,
    likelihood_ratio,
    observed_text,
    since_surgery_text,
    trigger_phrase,
)


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


@pytest.mark.parametrize(
    ("ratio", "text"),
    [(0.487805, "0.49"), (0.666667, "0.67"), (2.5, "2.5"), (8.0, "8"), (12.4, "12"), (150.0, "150"), (1.0, "1")],
)
def test_a_likelihood_ratio_is_given_to_two_significant_figures(ratio: float, text: str) -> None:
    assert likelihood_ratio(ratio) == text


@pytest.mark.parametrize(
    ("months", "text"),
    [
        (0.0, "day 0 after fusion"),
        (0.03, "day 1 after fusion"),
        (0.5, "2 weeks after fusion"),
        (20.73, "21 months after fusion"),
        (89.3, "7.4 years after fusion"),
        (None, "time since surgery not given"),
    ],
)
def test_the_time_since_surgery_is_never_a_fraction_of_a_month(months: float | None, text: str) -> None:
    assert since_surgery_text(months, "fusion") == text


def test_a_duration_reads_in_the_unit_its_size_asks() -> None:
    assert observed_text(78.0, "course.pain_free_interval_months") == "6.5 years"
    assert observed_text(0.1, "pain.duration_months") == "3 days"


def test_a_value_in_words_that_repeats_the_title_is_left_out() -> None:
    title = "Pain is new and different from before surgery"
    assert finding_phrase(title, Presence.present, "different", "course.pain_compared_with_before") == title
    assert finding_phrase("Pain on both sides", Presence.present, "bilateral") == "Pain on both sides (bilateral)"
    assert finding_phrase(
        "More than 2 years since surgery", Presence.present, 89.3, "derived.months_since_surgery"
    ) == ("More than 2 years since surgery (7.4 years)")


@pytest.mark.parametrize(
    ("effect", "text"),
    [
        ("set 6", "score set to 6/9"),
        ("+1", "score +1"),
        ("-2", "score −2"),
        ("cap 3", "score capped at 3/9"),
        ("caution", ""),
    ],
)
def test_a_rules_effect_is_said_in_words(effect: str, text: str) -> None:
    assert effect_text(effect) == text


def test_questions_and_clauses_never_run_together_with_a_question_mark_and_semicolon() -> None:
    assert joined(["Any fever?", "Record the date of the operation", "Any weight loss?"]) == (
        "Any fever? Record the date of the operation; Any weight loss?"
    )
