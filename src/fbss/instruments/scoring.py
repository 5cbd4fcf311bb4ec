"""Score a questionnaire: range checks, missing-item rule, totals, subscales, bands and safety alerts."""

from __future__ import annotations

import math
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from fbss.instruments.catalogue import InstrumentCatalogue, load_crisis_contacts, load_instruments
from fbss.instruments.errors import AnswerError, MissingAnswersError
from fbss.instruments.intervals import Interval
from fbss.instruments.models import Compute, CrisisContacts, Instrument, Item, Scale
from fbss.instruments.safety import SafetyAlert, find_alerts
from fbss.knowledge.evidence import Evidence

Answer = int | float | None


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScaleValue(_Value):
    scale_id: str
    title: str
    value: float
    code: str | None


class BandResult(_Value):
    """The label a band set (or rule set) gives the score, with where that cut-off comes from."""

    band_set_id: str
    title: str
    label: str
    rule: str  # the range or condition that matched, e.g. "(20, 40]" or "distress in [4, 5]"
    code: str | None
    sources: tuple[str, ...]
    evidence: Evidence


class AnswerValue(_Value):
    item_id: str
    answer: float | None
    points: float | None
    label: str | None


class Score(_Value):
    """The result of scoring one form; renderers format it, none recomputes it."""

    instrument_id: str
    title: str
    total: float | None  # the value of the primary scale
    scale_id: str | None
    values: tuple[ScaleValue, ...]
    band: str | None  # the headline band label
    bands: tuple[BandResult, ...]
    profile: str | None  # EQ-5D-5L style profile digits, e.g. "21143"
    answers: tuple[AnswerValue, ...]
    missing_items: tuple[str, ...]
    alerts: tuple[SafetyAlert, ...]
    because: tuple[str, ...]
    sources: tuple[str, ...]

    def value(self, scale_id: str) -> float | None:
        """The value of a scale (total, subscale, rescaled score), or None if it could not be computed."""
        return next((v.value for v in self.values if v.scale_id == scale_id), None)

    def band_for(self, band_set_id: str) -> BandResult | None:
        """The result of one band set or rule set, if its scale could be computed."""
        return next((b for b in self.bands if b.band_set_id == band_set_id), None)


def score(
    instrument_id: str,
    answers: Mapping[str, Answer],
    *,
    catalogue: InstrumentCatalogue | None = None,
    crisis_contacts: CrisisContacts | None = None,
) -> Score:
    """Score answers (item id -> answer, None = unanswered) with the instrument's published rule."""
    catalogue = catalogue or load_instruments()
    contacts = crisis_contacts or load_crisis_contacts()
    instrument = catalogue.get(instrument_id)
    items = {i.id: i for i in instrument.items}

    # Alerts first, from every answer that is itself valid, so that no later error can hide them.
    checked: dict[str, float] = {}
    problems: list[str] = []
    for item_id, raw in answers.items():
        if item_id not in items:
            problems.append(f"answers.{item_id}: unknown item for {instrument.id}; expected one of: {', '.join(items)}")
        elif raw is not None:
            try:
                checked[item_id] = _check_answer(instrument.id, items[item_id], raw)
            except AnswerError as exc:
                problems.append(str(exc))
    alerts = find_alerts(instrument, checked, contacts)
    if problems:
        raise AnswerError("; ".join(problems), alerts)

    missing = tuple(i.id for i in instrument.items if i.id not in checked)
    if len(missing) > instrument.missing.max_missing:
        raise MissingAnswersError(
            f"answers: {len(missing)} of {len(items)} items unanswered for {instrument.id} "
            f"({', '.join(missing)}); at most {instrument.missing.max_missing} may be missing",
            alerts,
        )

    points = {item_id: _points(items[item_id], answer) for item_id, answer in checked.items()}
    because: list[str] = []
    if missing:
        because.append(
            f"{len(missing)} item(s) unanswered ({', '.join(missing)}); allowed up to "
            f"{instrument.missing.max_missing} ({instrument.missing.evidence.value})"
        )
    values = []
    for scale in instrument.scales:
        value, reason = _scale_value(scale, instrument, points)
        because.append(reason)
        if value is not None:
            values.append(ScaleValue(scale_id=scale.id, title=scale.title, value=value, code=scale.code))
    by_scale = {v.scale_id: v.value for v in values}

    bands = _bands(instrument, by_scale)
    because += [f"{b.title}: {b.label} ({b.rule}; {', '.join(b.sources)}, {b.evidence.value})" for b in bands]
    because += [f"safety alert {a.alert_id}: {a.clinician_message}" for a in alerts]
    headline = bands[0].label if bands else None
    return Score(
        instrument_id=instrument.id,
        title=instrument.title,
        total=by_scale.get(instrument.primary_scale) if instrument.primary_scale else None,
        scale_id=instrument.primary_scale,
        values=tuple(values),
        band=headline,
        bands=bands,
        profile=_profile(instrument, checked),
        answers=tuple(
            AnswerValue(
                item_id=item.id,
                answer=checked.get(item.id),
                points=points.get(item.id),
                label=_option_label(item, checked.get(item.id)),
            )
            for item in instrument.items
        ),
        missing_items=missing,
        alerts=alerts,
        because=tuple(because),
        sources=instrument.scoring.sources,
    )


