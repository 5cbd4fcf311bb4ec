"""The shape of instruments.yaml: models that validate every instrument, band, threshold and time point."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from fbss.instruments.intervals import Interval, tiling_problem
from fbss.knowledge.evidence import Evidence, Source

Id = Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
# A coded concept written "system:code"; systems: LOINC, SNOMED CT, or this project's local codes.
Code = Annotated[str, Field(pattern=r"^(loinc|snomed|fbss-local):[A-Za-z0-9._-]+$")]


def _check_interval(text: str) -> str:
    Interval.parse(text)  # raises ValueError with the reason
    return text


IntervalText = Annotated[str, AfterValidator(_check_interval)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Cited(_Frozen):
    """Anything that carries numbers: it must say where they come from and how strong that basis is."""

    sources: tuple[Id, ...] = Field(min_length=1)
    evidence: Evidence
    note: str | None = None


class LicenceStatus(StrEnum):
    """Whether item wording may be shipped."""

    public_domain = "public_domain"  # wording may be reproduced verbatim
    licensed = "licensed"  # copyrighted or licensed: store answers and scores only
    project = "project"  # a data item defined by this project


class Licence(_Frozen):
    status: LicenceStatus
    note: str = Field(min_length=10)  # who holds the rights and where the licensed form is obtained


class Option(_Frozen):
    value: int
    label: str
    code: Code | None = None


class Item(_Frozen):
    """One question. `text` is verbatim wording, allowed only for public-domain instruments."""

    id: Id
    label: str  # a short topic label, never the licensed wording
    min: float
    max: float
    integer: bool = True
    text: str | None = None
    code: Code | None = None
    reverse: bool = False  # points = min + max - answer
    points: dict[int, int] | None = None  # answer -> points, when answers are not scored as given
    options: tuple[Option, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Item:
        if self.min >= self.max:
            raise ValueError(f"item {self.id}: min {self.min} must be below max {self.max}")
        if self.points is not None and set(self.points) != set(range(int(self.min), int(self.max) + 1)):
            raise ValueError(f"item {self.id}: points must map every answer from {self.min} to {self.max}")
        if self.points is not None and self.reverse:
            raise ValueError(f"item {self.id}: use either points or reverse, not both")
        for option in self.options:
            if not self.min <= option.value <= self.max:
                raise ValueError(f"item {self.id}: option {option.value} is outside {self.min}-{self.max}")
        return self


class Compute(StrEnum):
    sum = "sum"  # sum of item points; needs every listed item
    percent_of_answered = "percent_of_answered"  # sum / (max points x answered items) x 100


class Scale(_Frozen):
    """A score the instrument produces: the total, a subscale, or a rescaled total."""

    id: Id
    title: str
    min: float
    max: float
    compute: Compute = Compute.sum
    items: tuple[Id, ...] = ()  # empty = every item
    code: Code | None = None

    @property
    def domain(self) -> Interval:
        return Interval(self.min, self.max, True, True)


class Band(_Frozen):
    label: str
    range: IntervalText
    code: Code | None = None

    @property
    def interval(self) -> Interval:
        return Interval.parse(self.range)


class BandSet(Cited):
    """Labels for ranges of one scale, from one source; the ranges tile the scale exactly."""

    id: Id
    title: str
    scale: Id
    bands: tuple[Band, ...] = Field(min_length=2)


class Rule(_Frozen):
    label: str
    when: dict[Id, IntervalText] = Field(min_length=1)  # scale id -> range; all must hold


class RuleSet(Cited):
    """A classification over several scales; the first rule that holds wins (e.g. STarT Back risk groups)."""

    id: Id
    title: str
    rules: tuple[Rule, ...] = Field(min_length=2)


class MissingPolicy(Cited):
    max_missing: int = Field(ge=0)


class Alert(Cited):
    """An answer that must reach a clinician quickly, and what the patient is told at once."""

    id: Id
    item: Id
    range: IntervalText
    kind: Literal["self_harm"]
    clinician_action: str
    clinician_deadline: Literal["same_day"]
    patient_message: str


class Measure(StrEnum):
    """How change from baseline to follow-up is expressed; improvement is positive whatever the direction."""

    improvement_points = "improvement_points"
    improvement_percent = "improvement_percent"  # improvement / baseline x 100
    follow_up_score = "follow_up_score"  # the follow-up value itself (PASS, PGIC)


class Outcome(StrEnum):
    success = "success"
    grey_zone = "grey_zone"
    failure = "failure"
    # Used by definitions whose source sets a success threshold only: not reaching it is not "failure".
    not_success = "not_success"


class Criterion(_Frozen):
    measure: Measure
    at_least: float


class Mcid(Cited):
    """Minimal clinically important change: met when any criterion is met."""

    id: Id
    title: str
    any_of: tuple[Criterion, ...] = Field(min_length=1)


class OutcomeBand(_Frozen):
    outcome: Outcome
    range: IntervalText

    @property
    def interval(self) -> Interval:
        return Interval.parse(self.range)


class SuccessDefinition(Cited):
    """Success / grey zone / failure from one source on one measure; bands tile the measure's range."""

    id: Id
    title: str
    measure: Measure
    population: str
    bands: tuple[OutcomeBand, ...] = Field(min_length=2)


class Direction(StrEnum):
    lower_is_better = "lower_is_better"
    higher_is_better = "higher_is_better"


class ChangeModel(_Frozen):
    scale: Id
    direction: Direction
    mcid: Mcid | None = None
    definitions: tuple[SuccessDefinition, ...] = ()
    primary: Id | None = None  # the definition that gives ChangeResult.outcome


class InstrumentKind(StrEnum):
    questionnaire = "questionnaire"
    registry_item = "registry_item"


