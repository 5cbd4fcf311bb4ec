"""Load mapping.yaml (FHIR codes -> case fields), validate it against the case model, and look codes up."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fbss.case.model import SurgeryType
from fbss.case.parse import describe_validation_error
from fbss.case.paths import field_kind
from fbss.case.vocabulary import Lab, Treatment
from fbss.errors import KnowledgeError
from fbss.fhir.codes import Coding
from fbss.fhir.units import is_ucum
from fbss.knowledge.yaml_source import read_yaml, strip_lines

MAPPING_FILE = Path(__file__).resolve().parent / "mapping.yaml"


class Verification(StrEnum):
    """How far a code was checked; see the header of mapping.yaml."""

    verified = "verified"
    corroborated = "corroborated"
    unverified = "unverified"
    local = "local"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class System(_Frozen):
    id: str
    uri: str
    title: str


class CodeRef(_Frozen):
    system: str
    code: str
    display: str
    status: Verification
    match: Literal["exact", "prefix"] = "exact"
    source: str | None = None
    note: str | None = None
    import_: bool = Field(default=True, alias="import")

    @model_validator(mode="after")
    def _sourced(self) -> CodeRef:
        if self.status is Verification.verified and not self.source:
            raise ValueError(f"code {self.code}: a verified code needs its source")
        return self


class ValueRef(CodeRef):
    means: Literal["present", "absent"]
    export: bool = False


Resolve = Literal["present_wins", "latest"]


class ConditionRule(_Frozen):
    id: str
    title: str
    target: str  # a presence case path, or "context"
    current: bool = False
    export: bool = False
    resolve: Resolve = "present_wins"  # how conflicting values of the target are settled
    note: str | None = None
    codes: tuple[CodeRef, ...] = Field(min_length=1)


class ObservationRule(_Frozen):
    id: str
    title: str
    target: str  # a number or presence case path, or labs.<lab>
    value: Literal["number", "coded"]
    export: bool = False
    unit: str | None = None  # the case field's unit, in UCUM; values in other UCUM units are converted
    resolve: Resolve = "present_wins"
    unsited: bool = False  # applies only to an Observation without bodySite, and only if no sited value exists
    max_age_days: int | None = Field(default=None, ge=1)  # older values are history, not the state now
    rounds: bool = False  # a whole-number scale sent with decimals is rounded to the nearest whole number
    note: str | None = None
    codes: tuple[CodeRef, ...] = Field(min_length=1)
    body_site: tuple[CodeRef, ...] = ()
    values: tuple[ValueRef, ...] = ()

    @property
    def lab(self) -> Lab | None:
        return Lab(self.target.removeprefix("labs.")) if self.target.startswith("labs.") else None


class SurgeryRule(_Frozen):
    type: str
    codes: tuple[CodeRef, ...] = Field(min_length=1)


class MedicationRule(_Frozen):
    """An ATC class: a treatment already tried, a presence field set while it is taken, or (neither) a class that
    is recognised and listed because the case has no field for it."""

    title: str | None = None
    treatment: Treatment | None = None
    target: str | None = None  # a presence case path set while the medicine is taken
    codes: tuple[CodeRef, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _one(self) -> MedicationRule:
        if self.treatment is not None and self.target is not None:
            raise ValueError("a medication rule has at most one of treatment and target")
        if self.treatment is None and self.target is None and not self.title:
            raise ValueError("a medication rule without treatment or target needs a title")
        return self

    @property
    def label(self) -> str:
        return self.title or (self.treatment.value if self.treatment else str(self.target))


class ContextRule(_Frozen):
    """A Procedure recognised without a case field (e.g. a depression screening with no score): listed, with advice."""

    id: str
    title: str
    advice: str
    codes: tuple[CodeRef, ...] = Field(min_length=1)


class AllergyRule(_Frozen):
    """AllergyIntolerance.code -> a presence case field (set present while the allergy is active)."""

    id: str
    title: str
    target: str
    codes: tuple[CodeRef, ...] = Field(min_length=1)


class QuestionnaireRule(_Frozen):
    instrument: str
    scales: dict[str, str] = Field(default_factory=dict)  # scale id -> case path
    items: dict[str, str] = Field(default_factory=dict)  # item id -> case path


class MappingFile(_Frozen):
    version: str
    systems: tuple[System, ...]
    unit_spellings: dict[str, str] = Field(default_factory=dict)  # non-UCUM unit strings seen in records -> UCUM
    conditions: tuple[ConditionRule, ...]
    observations: tuple[ObservationRule, ...]
    surgeries: tuple[SurgeryRule, ...]
    procedures: tuple[ContextRule, ...] = ()
    medications: tuple[MedicationRule, ...]
    allergies: tuple[AllergyRule, ...] = ()
    questionnaires: tuple[QuestionnaireRule, ...]


Rule = ConditionRule | ObservationRule | SurgeryRule | MedicationRule | ContextRule | AllergyRule


class _CodeIndex:
    """The codes of one section of the mapping, found by (system URI, code) rather than by a scan of every rule;
    prefix codes (ICD-10-CM chapters, ATC classes) are few and still scanned. Matches come in file order."""

    def __init__(self, rules: tuple[Rule, ...], uri: dict[str, str]) -> None:
        self.exact: dict[tuple[str, str], list[tuple[int, Rule, CodeRef]]] = {}
        self.prefix: list[tuple[int, str, str, Rule, CodeRef]] = []
        order = 0
        for rule in rules:
            for ref in rule.codes:
                if ref.match == "exact":
                    self.exact.setdefault((uri[ref.system], ref.code), []).append((order, rule, ref))
                else:
                    self.prefix.append((order, uri[ref.system], ref.code, rule, ref))
                order += 1

    def find(self, coding: Coding) -> list[tuple[Rule, CodeRef]]:
        code = coding.code
        if not isinstance(code, str) or not code or not isinstance(coding.system, str):
            return []
        found = self.exact.get((coding.system, code), [])
        prefixed = [
            (o, rule, ref)
            for o, system, start, rule, ref in self.prefix
            if system == coding.system and code.startswith(start)
        ]
        if prefixed:
            found = sorted([*found, *prefixed], key=lambda match: match[0])
        return [(rule, ref) for _order, rule, ref in found]


class Mapping:
    """The validated mapping with code look-ups; systems are resolved from ids to URIs."""

    def __init__(self, data: MappingFile) -> None:
        self.data = data
        self.uri = {s.id: s.uri for s in data.systems}
        self._indexes: dict[int, tuple[tuple[Rule, ...], _CodeIndex]] = {}
        self.system_title = {s.uri: s.title for s in data.systems}
        self.latest_wins = frozenset(
            [r.target for r in data.conditions if r.resolve == "latest"]
            + [r.target for r in data.observations if r.resolve == "latest"]
        )

    def coding(self, ref: CodeRef) -> Coding:
        """The FHIR Coding a code reference stands for."""
        return Coding(self.uri[ref.system], ref.code, ref.display)

    def _matches(self, ref: CodeRef, coding: Coding) -> bool:
        if self.uri[ref.system] != coding.system or not coding.code:
            return False
        return coding.code == ref.code if ref.match == "exact" else coding.code.startswith(ref.code)

    def find(self, rules: tuple[Rule, ...], coding: Coding) -> Iterator[tuple[Rule, CodeRef]]:
        """Every rule of a section with a code matching this coding, in the order of the file."""
        indexed = self._indexes.get(id(rules))
        if indexed is None or indexed[0] is not rules:
            indexed = self._indexes[id(rules)] = (rules, _CodeIndex(rules, self.uri))
        yield from indexed[1].find(coding)

    def matches(self, ref: CodeRef, coding: Coding) -> bool:
        return self._matches(ref, coding)

    def all_codes(self) -> Iterator[tuple[str, str, CodeRef]]:
        """(section, target, code) for every code in the file, for the documentation table and tests."""
        for c in self.data.conditions:
            for ref in c.codes:
                yield "Condition", c.target if c.target != "context" else f"(recognised: {c.title})", ref
        for o in self.data.observations:
            for ref in (*o.codes, *o.body_site, *o.values):
                yield "Observation", o.target, ref
        for s in self.data.surgeries:
            for ref in s.codes:
                yield "Procedure", f"surgery type {s.type}", ref
        for m in self.data.medications:
            for ref in m.codes:
                if m.treatment:
                    target = f"prior treatment {m.treatment.value}"
                else:
                    target = str(m.target) if m.target else f"(recognised: {m.title})"
                yield "MedicationRequest, MedicationStatement", target, ref
        for p in self.data.procedures:
            for ref in p.codes:
                yield "Procedure", f"(recognised: {p.title})", ref
        for a in self.data.allergies:
            for ref in a.codes:
                yield "AllergyIntolerance", a.target, ref


def _check_target(path: str, kinds: tuple[str, ...], where: str) -> None:
    if path.startswith("labs."):
        if "number" in kinds and path.removeprefix("labs.") in Lab.__members__:
            return
        raise KnowledgeError(f"mapping.yaml, {where}: unknown lab '{path}'")
    try:
        kind = field_kind(path)
    except KeyError as exc:
        raise KnowledgeError(f"mapping.yaml, {where}: target {exc.args[0]}") from None
    if kind.kind not in kinds:
        raise KnowledgeError(f"mapping.yaml, {where}: target '{path}' is a {kind.kind} field; expected {kinds}")


def load_mapping(path: Path | None = None) -> Mapping:
    """Read and validate mapping.yaml; raise KnowledgeError naming the entry and the problem."""
    path = path or MAPPING_FILE
    raw = strip_lines(read_yaml(path))
    try:
        data = MappingFile.model_validate(raw)
    except ValidationError as exc:
        raise KnowledgeError(f"{path.name}: {describe_validation_error(exc)}") from None
    systems = {s.id for s in data.systems}
    every = [
        (
            f"{section} '{getattr(rule, 'id', None) or getattr(rule, 'type', '')}'",
            ref,
        )
        for section, rules in (
            ("condition", data.conditions),
            ("observation", data.observations),
            ("surgery", data.surgeries),
            ("medication", data.medications),
            ("procedure", data.procedures),
            ("allergy", data.allergies),
        )
        for rule in rules
        for ref in (*rule.codes, *getattr(rule, "body_site", ()), *getattr(rule, "values", ()))
    ]
    for where, ref in every:
        if ref.system not in systems:
            raise KnowledgeError(f"{path.name}, {where}: unknown code system '{ref.system}'")
    for c in data.conditions:
        if c.target != "context":
            _check_target(c.target, ("presence",), f"condition '{c.id}'")
    for o in data.observations:
        _check_target(o.target, ("number",) if o.value == "number" else ("presence",), f"observation '{o.id}'")
        if o.value == "coded" and not o.values:
            raise KnowledgeError(f"{path.name}, observation '{o.id}': a coded observation needs values")
    for s in data.surgeries:
        if s.type not in SurgeryType.__members__:
            raise KnowledgeError(f"{path.name}, surgery '{s.type}': not a surgery type")
    for m in data.medications:
        if m.target is not None:
            _check_target(m.target, ("presence",), "medication")
    for a in data.allergies:
        _check_target(a.target, ("presence",), f"allergy '{a.id}'")
    for o in data.observations:
        for unit in filter(None, (o.unit, *data.unit_spellings.values())):
            if not is_ucum(unit):
                raise KnowledgeError(f"{path.name}, observation '{o.id}': '{unit}' is not a UCUM unit")
    for q in data.questionnaires:
        for target in (*q.scales.values(), *q.items.values()):
            _check_target(target, ("number",), f"questionnaire '{q.instrument}'")
    return Mapping(data)


@cache
def default_mapping() -> Mapping:
    """The packaged mapping, loaded once per process."""
    return load_mapping()
