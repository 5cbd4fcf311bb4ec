"""PHQ-9 item 9: any answer above 0 raises a same-day clinician alert and a patient message with help."""

from __future__ import annotations

from pathlib import Path

import pytest

from fbss.instruments import AnswerError, MissingAnswersError, load_crisis_contacts, score


def phq9(item9: int | None, **others: int | None) -> dict[str, int | None]:
    answers: dict[str, int | None] = dict.fromkeys((f"item{i}" for i in range(1, 9)), 0)
    answers["item9"] = item9
    answers.update(others)
    return answers


@pytest.mark.parametrize("answer", [1, 2, 3])
def test_any_answer_above_zero_on_item_9_raises_a_same_day_alert(answer: int) -> None:
    result = score("phq9", phq9(answer))
    assert len(result.alerts) == 1
    alert = result.alerts[0]
    assert alert.alert_id == "phq9_item9"
    assert alert.item_id == "item9" and alert.answer == answer
    assert alert.clinician_deadline == "same_day"
    assert "today" in alert.clinician_message
    assert "not read in real time" in alert.patient_message
    assert "local emergency number" in alert.patient_message
    assert any("safety alert phq9_item9" in line for line in result.because)


def test_alert_is_raised_even_when_the_total_is_in_the_lowest_band() -> None:
    result = score("phq9", phq9(1))
    assert result.total == 1 and result.band == "minimal"
    assert result.alerts


def test_no_alert_for_zero_or_unanswered_item_9() -> None:
    assert score("phq9", phq9(0)).alerts == ()
    with pytest.raises(MissingAnswersError) as caught:
        score("phq9", phq9(None))
    assert caught.value.alerts == ()


def test_refusing_an_incomplete_form_does_not_hide_the_alert() -> None:
    with pytest.raises(MissingAnswersError) as caught:
        score("phq9", phq9(2, item3=None))
    assert [a.alert_id for a in caught.value.alerts] == ["phq9_item9"]


def test_a_bad_answer_elsewhere_does_not_hide_the_alert() -> None:
    with pytest.raises(AnswerError, match=r"answers.item1: 4 is out of range") as caught:
        score("phq9", phq9(3, item1=4))
    assert [a.alert_id for a in caught.value.alerts] == ["phq9_item9"]


def test_other_instruments_raise_no_alerts() -> None:
    assert score("gad7", dict.fromkeys((f"item{i}" for i in range(1, 8)), 3)).alerts == ()


def test_crisis_contacts_are_configurable(tmp_path: Path) -> None:
    path = tmp_path / "contacts.yaml"
    path.write_text(
        "crisis_contacts:\n"
        "  default_message: If you are in danger now, call 112 or go to the emergency department.\n"
        "  contacts:\n"
        "    - {name: Regional crisis line, phone: '0800 000 000', hours: 24 hours}\n",
        encoding="utf-8",
    )
    contacts = load_crisis_contacts(path)
    alert = score("phq9", phq9(1), crisis_contacts=contacts).alerts[0]
    assert "call 112" in alert.patient_message
    assert "Regional crisis line: 0800 000 000, 24 hours" in alert.patient_message
    assert alert.crisis_contacts == contacts