def _check_answer(instrument_id: str, item: Item, raw: object) -> float:
    field = f"answers.{item.id}"
    kind = "a whole number" if item.integer else "a number"
    expected = f"expected {kind} from {item.min:g} to {item.max:g}"
    if isinstance(raw, bool) or not isinstance(raw, int | float) or math.isnan(raw):
        raise AnswerError(f"{field}: {raw!r} is not a number; {expected} ({instrument_id})")
    if item.integer and not float(raw).is_integer():
        raise AnswerError(f"{field}: {raw!r} is not a whole number; {expected} ({instrument_id})")
    if not item.min <= raw <= item.max:
        raise AnswerError(f"{field}: {raw!r} is out of range; {expected} ({instrument_id})")
    if item.options and raw not in {o.value for o in item.options}:
        allowed = ", ".join(f"{o.value} ({o.label})" for o in item.options)
        raise AnswerError(f"{field}: {raw!r} is not an answer option; expected one of {allowed} ({instrument_id})")
    return int(raw) if item.integer else float(raw)


def _points(item: Item, answer: float) -> float:
    if item.points is not None:
        return item.points[int(answer)]
    if item.reverse:
        return item.min + item.max - answer
    return answer


def _point_range(item: Item) -> tuple[float, float]:
    if item.points is not None:
        return min(item.points.values()), max(item.points.values())
    return item.min, item.max


def _scale_value(scale: Scale, instrument: Instrument, points: Mapping[str, float]) -> tuple[float | None, str]:
    members = scale.items or tuple(i.id for i in instrument.items)
    items = {i.id: i for i in instrument.items}
    answered = [m for m in members if m in points]
    total = sum(points[m] for m in answered)
    if scale.compute is Compute.percent_of_answered:
        low = sum(_point_range(items[m])[0] for m in answered)
        span = sum(_point_range(items[m])[1] - _point_range(items[m])[0] for m in answered)
        value = (total - low) / span * 100
        return (
            value,
            f"{scale.title} = {total:g} / {span:g} (maximum for {len(answered)} answered) x 100 = {value:.1f}",
        )
    if len(answered) < len(members):
        return None, f"{scale.title}: not computed, {len(members) - len(answered)} of its items unanswered"
    return total, f"{scale.title} = {total:g} (sum of {len(members)} items)"


def _bands(instrument: Instrument, values: Mapping[str, float]) -> tuple[BandResult, ...]:
    results = []
    for band_set in instrument.band_sets:
        value = values.get(band_set.scale)
        if value is None:
            continue
        band = next(b for b in band_set.bands if b.interval.contains(value))  # bands tile the scale
        results.append(
            BandResult(
                band_set_id=band_set.id,
                title=band_set.title,
                label=band.label,
                rule=f"{band_set.scale} {value:g} in {band.range}",
                code=band.code,
                sources=band_set.sources,
                evidence=band_set.evidence,
            )
        )
    for rule_set in instrument.rule_sets:
        if any(scale_id not in values for rule in rule_set.rules for scale_id in rule.when):
            continue
        for rule in rule_set.rules:
            if all(Interval.parse(r).contains(values[s]) for s, r in rule.when.items()):
                condition = " and ".join(f"{s} {values[s]:g} in {r}" for s, r in rule.when.items())
                results.append(
                    BandResult(
                        band_set_id=rule_set.id,
                        title=rule_set.title,
                        label=rule.label,
                        rule=condition,
                        code=None,
                        sources=rule_set.sources,
                        evidence=rule_set.evidence,
                    )
                )
                break
    return tuple(results)


def _profile(instrument: Instrument, answers: Mapping[str, float]) -> str | None:
    if not instrument.profile_items:
        return None
    return "".join(str(int(answers[i])) for i in instrument.profile_items)


def _option_label(item: Item, answer: float | None) -> str | None:
    if answer is None:
        return None
    return next((o.label for o in item.options if o.value == answer), None)
