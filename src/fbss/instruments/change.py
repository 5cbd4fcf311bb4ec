"""Change that matters: minimal important change and success / grey zone / failure, each with its source."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

from fbss.instruments.catalogue import InstrumentCatalogue, load_instruments
from fbss.instruments.errors import ChangeError
from fbss.instruments.intervals import DECIMALS
from fbss.instruments.models import (
    ChangeModel,
    Direction,
    Instrument,
    Measure,
    Outcome,
    Scale,
    SuccessDefinition,
)
from fbss.instruments.scoring import Score
from fbss.knowledge.evidence import Evidence


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CriterionResult(_Value):
    measure: Measure
    at_least: float
    value: float | None  # None when the measure is undefined (percentage change from a baseline of 0)
    met: bool


class McidResult(_Value):
    mcid_id: str
    title: str
    met: bool  # any criterion met
    criteria: tuple[CriterionResult, ...]
    sources: tuple[str, ...]
    evidence: Evidence


class DefinitionResult(_Value):
    definition_id: str
    title: str
    measure: Measure
    value: float | None
    outcome: Outcome | None  # None when the measure is undefined
    band: str | None  # the range that matched, e.g. "[13, 20)"
    population: str
    sources: tuple[str, ...]
    evidence: Evidence
    because: str


class ChangeResult(_Value):
    """Change between two scores on one instrument, classified by every definition the catalogue holds."""

    instrument_id: str
    scale_id: str
    baseline: float | None
    follow_up: float
    improvement_points: float | None  # positive = better, whatever the scale's direction
    improvement_percent: float | None
    outcome: Outcome | None  # from the primary definition
    primary_definition: str | None
    mcid_met: bool | None  # None when the instrument has no MCID
    mcid: McidResult | None
    definitions: tuple[DefinitionResult, ...]
    because: tuple[str, ...]
    sources: tuple[str, ...]


def classify_change(
    instrument_id: str,
    baseline: Score | float | None,
    follow_up: Score | float,
    *,
    catalogue: InstrumentCatalogue | None = None,
) -> ChangeResult:
    """Classify follow-up against baseline (a Score or a value on the instrument's change scale)."""
    catalogue = catalogue or load_instruments()
    instrument = catalogue.get(instrument_id)
    change = instrument.change
    if change is None:
        with_change = ", ".join(i.id for i in catalogue if i.change is not None)
        raise ChangeError(
            f"instrument_id: {instrument_id!r} has no definition of important change; expected one of: {with_change}"
        )
    scale = next(s for s in instrument.scales if s.id == change.scale)
    follow = _value("follow_up", follow_up, instrument, scale)
    base = None if baseline is None else _value("baseline", baseline, instrument, scale)

    needs_baseline = [d.id for d in change.definitions if d.measure is not Measure.follow_up_score]
    if change.mcid is not None:
        needs_baseline.append(change.mcid.id)
    if base is None and needs_baseline:
        raise ChangeError(f"baseline: required for {', '.join(needs_baseline)} on {instrument_id}; got None")

    points = percent = None
    if base is not None:
        points = base - follow if change.direction is Direction.lower_is_better else follow - base
        percent = points / base * 100 if base != 0 else None
        if percent is not None and not math.isfinite(percent):
            percent = None  # a baseline so close to 0 that the ratio overflows: as undefined as 0 itself
    measures: dict[Measure, float | None] = {
        Measure.improvement_points: points,
        Measure.improvement_percent: percent,
        Measure.follow_up_score: follow,
    }
    definitions = tuple(_classify(definition, measures) for definition in change.definitions)
    mcid = _mcid(change, measures)
    primary = next((d for d in definitions if d.definition_id == change.primary), None)

    because = [_describe(scale.title, base, follow, points, percent)]
    if mcid is not None:
        because.append(f"{mcid.title}: {'met' if mcid.met else 'not met'} ({', '.join(mcid.sources)})")
    because += [d.because for d in definitions]
    cited = [s for d in definitions for s in d.sources] + (list(mcid.sources) if mcid else [])
    return ChangeResult(
        instrument_id=instrument.id,
        scale_id=scale.id,
        baseline=base,
        follow_up=follow,
        improvement_points=points,
        improvement_percent=percent,
        outcome=primary.outcome if primary else None,
        primary_definition=change.primary,
        mcid_met=mcid.met if mcid else None,
        mcid=mcid,
        definitions=definitions,
        because=tuple(because),
        sources=tuple(dict.fromkeys(cited)),
    )


def _value(field: str, given: Score | float, instrument: Instrument, scale: Scale) -> float:
    if isinstance(given, Score):
        if given.instrument_id != instrument.id:
            raise ChangeError(f"{field}: a {given.instrument_id} score cannot be compared on {instrument.id}")
        value = given.value(scale.id)
        if value is None:
            raise ChangeError(f"{field}: the score has no {scale.id} value (too many items missing)")
        return value
    if isinstance(given, bool) or not isinstance(given, int | float) or math.isnan(given):
        raise ChangeError(
            f"{field}: {given!r} is not a number; expected {scale.title} from {scale.min:g} to {scale.max:g}"
        )
    if not scale.min <= given <= scale.max:
        raise ChangeError(
            f"{field}: {given!r} is out of range; expected {scale.title} from {scale.min:g} to {scale.max:g}"
        )
    return float(given)


def _classify(definition: SuccessDefinition, measures: dict[Measure, float | None]) -> DefinitionResult:
    value = measures[definition.measure]
    if value is None:
        because = f"{definition.title}: not applicable, percentage change is undefined from a baseline of 0"
        return _result(definition, value, None, None, because)
    matched = next((b for b in definition.bands if b.interval.contains(value)), None)
    if matched is None:  # cannot happen with a validated catalogue: the bands tile the measure's range
        raise ChangeError(f"{definition.id}: {definition.measure.value} {value!r} lies in no band")
    because = (
        f"{definition.title}: {definition.measure.value} {value:.4g} in {matched.range} -> "
        f"{matched.outcome.value} ({', '.join(definition.sources)}, {definition.evidence.value})"
    )
    return _result(definition, value, matched.outcome, matched.range, because)


def _result(
    definition: SuccessDefinition,
    value: float | None,
    outcome: Outcome | None,
    band: str | None,
    because: str,
) -> DefinitionResult:
    return DefinitionResult(
        definition_id=definition.id,
        title=definition.title,
        measure=definition.measure,
        value=value,
        outcome=outcome,
        band=band,
        population=definition.population,
        sources=definition.sources,
        evidence=definition.evidence,
        because=because,
    )


def _mcid(change: ChangeModel, measures: dict[Measure, float | None]) -> McidResult | None:
    if change.mcid is None:
        return None
    criteria = []
    for criterion in change.mcid.any_of:
        value = measures[criterion.measure]
        met = value is not None and round(value, DECIMALS) >= criterion.at_least
        criteria.append(CriterionResult(measure=criterion.measure, at_least=criterion.at_least, value=value, met=met))
    return McidResult(
        mcid_id=change.mcid.id,
        title=change.mcid.title,
        met=any(c.met for c in criteria),
        criteria=tuple(criteria),
        sources=change.mcid.sources,
        evidence=change.mcid.evidence,
    )


def _describe(title: str, base: float | None, follow: float, points: float | None, percent: float | None) -> str:
    if base is None:
        return f"{title}: follow-up {follow:g} (no baseline)"
    pct = "undefined (baseline 0)" if percent is None else f"{percent:.1f} %"
    return f"{title}: baseline {base:g}, follow-up {follow:g}; improvement {points:g} points, {pct}"
