"""Questionnaires on file: score and store a response; read a patient's outcomes as a trend from baseline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fbss.instruments import (
    ChangeResult,
    InstrumentCatalogue,
    InstrumentError,
    Score,
    classify_change,
    load_instruments,
    score,
)
from fbss.instruments.scoring import Answer
from fbss.store.errors import StoreError
from fbss.store.records import NewResponse, ResponseRecord
from fbss.store.repository import Repository

BASELINE = "baseline"


def time_point_ids(catalogue: InstrumentCatalogue) -> tuple[str, ...]:
    return tuple(tp.id for tp in catalogue.schedule.time_points)


def record_response(
    repo: Repository,
    identifier: str,
    instrument_id: str,
    answers: Mapping[str, Answer],
    *,
    completed_at: dt.datetime | None = None,
    time_point: str | None = None,
    catalogue: InstrumentCatalogue | None = None,
) -> tuple[ResponseRecord, Score]:
    """Score the answers, then store answers and score together; bad answers fail before any write."""
    catalogue = catalogue or load_instruments()
    known = time_point_ids(catalogue)
    if time_point is not None and time_point not in known:
        raise StoreError(f"--time-point: unknown time point {time_point!r}; expected one of: {', '.join(known)}")
    result = score(instrument_id, answers, catalogue=catalogue)
    response = NewResponse(
        instrument_id=result.instrument_id,
        answers=dict(answers),
        score=result.model_dump(mode="json"),
        completed_at=completed_at or repo.now(),
        time_point=time_point,
    )
    return repo.add_response(identifier, response), result


def answers_problem(instrument_id: object, answers: object, catalogue: InstrumentCatalogue | None = None) -> str | None:
    """Why stored answers could not have been recorded (unknown instrument, an answer out of range or not a
    number, too many missing), or None; for answers arriving from files (import, restore)."""
    if not isinstance(instrument_id, str) or not isinstance(answers, dict):
        return "expected an instrument id and an object of answers"
    if not all((isinstance(v, int | float) and not isinstance(v, bool)) or v is None for v in answers.values()):
        return "every answer must be a number or empty"
    try:
        score(instrument_id, answers, catalogue=catalogue or load_instruments())
    except InstrumentError as exc:
        return f"the answers do not score: {exc}"
    return None


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    """One response of one instrument, with its change from baseline when the instrument defines change."""

    response: ResponseRecord
    value: float | None  # the instrument's headline value (its primary scale)
    band: str | None
    is_baseline: bool
    change: ChangeResult | None


@dataclass(frozen=True, slots=True)
class InstrumentTrend:
    instrument_id: str
    title: str
    scale_title: str | None
    has_change: bool  # the catalogue defines important change for this instrument
    rows: tuple[OutcomeRow, ...]

    @property
    def latest(self) -> OutcomeRow:
        return self.rows[-1]


def _values(stored_score: dict[str, Any]) -> dict[str, float]:
    return {
        v["scale_id"]: float(v["value"])
        for v in stored_score.get("values", [])
        if isinstance(v, dict) and isinstance(v.get("value"), int | float)
    }


def _baseline(rows: Sequence[ResponseRecord]) -> ResponseRecord:
    """The response marked `baseline` (the latest such), else the first one completed."""
    marked = [r for r in rows if r.time_point == BASELINE]
    return marked[-1] if marked else rows[0]


def trends(responses: Sequence[ResponseRecord], catalogue: InstrumentCatalogue | None = None) -> list[InstrumentTrend]:
    """Group responses by instrument (in catalogue order) and classify each follow-up against the baseline."""
    catalogue = catalogue or load_instruments()
    by_instrument: dict[str, list[ResponseRecord]] = {}
    for response in sorted(responses, key=lambda r: (r.completed_at, r.id)):
        by_instrument.setdefault(response.instrument_id, []).append(response)
    order = {instrument.id: index for index, instrument in enumerate(catalogue)}
    result = []
    for instrument_id in sorted(by_instrument, key=lambda i: (order.get(i, len(order)), i)):
        rows = by_instrument[instrument_id]
        instrument = catalogue.instruments.get(instrument_id)
        primary = instrument.primary_scale if instrument else None
        change_scale = instrument.change.scale if instrument and instrument.change else None
        baseline = _baseline(rows)
        base_value = _values(baseline.score).get(change_scale) if change_scale else None
        outcome_rows = []
        for row in rows:
            values = _values(row.score)
            change = None
            later = (row.completed_at, row.id) > (baseline.completed_at, baseline.id)
            if change_scale and later and change_scale in values and base_value is not None:
                change = classify_change(instrument_id, base_value, values[change_scale], catalogue=catalogue)
            band = row.score.get("band")
            outcome_rows.append(
                OutcomeRow(
                    response=row,
                    value=values.get(primary) if primary else None,
                    band=band if isinstance(band, str) else None,
                    is_baseline=row is baseline,
                    change=change,
                )
            )
        scale_title = next((s.title for s in instrument.scales if s.id == primary), None) if instrument else None
        title = instrument.title if instrument else instrument_id
        result.append(InstrumentTrend(instrument_id, title, scale_title, change_scale is not None, tuple(outcome_rows)))
    return result