class Instrument(_Frozen):
    id: Id
    title: str
    kind: InstrumentKind
    licence: Licence
    panel_code: Code | None = None
    stem: str | None = None  # verbatim instructions; public domain only
    items: tuple[Item, ...] = Field(min_length=1)
    scales: tuple[Scale, ...] = ()
    primary_scale: Id | None = None
    profile_items: tuple[Id, ...] = ()  # items whose answers are written side by side (EQ-5D-5L "21143")
    band_sets: tuple[BandSet, ...] = ()  # the first is the headline band
    rule_sets: tuple[RuleSet, ...] = ()
    missing: MissingPolicy
    alerts: tuple[Alert, ...] = ()
    change: ChangeModel | None = None
    scoring: Cited
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        item_ids = [i.id for i in self.items]
        _unique(item_ids, "item")
        scale_ids = [s.id for s in self.scales]
        _unique(scale_ids, "scale")
        scales = {s.id: s for s in self.scales}
        items = {i.id: i for i in self.items}
        if self.licence.status is LicenceStatus.licensed:
            worded = [i.id for i in self.items if i.text] + (["stem"] if self.stem else [])
            if worded:
                raise ValueError(f"licensed instrument must not ship item wording; remove text from {worded}")
        for scale in self.scales:
            unknown = [i for i in scale.items if i not in items]
            if unknown:
                raise ValueError(f"scale {scale.id}: unknown items {unknown}")
        if self.scales and self.primary_scale not in scales:
            raise ValueError(f"primary_scale must be one of {scale_ids}")
        for profile_item in self.profile_items:
            if profile_item not in items:
                raise ValueError(f"profile_items: unknown item {profile_item}")
        if self.missing.max_missing >= len(self.items):
            raise ValueError("missing.max_missing must be below the number of items")
        for band_set in self.band_sets:
            if band_set.scale not in scales:
                raise ValueError(f"band set {band_set.id}: unknown scale {band_set.scale}")
            problem = tiling_problem(scales[band_set.scale].domain, [b.interval for b in band_set.bands])
            if problem:
                raise ValueError(f"band set {band_set.id}: {problem}")
        for rule_set in self.rule_sets:
            for rule in rule_set.rules:
                unknown = [s for s in rule.when if s not in scales]
                if unknown:
                    raise ValueError(f"rule set {rule_set.id}: unknown scales {unknown}")
        for alert in self.alerts:
            if alert.item not in items:
                raise ValueError(f"alert {alert.id}: unknown item {alert.item}")
        if self.change is not None:
            _check_change(self.change, scales)
        return self


def measure_domain(measure: Measure, scale: Scale) -> Interval:
    """The range a change measure can take on a scale; success bands must tile it."""
    width = scale.max - scale.min
    if measure is Measure.improvement_points:
        return Interval(-width, width, True, True)
    if measure is Measure.improvement_percent:
        return Interval(float("-inf"), 100.0, False, True)
    return scale.domain


def _check_change(change: ChangeModel, scales: dict[str, Scale]) -> None:
    if change.scale not in scales:
        raise ValueError(f"change.scale: unknown scale {change.scale}")
    scale = scales[change.scale]
    measures = [c.measure for c in change.mcid.any_of] if change.mcid else []
    measures += [d.measure for d in change.definitions]
    if Measure.improvement_percent in measures and (change.direction is Direction.higher_is_better or scale.min != 0):
        raise ValueError("improvement_percent needs a lower-is-better scale that starts at 0")
    ids = [d.id for d in change.definitions]
    _unique(ids, "change definition")
    for definition in change.definitions:
        domain = measure_domain(definition.measure, scale)
        problem = tiling_problem(domain, [b.interval for b in definition.bands])
        if problem:
            raise ValueError(f"change definition {definition.id} ({definition.measure}): {problem}")
        outcomes = [b.outcome for b in definition.bands]
        _unique([str(o) for o in outcomes], f"outcome in {definition.id}")
        if Outcome.not_success in outcomes and (Outcome.failure in outcomes or Outcome.grey_zone in outcomes):
            raise ValueError(f"{definition.id}: not_success is for success-only definitions; use grey_zone/failure")
        if Outcome.success not in outcomes:
            raise ValueError(f"{definition.id}: a definition must have a success band")
    if change.primary is not None and change.primary not in ids:
        raise ValueError(f"change.primary: {change.primary} is not one of {ids}")


def _unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} id {value!r}")
        seen.add(value)


class Offset(_Frozen):
    days: int = 0
    weeks: int = 0
    months: int = 0


class TimePoint(_Frozen):
    id: Id
    title: str
    offset: Offset
    window_before_days: int = Field(ge=0)
    window_after_days: int = Field(ge=0)
    sources: tuple[Id, ...] = ()  # who collects at this time point
    note: str | None = None


class Schedule(Cited):
    """The follow-up time points after a reference date (surgery, implant, first visit)."""

    id: Id
    title: str
    window_evidence: Evidence
    window_note: str
    time_points: tuple[TimePoint, ...] = Field(min_length=1)


class InstrumentFile(_Frozen):
    """The whole of instruments.yaml (line markers already removed)."""

    sources: tuple[Source, ...] = ()
    schedule: Schedule
    instruments: tuple[Instrument, ...] = Field(min_length=1)


class CrisisContact(_Frozen):
    name: str
    phone: str | None = None
    url: str | None = None
    hours: str | None = None


class CrisisContacts(_Frozen):
    """Who a patient should contact in a crisis; a deployment replaces the packaged default with its own."""

    default_message: str = Field(min_length=20)
    contacts: tuple[CrisisContact, ...] = ()
