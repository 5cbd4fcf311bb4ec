"""Questionnaire responses: scored before storing, bad input refused with nothing written, trends."""

from __future__ import annotations

import datetime as dt

import pytest

from fbss.instruments import AnswerError, MissingAnswersError, UnknownInstrumentError
from fbss.store.database import Database
from fbss.store.errors import StoreError, UnknownPatientError
from fbss.store.outcomes import record_response, trends
from fbss.store.repository import Repository

ODI_ITEMS = (
    "pain_intensity",
    "personal_care",
    "lifting",
    "walking",
    "sitting",
    "standing",
    "sleeping",
    "sex_life",
    "social_life",
    "travelling",
)


def odi(*values: int | None) -> dict[str, int | None]:
    return dict(zip(ODI_ITEMS, values, strict=True))


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=12, tzinfo=dt.UTC)


def test_a_response_is_stored_with_answers_and_score(repo: Repository) -> None:
    repo.add_patient("MRN-1")
    stored, score = record_response(
        repo,
        "MRN-1",
        "odi",
        odi(3, 3, 2, 3, 3, 3, 2, None, 3, 2),
        completed_at=at("2026-01-10"),
        time_point="baseline",
    )
    assert stored.score["total"] == pytest.approx(48 / 45 * 100 / 2)
    assert stored.score == score.model_dump(mode="json")
    assert stored.answers["sex_life"] is None
    [again] = repo.responses("MRN-1")
    assert again == stored


@pytest.mark.parametrize(
    ("instrument", "answers", "error", "message"),
    [
        ("odi", odi(9, 3, 2, 3, 3, 3, 2, 1, 3, 2), AnswerError, "pain_intensity: 9 is out of range"),
        ("odi", odi(1, None, None, None, 3, 3, 2, 1, 3, 2), MissingAnswersError, "unanswered"),
        ("odi", {"no_such_item": 1}, AnswerError, "unknown item"),
        ("nrs_leg", {"pain": "seven"}, AnswerError, "not a number"),
        ("oswestry", {"pain": 1}, UnknownInstrumentError, "unknown instrument 'oswestry'"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_written(
    db: Database,
    repo: Repository,
    instrument: str,
    answers: dict[str, object],
    error: type[Exception],
    message: str,
) -> None:
    repo.add_patient("MRN-1")
    before = db.row_counts()
    with pytest.raises(error, match=message):
        record_response(repo, "MRN-1", instrument, answers)  # type: ignore[arg-type]
    assert db.row_counts() == before


def test_unknown_patient_unknown_time_point_and_future_dates_write_nothing(db: Database, repo: Repository) -> None:
    repo.add_patient("MRN-1")
    before = db.row_counts()
    with pytest.raises(UnknownPatientError):
        record_response(repo, "NOBODY", "nrs_leg", {"pain": 5})
    with pytest.raises(StoreError, match="unknown time point 'month_9'"):
        record_response(repo, "MRN-1", "nrs_leg", {"pain": 5}, time_point="month_9")
    with pytest.raises(StoreError, match="in the future"):
        record_response(repo, "MRN-1", "nrs_leg", {"pain": 5}, completed_at=repo.now() + dt.timedelta(days=2))
    assert db.row_counts() == before


def test_a_self_harm_answer_is_stored_and_its_alert_returned(repo: Repository) -> None:
    repo.add_patient("MRN-1")
    _, score = record_response(repo, "MRN-1", "phq9", dict.fromkeys(_phq9_items(), 1))
    assert [a.kind for a in score.alerts] == ["self_harm"]


def _phq9_items() -> list[str]:
    from fbss.instruments import load_instruments

    return [item.id for item in load_instruments().get("phq9").items]


def test_trend_classifies_each_follow_up_against_baseline(repo: Repository) -> None:
    repo.add_patient("MRN-1")
    record_response(repo, "MRN-1", "odi", odi(3, 3, 2, 3, 3, 3, 2, None, 3, 2), completed_at=at("2026-01-10"))
    record_response(repo, "MRN-1", "odi", odi(2, 2, 2, 2, 2, 2, 1, None, 2, 1), completed_at=at("2026-04-10"))
    record_response(repo, "MRN-1", "odi", odi(1, 0, 1, 1, 1, 1, 0, None, 1, 1), completed_at=at("2026-07-10"))
    record_response(repo, "MRN-1", "odi", odi(4, 3, 3, 3, 3, 4, 3, None, 3, 3), completed_at=at("2026-10-10"))
    record_response(repo, "MRN-1", "nrs_leg", {"pain": 8}, completed_at=at("2026-01-10"))
    [odi_trend, nrs_trend] = trends(repo.responses("MRN-1"))
    assert odi_trend.instrument_id == "odi"
    assert [r.is_baseline for r in odi_trend.rows] == [True, False, False, False]
    outcomes = [None if r.change is None else r.change.outcome for r in odi_trend.rows]
    assert [o and o.value for o in outcomes] == [None, "grey_zone", "success", "failure"]
    assert odi_trend.latest.change is not None and odi_trend.latest.change.improvement_points < 0
    assert [r.change for r in nrs_trend.rows] == [None]


def test_the_response_marked_baseline_is_the_baseline(repo: Repository) -> None:
    repo.add_patient("MRN-1")
    record_response(repo, "MRN-1", "nrs_leg", {"pain": 5}, completed_at=at("2026-01-01"), time_point="week_6")
    record_response(repo, "MRN-1", "nrs_leg", {"pain": 9}, completed_at=at("2026-02-01"), time_point="baseline")
    record_response(repo, "MRN-1", "nrs_leg", {"pain": 3}, completed_at=at("2026-05-01"), time_point="month_3")
    [trend] = trends(repo.responses("MRN-1"))
    assert [r.is_baseline for r in trend.rows] == [False, True, False]
    last = trend.rows[-1].change
    assert last is not None and last.baseline == 9 and last.improvement_points == 6
