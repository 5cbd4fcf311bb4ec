"""A FHIR R4 Bundle (or a list of resources) into a Case, with a report of what was mapped and what was not.

Nothing is dropped silently: every resource, coding, extension or value that does not reach the case is listed in
`ImportReport.unmapped` with the reason.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, ValidationError

from fbss import jsonlimits
from fbss.case.model import (
    Approach,
    Case,
    DeviceKind,
    Presence,
    Side,
    SpineRegion,
    SurgeryType,
    SymptomPattern,
)
from fbss.case.parse import describe_validation_error
from fbss.case.paths import FieldKind, field_kind
from fbss.case.vocabulary import DiagnosticFinding, Modality, Treatment, parse_segment
from fbss.errors import CaseError
from fbss.fhir import codes as c
from fbss.fhir.case_export import CASE_ID_SYSTEM
from fbss.fhir.codes import Coding
from fbss.fhir.mapping import (
    AllergyRule,
    CodeRef,
    ConditionRule,
    ContextRule,
    Mapping,
    MedicationRule,
    ObservationRule,
    QuestionnaireRule,
    SurgeryRule,
    Verification,
    default_mapping,
)
from fbss.fhir.medicines import default_table
from fbss.fhir.resources import (
    FhirError,
    Resource,
    Validation,
    codings,
    concepts,
    date_of,
    extensions,
    label,
    reference,
    text_of,
    validate_bundle_shell,
    validate_resource,
)
from fbss.fhir.units import convert
from fbss.instruments import InstrumentError, load_instruments, score
from fbss.jsonlimits import MAX_DEPTH, JsonLimitError, too_deep

READ_TYPES = (
    "Patient",
    "Condition",
    "Procedure",
    "Observation",
    "QuestionnaireResponse",
    "DiagnosticReport",
    "DocumentReference",
    "MedicationStatement",
    "MedicationRequest",
    "Medication",
    "AllergyIntolerance",
    "Device",
)
OUTPUT_TYPES = (
    "RiskAssessment",
    "ClinicalImpression",
    "DetectedIssue",
    "Flag",
    "Questionnaire",
    "Provenance",
    "CarePlan",
    "RequestGroup",
    "ServiceRequest",
)
MAX_BUNDLE_BYTES = 20_000_000


class NotApplicableError(CaseError):
    """The record holds no case FBSS Navigator can assess (no spine operation, or a minor)."""

    def __init__(self, message: str, recognised: tuple[str, ...] = (), recognised_ids: frozenset[str] = frozenset()):
        super().__init__(message)
        self.recognised = recognised
        self.recognised_ids = recognised_ids  # the mapping's rule ids, e.g. psps_t2, chronic_pain


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class MappedItem(_Frozen):
    """A coding (or value) that set a case field."""

    resource: str
    coding: str
    target: str
    value: str
    status: str  # verification status of the code used (verified / corroborated / unverified / local)


class UnmappedItem(_Frozen):
    """Something in the input that did not reach the case, and why."""

    resource: str
    element: str
    coding: str | None = None
    reason: str


class ImportReport(_Frozen):
    mapped: tuple[MappedItem, ...] = ()
    unmapped: tuple[UnmappedItem, ...] = ()
    warnings: tuple[str, ...] = ()
    recognised: tuple[str, ...] = ()  # context diagnoses, e.g. post-laminectomy syndrome


@dataclass(frozen=True)
class ImportResult:
    case: Case
    report: ImportReport


@dataclass(frozen=True)
class DocumentText:
    """The text of a clinic letter, operative note or report, for the report reader (case drafts)."""

    source: str
    title: str
    date: dt.date | None
    text: str


@dataclass(frozen=True)
class CaseDraft:
    """What the record says, for a clinician to confirm: case data without the need for an index surgery, where
    each value came from, and the documents whose text the report reader can propose findings from."""

    data: dict[str, Any]
    report: ImportReport
    sources: dict[str, str]  # case path (or list row, e.g. 'labs.crp', 'prior_treatments-0') -> resource and date
    documents: tuple[DocumentText, ...]


@dataclass(frozen=True)
class _Candidate:
    value: Any
    when: dt.date | None
    source: str
    caveat: str | None = None  # a fallback reading (e.g. a pain score without body site): used only if no other


@dataclass
class _Surgery:
    role: str | None
    when: dt.date | None
    data: dict[str, Any]
    source: str


@dataclass
class _Collector:
    mapping: Mapping
    assessment_date: dt.date | None
    values: dict[str, list[_Candidate]] = field(default_factory=dict)
    surgeries: list[_Surgery] = field(default_factory=list)
    lists: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {k: [] for k in ("prior_treatments", "studies", "diagnostics", "labs")}
    )
    devices: list[dict[str, Any]] = field(default_factory=list)
    mapped: list[MappedItem] = field(default_factory=list)
    unmapped: list[UnmappedItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    recognised: list[str] = field(default_factory=list)
    birth_date: dt.date | None = None
    case_id: str | None = None
    recognised_ids: set[str] = field(default_factory=set)
    documents: list[DocumentText] = field(default_factory=list)
    medicines: dict[str, Resource] = field(default_factory=dict)  # Medication resources by reference
    prescribed: dict[str, list[tuple[dt.date | None, str, MappedItem]]] = field(default_factory=dict)
    context: dict[str, tuple[ContextRule, list[dt.date | None], str]] = field(default_factory=dict)
    list_sources: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, source: str, element: str, reason: str, coding: Coding | None = None) -> None:
        self.unmapped.append(
            UnmappedItem(resource=source, element=element, coding=coding.label() if coding else None, reason=reason)
        )

    def skip_codings(self, source: str, element: str, found: list[Coding], reason: str) -> None:
        if not found:
            self.skip(source, element, reason)
        for coding in found:
            self.skip(source, element, reason, coding)

    def set(
        self,
        path: str,
        value: Any,
        when: dt.date | None,
        source: str,
        coding: Coding,
        status: Verification | str,
        caveat: str | None = None,
    ) -> None:
        self.values.setdefault(path, []).append(_Candidate(value, when, source, caveat))
        shown = value.value if isinstance(value, Enum) else value
        self.mapped.append(
            MappedItem(resource=source, coding=coding.label(), target=path, value=str(shown), status=str(status))
        )


# --- values ------------------------------------------------------------------------------------------------------


def _presence_of(value: Any) -> Presence | None:
    """present/absent from a valueCodeableConcept (SNOMED, v2-0136 Y/N, or local) or a valueBoolean."""
    if isinstance(value, bool):
        return Presence.present if value else Presence.absent
    for coding in codings(value):
        if coding.system == c.SNOMED and coding.code in (c.SNOMED_PRESENT, c.SNOMED_ABSENT):
            return Presence.present if coding.code == c.SNOMED_PRESENT else Presence.absent
        if coding.system == c.V2_0136 and coding.code in ("Y", "N"):
            return Presence.present if coding.code == "Y" else Presence.absent
        if coding.system == c.PRESENCE and coding.code in Presence.__members__:
            return Presence(str(coding.code))
    return None


def _number(resource: Resource) -> tuple[float | None, str | None]:
    """The numeric value of an Observation (or component) and its UCUM unit, if any (None for a number too large to
    be a measurement: `_number_problem` says why)."""
    if isinstance(resource.get("valueInteger"), int):
        return _finite(resource["valueInteger"]), None
    quantity = resource.get("valueQuantity")
    if isinstance(quantity, dict) and isinstance(quantity.get("value"), int | float):
        unit = quantity.get("code") or quantity.get("unit")
        return _finite(quantity["value"]), str(unit) if unit else None
    return None, None


def _finite(value: int | float) -> float | None:
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _number_problem(resource: Resource) -> str:
    """Why an Observation gave no number: none at all, or one too large to be a measurement."""
    quantity = resource.get("valueQuantity")
    raw = resource.get("valueInteger", quantity.get("value") if isinstance(quantity, dict) else None)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return "the value is too large to be a measurement"
    return "no numeric value"


def _convert(col: _Collector, rule: ObservationRule, value: float, unit: str | None) -> float | str:
    """The value in the case's unit (UCUM conversion), or a reason it cannot be converted."""
    if rule.unit is None:
        return value
    if unit is None:
        return f"no unit given; expected {rule.unit}"
    unit = col.mapping.data.unit_spellings.get(unit, unit)
    return convert(value, unit, rule.unit)


def _typed(path: str, value: float) -> int | float | str:
    """Whole numbers for integer case fields; a reason if the value is not one."""
    model_field = _annotation(path)
    if model_field is int:
        if not float(value).is_integer():
            return f"{value:g} is not a whole number"
        return int(value)
    return value


@cache
def _annotation(path: str) -> Any:
    """The Python type of a case path (Optional stripped): int, float, an enum or Presence."""
    model: Any = Case
    parts = path.split(".")
    for part in parts[:-1]:
        model = model.model_fields[part].annotation
    annotation = model.model_fields[parts[-1]].annotation
    args = [a for a in get_args(annotation) if a is not type(None)]
    return args[0] if args else annotation


@cache
def _field_kind(path: str) -> FieldKind:
    return field_kind(path)  # KeyError (not cached) for a path that is not a case field


# --- resources ---------------------------------------------------------------------------------------------------


def _read_patient(col: _Collector, resource: Resource, source: str) -> None:
    for identifier in resource.get("identifier", []):
        if isinstance(identifier, dict) and identifier.get("system") == CASE_ID_SYSTEM:
            col.case_id = str(identifier.get("value"))
    if col.case_id is None and resource.get("id"):
        col.case_id = str(resource["id"])
    gender = resource.get("gender")
    if gender in ("female", "male", "other", "unknown"):
        col.set("patient.sex", gender, None, source, Coding("http://hl7.org/fhir/administrative-gender", gender), "hl7")
    born = resource.get("birthDate")
    col.birth_date = date_of(born) or (
        dt.date(int(born[:4]), 7, 1) if isinstance(born, str) and born.isascii() and born.isdigit() else None
    )
    deceased = resource.get("deceasedBoolean") is True or "deceasedDateTime" in resource
    if deceased:
        when = resource.get("deceasedDateTime")
        col.warnings.append(
            f"{source}: the patient is recorded as deceased{f' ({when[:10]})' if isinstance(when, str) else ''}: "
            "check that this is the right record"
        )
    for url, _value in extensions(resource):
        col.skip(source, f"extension {url}", "extension not read")


def _read_condition(col: _Collector, resource: Resource, source: str) -> None:
    verification = {str(x.code) for x in codings(resource.get("verificationStatus"))}
    clinical = {str(x.code) for x in codings(resource.get("clinicalStatus"))}
    found = codings(resource.get("code"))
    if "entered-in-error" in verification:
        col.skip_codings(source, "code", found, "entered in error")
        return
    if "differential" in verification:
        col.skip_codings(source, "code", found, "a differential diagnosis only: not taken as present")
        return
    value = Presence.absent if "refuted" in verification else Presence.present
    when = date_of(resource.get("onsetDateTime")) or date_of(resource.get("recordedDate"))
    matched = False
    for coding in found:
        for rule, ref in col.mapping.find(col.mapping.data.conditions, coding):
            assert isinstance(rule, ConditionRule)
            matched = True
            if not ref.import_:
                col.skip(source, "code", f"code {ref.code} is {ref.status.value}: {ref.note or 'not used'}", coding)
                continue
            if rule.target == "context":
                if value is Presence.present:
                    col.recognised.append(f"{rule.title} ({coding.label()}, {source})")
                    col.recognised_ids.add(rule.id)
                else:
                    col.skip(source, "code", "refuted; no case field to set", coding)
                continue
            if rule.current and value is Presence.present and clinical & {"inactive", "resolved", "remission"}:
                col.skip(
                    source, "clinicalStatus", f"not current ({', '.join(sorted(clinical))}): {rule.target}", coding
                )
                continue
            col.set(rule.target, value, when, source, coding, ref.status)
    if not matched:
        col.skip_codings(source, "code", found, "condition code not in the mapping (docs/fhir.md)")


def _read_case_item(col: _Collector, resource: Resource, source: str, coding: Coding) -> None:
    path = str(coding.code)
    when = date_of(resource.get("effectiveDateTime"))
    if path == "red_flag_screen":
        _read_screen(col, resource, source, coding, when)
        return
    if path == "assessment_date":
        value = date_of(resource.get("valueDateTime"))
        if value is None:
            col.skip(source, "value", "assessment_date needs valueDateTime", coding)
        else:
            col.set(path, value, when, source, coding, Verification.local)
        return
    try:
        kind = _field_kind(path)
    except KeyError as exc:
        col.skip(source, "code", f"not a case field: {exc.args[0]}", coding)
        return
    if kind.kind == "presence":
        presence = _presence_of(resource.get("valueCodeableConcept", resource.get("valueBoolean")))
        if presence is None:
            col.skip(source, "value", "expected a present/absent value (SNOMED 52101004 / 2667000)", coding)
        else:
            col.set(path, presence, when, source, coding, Verification.local)
    elif kind.kind == "enum":
        found = [x for x in codings(resource.get("valueCodeableConcept")) if x.code in kind.values]
        if not found:
            col.skip(source, "value", f"expected one of {', '.join(kind.values)}", coding)
        else:
            col.set(path, found[0].code, when, source, coding, Verification.local)
    else:
        number, _unit = _number(resource)
        typed = _typed(path, number) if number is not None else _number_problem(resource)
        if isinstance(typed, str):
            col.skip(source, "value", typed, coding)
        else:
            col.set(path, typed, when, source, coding, Verification.local)


def _read_screen(col: _Collector, resource: Resource, source: str, coding: Coding, when: dt.date | None) -> None:
    """A negative red-flag screen: its result, who recorded it (performer) and when (effectiveDateTime)."""
    performers = resource.get("performer")
    listed = performers if isinstance(performers, list) else []
    by = next((p.get("display") for p in listed if isinstance(p, dict)), None)
    at = resource.get("effectiveDateTime")
    if resource.get("valueString") != "negative" or not isinstance(by, str) or not isinstance(at, str):
        col.skip(source, "value", "a red-flag screen needs valueString 'negative', a performer and a time", coding)
        return
    col.set("red_flag_screen", {"result": "negative", "by": by, "at": at}, when, source, coding, Verification.local)


def _read_diagnostic(col: _Collector, resource: Resource, source: str, coding: Coding) -> None:
    if coding.code not in DiagnosticFinding.__members__:
        col.skip(source, "code", "not a diagnostic finding of the case vocabulary", coding)
        return
    presence = _presence_of(resource.get("valueCodeableConcept", resource.get("valueBoolean")))
    item: dict[str, Any] = {"finding": coding.code, "presence": (presence or Presence.present).value}
    if presence is None:
        col.warnings.append(f"{source}: no present/absent value; the finding is read as present")
    modality = [x.code for x in codings(resource.get("method")) if x.system == c.MODALITY]
    if modality and modality[0] in Modality.__members__:
        item["modality"] = modality[0]
    level = _segments_of([resource["bodySite"]] if "bodySite" in resource else [], col, source)
    if level:
        item["level"] = level[0]
    when = date_of(resource.get("effectiveDateTime"))
    if when:
        item["date"] = when.isoformat()
    item.update(
        _extension_fields(col, resource, source, {c.EXT_SIDE: ("side", Side), c.EXT_CONTRAST: ("contrast", Presence)})
    )
    col.lists["diagnostics"].append(item)
    col.mapped.append(
        MappedItem(resource=source, coding=coding.label(), target="diagnostics", value=item["presence"], status="local")
    )


def _body_sites(resource: Resource) -> list[Coding]:
    site = resource.get("bodySite")
    return codings(site) if isinstance(site, dict) else [x for s in concepts(site) for x in codings(s)]


def _read_observation(col: _Collector, resource: Resource, source: str) -> None:
    status = resource.get("status")
    found = codings(resource.get("code"))
    if status in ("entered-in-error", "cancelled"):
        col.skip_codings(source, "status", found, f"status {status}")
        return
    if status == "registered":
        col.skip_codings(source, "status", found, "registered: no result yet")
        return
    for coding in found:
        if coding.system == c.CASE_ITEM:
            _read_case_item(col, resource, source, coding)
            return
        if coding.system == c.DIAGNOSTIC_FINDING:
            _read_diagnostic(col, resource, source, coding)
            return
    candidates: list[tuple[ObservationRule, CodeRef, Coding]] = []
    for coding in found:
        for rule, ref in col.mapping.find(col.mapping.data.observations, coding):
            assert isinstance(rule, ObservationRule)
            candidates.append((rule, ref, coding))
    if candidates:
        _apply_observation(col, resource, source, candidates)
        return
    if "component" in resource and not any(k.startswith("value") for k in resource):
        for i, component in enumerate(resource["component"]):
            sub = {**component, "status": status, "effectiveDateTime": resource.get("effectiveDateTime")}
            before = len(col.mapped)
            _read_observation(col, sub, f"{source} component {i}")
            if len(col.mapped) == before and not any(u.resource == f"{source} component {i}" for u in col.unmapped):
                col.skip(f"{source} component {i}", "code", "component not mapped")
        return
    col.skip_codings(source, "code", found, "observation code not in the mapping (docs/fhir.md)")


def _apply_observation(
    col: _Collector, resource: Resource, source: str, candidates: list[tuple[ObservationRule, CodeRef, Coding]]
) -> None:
    sites = _body_sites(resource)
    narrowed = [
        (rule, ref, coding)
        for rule, ref, coding in candidates
        if (not rule.unsited or not sites)
        and (not rule.body_site or any(col.mapping.matches(s, site) for s in rule.body_site for site in sites))
    ]
    rules = {rule.id for rule, _, _ in narrowed}
    if len(rules) != 1:
        coding = candidates[0][2]
        options = ", ".join(sorted({r.title for r, _, _ in candidates}))
        col.skip(source, "bodySite", f"ambiguous without a body site that tells them apart: {options}", coding)
        return
    rule, ref, coding = narrowed[0]
    if not ref.import_:
        col.skip(source, "code", f"code {ref.code} is {ref.status.value}: {ref.note or 'not used'}", coding)
        return
    when = _effective(resource) or date_of(resource.get("issued"))
    if rule.max_age_days is not None and not _recent(col, when, rule.max_age_days):
        col.skip(source, "effective[x]", f"not within {rule.max_age_days} days before the assessment: history", coding)
        return
    if rule.value == "coded":
        values = codings(resource.get("valueCodeableConcept"))
        means = [v.means for v in rule.values for x in values if col.mapping.matches(v, x)]
        if not means:
            col.skip_codings(source, "valueCodeableConcept", values, f"value not mapped for {rule.title}")
            return
        col.set(rule.target, Presence(means[0]), when, source, coding, ref.status)
        return
    number, unit = _number(resource)
    if number is None:
        col.skip(source, "value", f"{_number_problem(resource)} for {rule.title}", coding)
        return
    converted = _convert(col, rule, number, unit)
    if isinstance(converted, str):
        col.skip(source, "valueQuantity", converted, coding)
        return
    lab = rule.lab
    if lab is not None:
        item: dict[str, Any] = {"lab": lab.value, "value": converted}
        if when:
            item["date"] = when.isoformat()
        col.lists["labs"].append(item)
        col.mapped.append(
            MappedItem(
                resource=source,
                coding=coding.label(),
                target=rule.target,
                value=f"{converted:g}",
                status=ref.status.value,
            )
        )
        return
    typed = _typed(rule.target, round(converted) if rule.rounds else converted)
    if isinstance(typed, str):
        col.skip(source, "value", typed, coding)
        return
    col.set(rule.target, typed, when, source, coding, ref.status, rule.note if rule.unsited else None)


def _effective(resource: Resource) -> dt.date | None:
    return date_of(resource.get("effectiveDateTime")) or date_of((resource.get("effectivePeriod") or {}).get("start"))


def _recent(col: _Collector, when: dt.date | None, days: int) -> bool:
    """Whether a dated value falls within `days` before the assessment (undated values are never recent)."""
    if when is None:
        return False
    on = col.assessment_date or dt.date.today()
    return 0 <= (on - when).days <= days


def _segments_of(sites: list[Any], col: _Collector, source: str) -> list[str]:
    levels = []
    for site in sites:
        texts = [x.code for x in codings(site) if x.system == c.SPINAL_SEGMENT and x.code]
        if not texts and isinstance(site, dict) and isinstance(site.get("text"), str):
            texts = [site["text"]]
        for text in texts:
            try:
                upper, lower = parse_segment(text)
                levels.append(f"{upper}-{lower}")
            except ValueError as exc:
                col.skip(source, "bodySite", str(exc))
    return levels


EnumFields = dict[str, tuple[str, type[Enum] | type[int] | type[float] | type[bool]]]


def _extension_fields(col: _Collector, resource: Resource, source: str, known: EnumFields) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for url, value in extensions(resource):
        if url == c.EXT_SEGMENT:
            continue  # read by the caller
        if url not in known:
            col.skip(source, f"extension {url}", "extension not read")
            continue
        name, kind = known[url]
        if isinstance(kind, type) and issubclass(kind, Enum):
            if value not in {m.value for m in kind}:
                col.skip(source, f"extension {url}", f"expected one of {', '.join(m.value for m in kind)}")
                continue
        elif kind is bool and not isinstance(value, bool):
            col.skip(source, f"extension {url}", "expected valueBoolean")
            continue
        elif kind in (int, float) and not isinstance(value, int | float):
            col.skip(source, f"extension {url}", "expected a number")
            continue
        found[name] = value
    return found


def _read_procedure(col: _Collector, resource: Resource, source: str) -> None:
    status = resource.get("status")
    found = codings(resource.get("code"))
    if status in ("entered-in-error", "not-done", "preparation"):
        col.skip_codings(source, "status", found, f"status {status}: not a procedure that was done")
        return
    roles = [x.code for x in codings(resource.get("category")) if x.system == c.PROCEDURE_ROLE]
    when = date_of(resource.get("performedDateTime")) or date_of((resource.get("performedPeriod") or {}).get("start"))
    surgery_type = _surgery_type(col, found, source)
    if surgery_type is not None:
        data: dict[str, Any] = {"type": surgery_type}
        if when:
            data["date"] = when.isoformat()
        levels = _segments_of(concepts(resource.get("bodySite")), col, source)
        if levels:
            data["levels"] = levels
        reasons = [t for t in (text_of(r) for r in concepts(resource.get("reasonCode"))) if t]
        if reasons:
            data["indication"] = "; ".join(reasons)[:500]
        data.update(
            _extension_fields(
                col,
                resource,
                source,
                {
                    c.EXT_SIDE: ("side", Side),
                    c.EXT_APPROACH: ("approach", Approach),
                    c.EXT_REGION: ("region", SpineRegion),
                    c.EXT_INSTRUMENTED: ("instrumented", Presence),
                    c.EXT_CAGE: ("interbody_cage", Presence),
                    c.EXT_ICBG: ("iliac_crest_graft", Presence),
                    c.EXT_PREOP_SYMPTOMS: ("preoperative_symptoms", SymptomPattern),
                },
            )
        )
        col.surgeries.append(_Surgery(roles[0] if roles else None, when, data, source))
        return
    treatment = next((x for x in found if x.system == c.TREATMENT and x.code in Treatment.__members__), None)
    if treatment is not None:
        item: dict[str, Any] = {"treatment": treatment.code}
        if when:
            item["date"] = when.isoformat()
        levels = _segments_of(concepts(resource.get("bodySite")), col, source)
        if levels:
            item["levels"] = levels
        _treatment_details(col, resource, source, item)
        col.mapped.append(
            MappedItem(
                resource=source,
                coding=treatment.label(),
                target="prior_treatments",
                value=str(treatment.code),
                status="local",
            )
        )
        return
    for coding in found:
        for rule, _ref in col.mapping.find(col.mapping.data.procedures, coding):
            assert isinstance(rule, ContextRule)
            _, dates, _first = col.context.setdefault(rule.id, (rule, [], source))
            dates.append(when)
            return
    if col.unmapped and col.unmapped[-1].resource == source:
        return  # already listed (an unverified code)
    col.skip_codings(
        source, "code", found, "procedure code not in the mapping: neither a spine operation nor a treatment"
    )


def _surgery_type(col: _Collector, found: list[Coding], source: str) -> str | None:
    for coding in found:
        if coding.system == c.SURGERY_TYPE and coding.code in SurgeryType.__members__:
            col.mapped.append(
                MappedItem(
                    resource=source, coding=coding.label(), target="surgery", value=str(coding.code), status="local"
                )
            )
            return coding.code
    for coding in found:
        for rule, ref in col.mapping.find(col.mapping.data.surgeries, coding):
            assert isinstance(rule, SurgeryRule)
            if not ref.import_:
                col.skip(source, "code", f"code {ref.code} is {ref.status.value}: {ref.note or 'not used'}", coding)
                continue
            col.mapped.append(
                MappedItem(
                    resource=source, coding=coding.label(), target="surgery", value=rule.type, status=ref.status.value
                )
            )
            return rule.type
    return None


def _treatment_details(col: _Collector, resource: Resource, source: str, item: dict[str, Any]) -> None:
    item.update(
        _extension_fields(
            col,
            resource,
            source,
            {
                c.EXT_SIDE: ("side", Side),
                c.EXT_RELIEF_PERCENT: ("relief_percent", int),
                c.EXT_RELIEF_WEEKS: ("relief_weeks", float),
            },
        )
    )
    notes = [str(n["text"]) for n in resource.get("note", []) if isinstance(n, dict) and n.get("text")]
    if notes:
        item["note"] = "; ".join(notes)[:500]
    col.lists["prior_treatments"].append(item)


@dataclass(frozen=True)
class _MedicineClass:
    rule: MedicationRule
    coding: Coding
    status: str
    basis: str


def _medicine_codings(col: _Collector, resource: Resource, source: str) -> tuple[list[Coding], str | None] | None:
    """The codings (and text) of the medicine a request or statement names; None (and listed) if it cannot be had."""
    if "medicationReference" in resource:
        ref = reference(resource.get("medicationReference"))
        medicine = col.medicines.get(ref or "")
        if medicine is None:
            col.skip(source, "medicationReference", f"the Medication {ref} is not in the record sent")
            return None
        concept_ = medicine.get("code")
    else:
        concept_ = resource.get("medicationCodeableConcept")
    return codings(concept_), (concept_.get("text") if isinstance(concept_, dict) else None)


def _classes(col: _Collector, found: list[Coding], text: str | None) -> list[_MedicineClass]:
    """The mapping's medicine classes for these codings: ATC directly, RxNorm (or the name) through the table."""
    classes: list[_MedicineClass] = []
    table = default_table()
    for coding in found or [Coding(None, None, text)]:  # a medicine given as text only is matched by its name
        atc: list[tuple[Coding, str, str | None]] = [(coding, "", None)]
        if coding.system != col.mapping.uri["atc"]:
            match = table.atc_of(coding, text)
            atc = [] if match is None else [(Coding(col.mapping.uri["atc"], match.atc), match.basis, match.status)]
        for atc_coding, basis, status in atc:
            for rule, ref in col.mapping.find(col.mapping.data.medications, atc_coding):
                assert isinstance(rule, MedicationRule)
                if all(x.rule is not rule for x in classes):
                    shown = f"{basis} -> ATC {atc_coding.code}" if basis else f"ATC {atc_coding.code}"
                    classes.append(_MedicineClass(rule, coding, status or ref.status.value, shown))
    return classes


def _read_medication(col: _Collector, resource: Resource, source: str) -> None:
    """MedicationStatement: a treatment tried (one row each, with relief and notes), and current use while active."""
    status = resource.get("status")
    medicine = _medicine_codings(col, resource, source)
    if medicine is None:
        return
    found, text = medicine
    if status in ("entered-in-error", "not-taken", "intended"):
        col.skip_codings(source, "status", found, f"status {status}: not taken")
        return
    when = _effective(resource) or date_of(resource.get("dateAsserted"))
    local = next((x for x in found if x.system == c.TREATMENT and x.code in Treatment.__members__), None)
    classes = _classes(col, found, text)
    _current_use(col, classes, source, when, status == "active", f"status {status}")
    treatment = (
        (str(local.code), local, "local")
        if local
        else next(((x.rule.treatment.value, x.coding, x.status) for x in classes if x.rule.treatment), None)
    )
    if treatment is not None:
        name, coding, status_text = treatment
        item: dict[str, Any] = {"treatment": name}
        if when:
            item["date"] = when.isoformat()
        _treatment_details(col, resource, source, item)
        col.mapped.append(
            MappedItem(
                resource=source, coding=coding.label(), target="prior_treatments", value=name, status=status_text
            )
        )
    _list_other_classes(col, classes, source)
    if treatment is None and not any(x.rule.target for x in classes) and not classes:
        col.skip_codings(source, "medication", found, "medicine not in the mapping (RxNorm or ATC, docs/fhir.md)")


def _current_use(
    col: _Collector, classes: list[_MedicineClass], source: str, when: dt.date | None, current: bool, why: str
) -> None:
    for x in classes:
        if x.rule.target is None:
            continue
        if current:
            col.set(x.rule.target, Presence.present, when, source, x.coding, x.status)
            col.mapped[-1] = col.mapped[-1].model_copy(update={"value": f"present ({x.basis})"})
        else:
            col.skip(source, "status", f"{why}: history, not current use, so {x.rule.target} is not set", x.coding)


def _list_other_classes(col: _Collector, classes: list[_MedicineClass], source: str) -> None:
    for x in classes:
        if x.rule.treatment is None and x.rule.target is None:
            col.skip(source, "medication", f"{x.rule.label} ({x.basis}): the case has no field for it", x.coding)


REQUEST_CURRENT = ("active", "on-hold")
REQUEST_PAST = ("completed", "stopped", "unknown")


def _read_medication_request(col: _Collector, resource: Resource, source: str) -> None:
    """MedicationRequest: current use while the order is active (and its validity not over); every order, current or
    not, is a treatment tried, gathered into one row per treatment with the dates of the first and last order."""
    status = resource.get("status")
    medicine = _medicine_codings(col, resource, source)
    if medicine is None:
        return
    found, text = medicine
    if status not in (*REQUEST_CURRENT, *REQUEST_PAST) or resource.get("doNotPerform") is True:
        why = "do not perform" if resource.get("doNotPerform") is True else f"status {status}"
        col.skip_codings(source, "status", found, f"{why}: not prescribed")
        return
    if resource.get("intent") == "proposal":
        col.skip_codings(source, "intent", found, "a proposal, not a prescription")
        return
    when = date_of(resource.get("authoredOn"))
    if col.assessment_date and when and when > col.assessment_date:
        col.skip_codings(source, "authoredOn", found, "ordered after the assessment date")
        return
    validity = date_of(((resource.get("dispenseRequest") or {}).get("validityPeriod") or {}).get("end"))
    ended = validity is not None and col.assessment_date is not None and validity < col.assessment_date
    current = status in REQUEST_CURRENT and not ended
    why = f"validity ended {validity}" if ended else f"status {status}"
    classes = _classes(col, found, text)
    _current_use(col, classes, source, when, current, why)
    treatments = [x for x in classes if x.rule.treatment]
    for x in treatments:
        assert x.rule.treatment is not None
        item = MappedItem(
            resource=source,
            coding=x.coding.label(),
            target="prior_treatments",
            value=x.rule.treatment.value,
            status=x.status,
        )
        col.prescribed.setdefault(x.rule.treatment.value, []).append((when, source, item))
        col.mapped.append(item)
    _list_other_classes(col, classes, source)
    if not classes:
        col.skip_codings(source, "medication", found, "medicine not in the mapping (RxNorm or ATC, docs/fhir.md)")


def _prescriptions(col: _Collector) -> None:
    """One prior-treatment row per treatment ordered: the last order's date, and how many orders over which years."""
    for treatment, orders in col.prescribed.items():
        dates = sorted(d for d, _, _ in orders if d)
        item: dict[str, Any] = {"treatment": treatment}
        if dates:
            item["date"] = dates[-1].isoformat()
        span = f", {dates[0].isoformat()} to {dates[-1].isoformat()}" if len(dates) > 1 else ""
        item["note"] = f"{len(orders)} prescription(s) in the record{span}"
        col.lists["prior_treatments"].append(item)
        col.list_sources.setdefault("prior_treatments", []).append(
            f"{len(orders)} MedicationRequest(s), latest {orders[-1][1]}"
        )


def _read_medication_resource(col: _Collector, resource: Resource, source: str) -> None:
    """A Medication is read through the requests and statements that refer to it."""


def _read_allergy(col: _Collector, resource: Resource, source: str) -> None:
    verification = {str(x.code) for x in codings(resource.get("verificationStatus"))}
    clinical = {str(x.code) for x in codings(resource.get("clinicalStatus"))}
    found = codings(resource.get("code"))
    if "entered-in-error" in verification:
        col.skip_codings(source, "code", found, "entered in error")
        return
    value = Presence.absent if "refuted" in verification else Presence.present
    when = date_of(resource.get("recordedDate")) or date_of(resource.get("onsetDateTime"))
    for coding in found:
        for rule, ref in col.mapping.find(col.mapping.data.allergies, coding):
            assert isinstance(rule, AllergyRule)
            if value is Presence.present and clinical & {"inactive", "resolved"}:
                col.skip(source, "clinicalStatus", f"not current ({', '.join(sorted(clinical))})", coding)
            else:
                col.set(rule.target, value, when, source, coding, ref.status)
            return
    col.skip_codings(source, "code", found, "allergy not in the mapping: the case records only a contrast allergy")


OWN_REPORT_TITLE = "FBSS Navigator clinician report"
TEXT_TYPES = ("text/plain", "text/markdown")
MAX_DOCUMENT_CHARS = 100_000


def _attachment_text(attachment: Any) -> str | None:
    if not isinstance(attachment, dict) or not isinstance(attachment.get("data"), str):
        return None
    kind = str(attachment.get("contentType", "")).split(";")[0].strip().lower()
    if kind not in TEXT_TYPES:
        return None
    try:
        return base64.b64decode(attachment["data"], validate=True).decode("utf-8")[:MAX_DOCUMENT_CHARS]
    except (binascii.Error, UnicodeDecodeError):
        return None


def _read_document(col: _Collector, resource: Resource, source: str) -> None:
    """DocumentReference: clinic letters and operative notes, kept for the report reader of the case draft."""
    if text_of(resource.get("type")) == OWN_REPORT_TITLE:
        col.skip(source, "resource", "FBSS Navigator's own report is an assessment output, not an input; not read")
        return
    if resource.get("status") == "entered-in-error" or resource.get("docStatus") == "entered-in-error":
        col.skip(source, "status", "entered in error")
        return
    title = text_of(resource.get("type")) or str(resource.get("description") or "document")
    when = date_of(resource.get("date"))
    contents = [x.get("attachment") for x in resource.get("content", []) if isinstance(x, dict)]
    texts = [t for t in map(_attachment_text, contents) if t]
    if not texts:
        col.skip(source, "content", "no plain-text attachment (text/plain or text/markdown, inline data) to read")
        return
    col.documents.append(DocumentText(source, title, when, "\n\n".join(texts)))
    col.skip(source, "content", "document text is read by the report reader in the case draft, for acceptance")


def _read_report(col: _Collector, resource: Resource, source: str) -> None:
    found = codings(resource.get("code"))
    if resource.get("status") in ("entered-in-error", "cancelled"):
        col.skip_codings(source, "status", found, f"status {resource.get('status')}")
        return
    modality = next((x.code for x in found if x.system == c.MODALITY and x.code in Modality.__members__), None)
    if modality is None:
        col.skip_codings(
            source, "code", found, "study modality not coded (local modality code needed); coded results are still read"
        )
    else:
        study: dict[str, Any] = {"modality": modality}
        when = date_of(resource.get("effectiveDateTime"))
        if when:
            study["date"] = when.isoformat()
        levels = [str(v) for url, v in extensions(resource) if url == c.EXT_SEGMENT]
        if levels:
            study["levels"] = _segments_of([{"text": lv} for lv in levels], col, source)
        study.update(
            _extension_fields(
                col,
                resource,
                source,
                {c.EXT_CONTRAST: ("contrast", Presence), c.EXT_REPORTED_IN_FULL: ("reported_in_full", bool)},
            )
        )
        col.lists["studies"].append(study)
        col.mapped.append(
            MappedItem(
                resource=source, coding=f"{c.MODALITY}|{modality}", target="studies", value=modality, status="local"
            )
        )
    if resource.get("conclusion") or resource.get("presentedForm"):
        texts = [str(resource["conclusion"])] if isinstance(resource.get("conclusion"), str) else []
        texts += [t for t in (_attachment_text(x) for x in resource.get("presentedForm", [])) if t]
        if texts:
            title = text_of(resource.get("code")) or "report"
            when = date_of(resource.get("effectiveDateTime"))
            col.documents.append(DocumentText(source, title, when, "\n\n".join(texts)))
        col.skip(
            source,
            "conclusion/presentedForm",
            "report text is not read here (a case draft offers it to the report reader); code findings as Observations",
        )
    for i, conclusion in enumerate(concepts(resource.get("conclusionCode"))):
        col.skip_codings(source, f"conclusionCode[{i}]", codings(conclusion), "conclusion codes are not mapped")


def _read_device(col: _Collector, resource: Resource, source: str) -> None:
    kind = next((x.code for x in codings(resource.get("type")) if x.system == c.DEVICE_KIND), None)
    if kind not in DeviceKind.__members__:
        col.skip_codings(source, "type", codings(resource.get("type")), "device type not in the mapping")
        return
    device: dict[str, Any] = {"kind": kind}
    device.update(_extension_fields(col, resource, source, {c.EXT_MRI_CONDITIONAL: ("mri_conditional", Presence)}))
    col.devices.append(device)
    col.mapped.append(
        MappedItem(
            resource=source, coding=f"{c.DEVICE_KIND}|{kind}", target="patient.devices", value=str(kind), status="local"
        )
    )


def _answers(items: list[Any], found: dict[str, Any]) -> None:
    for item in items:
        if not isinstance(item, dict):
            continue
        answers = item.get("answer") or []
        if answers and isinstance(answers[0], dict):
            answer = answers[0]
            value: Any = None
            if "valueInteger" in answer:
                value = answer["valueInteger"]
            elif "valueDecimal" in answer:
                value = answer["valueDecimal"]
            elif "valueCoding" in answer:
                code = answer["valueCoding"].get("code")
                value = int(code) if isinstance(code, str) and code.lstrip("-").isdigit() else code
            elif "valueBoolean" in answer:
                value = int(answer["valueBoolean"])
            found[str(item.get("linkId"))] = value
            _answers(answers[0].get("item", []), found)
        _answers(item.get("item", []), found)


def _instrument_for(questionnaire: str | None) -> str | None:
    if not questionnaire:
        return None
    canonical = questionnaire.split("|")[0]
    catalogue = load_instruments()
    if canonical.startswith(c.QUESTIONNAIRE_BASE + "/"):
        candidate = canonical.removeprefix(c.QUESTIONNAIRE_BASE + "/")
        return candidate if candidate in catalogue.instruments else None
    if canonical.startswith("http://loinc.org/q/"):
        panel = "loinc:" + canonical.removeprefix("http://loinc.org/q/")
        return next((i.id for i in catalogue if i.panel_code == panel), None)
    return None


def _read_questionnaire_response(col: _Collector, resource: Resource, source: str) -> None:
    status = resource.get("status")
    questionnaire = resource.get("questionnaire")
    if status not in ("completed", "amended"):
        col.skip(source, "status", f"status {status}: only completed forms are scored")
        return
    instrument_id = _instrument_for(questionnaire)
    if instrument_id is None:
        col.skip(source, "questionnaire", f"questionnaire {questionnaire!r} is not one of the instruments FBSS scores")
        return
    instrument = load_instruments().get(instrument_id)
    answers: dict[str, Any] = {}
    _answers(resource.get("item", []), answers)
    known = {i.id for i in instrument.items}
    for link_id in sorted(set(answers) - known):
        col.skip(source, f"item {link_id}", f"not an item of {instrument_id}")
    try:
        result = score(instrument_id, {k: v for k, v in answers.items() if k in known})
    except InstrumentError as exc:
        col.skip(source, "item", f"not scored: {exc}")
        for alert in exc.alerts:
            col.warnings.append(f"{source}: {alert.clinician_message}")
        return
    for alert in result.alerts:
        col.warnings.append(f"{source}: {alert.clinician_message}")
    when = date_of(resource.get("authored"))
    rule: QuestionnaireRule | None = next(
        (q for q in col.mapping.data.questionnaires if q.instrument == instrument_id), None
    )
    targets = rule.scales if rule else {}
    coding = Coding(c.QUESTIONNAIRE_BASE, instrument_id)
    for value in result.values:
        if value.scale_id in targets:
            typed = _typed(targets[value.scale_id], value.value)
            if isinstance(typed, str):
                col.skip(source, value.scale_id, typed, coding)
            else:
                col.set(targets[value.scale_id], typed, when, source, coding, Verification.local)
        else:
            col.skip(
                source,
                f"score {value.scale_id}",
                f"{value.title} = {value.value:g} was scored, but the case has no field for it",
                coding,
            )
    for item_id, target in (rule.items if rule else {}).items():
        answer = next((a.answer for a in result.answers if a.item_id == item_id), None)
        if answer is not None:
            col.set(target, int(answer), when, source, coding, Verification.local)


READERS = {
    "Patient": _read_patient,
    "Condition": _read_condition,
    "Procedure": _read_procedure,
    "Observation": _read_observation,
    "QuestionnaireResponse": _read_questionnaire_response,
    "DiagnosticReport": _read_report,
    "DocumentReference": _read_document,
    "MedicationStatement": _read_medication,
    "MedicationRequest": _read_medication_request,
    "Medication": _read_medication_resource,
    "AllergyIntolerance": _read_allergy,
    "Device": _read_device,
}


# --- assembling the case -----------------------------------------------------------------------------------------


def _resolve(col: _Collector, sources: dict[str, str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for path, candidates in col.values.items():
        chosen = _choose(path, candidates, col)
        if chosen.caveat:
            col.warnings.append(f"{path}: {chosen.caveat} ({chosen.source})")
        if sources is not None:
            sources[path] = chosen.source + (f", {chosen.when.isoformat()}" if chosen.when else "")
        node = data
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = chosen.value.value if isinstance(chosen.value, Enum) else chosen.value
    return data


def _shown(value: Any) -> str:
    return str(value.value if isinstance(value, Enum) else value)


def _choose(path: str, candidates: list[_Candidate], col: _Collector) -> _Candidate:
    firm = [x for x in candidates if x.caveat is None]
    candidates = firm or candidates  # fallback readings count only when nothing else says it
    distinct = {str(x.value) for x in candidates}
    if len(distinct) == 1:
        return max(candidates, key=lambda x: x.when or dt.date.min)
    if path not in col.mapping.latest_wins and all(isinstance(x.value, Presence) for x in candidates):
        # "present" from any source wins: a red flag or risk factor recorded anywhere must not be hidden
        chosen = next(x for x in candidates if x.value is Presence.present)
        rule = "present wins"
    else:
        chosen = max(candidates, key=lambda x: x.when or dt.date.min)
        same_day = {str(x.value) for x in candidates if x.when == chosen.when}
        if chosen.when is not None and len(same_day) == 1:
            return chosen  # a history of values over time: the latest is the state now, not a conflict
        rule = "the latest wins"
    listed = ", ".join(f"{_shown(x.value)} ({x.source})" for x in candidates)
    col.warnings.append(f"{path}: conflicting values {listed}; {rule}")
    return chosen


def _context(col: _Collector) -> None:
    for rule_id, (rule, dates, source) in col.context.items():
        known = sorted(d for d in dates if d)
        latest = f", latest {known[-1].isoformat()}" if known else ""
        col.recognised.append(f"{rule.title} ({len(dates)} recorded{latest}, {source}): {rule.advice}")
        col.recognised_ids.add(rule_id)


def _surgeries(col: _Collector) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    if not col.surgeries:
        return None, []
    index = [s for s in col.surgeries if s.role == "index-surgery"]
    if index:
        chosen = index[0]
        for extra in index[1:]:
            col.warnings.append(f"{extra.source}: a second index surgery; read as an earlier surgery")
    else:
        usable = [s for s in col.surgeries if not (col.assessment_date and s.when and s.when > col.assessment_date)]
        chosen = max(usable or col.surgeries, key=lambda s: s.when or dt.date.min)
        if len(col.surgeries) > 1:
            col.warnings.append(f"{chosen.source}: taken as the index surgery (the latest spine operation)")
    earlier = [s.data for s in col.surgeries if s is not chosen]
    return chosen.data, earlier


def _age(col: _Collector, data: dict[str, Any]) -> None:
    if col.birth_date is None:
        return
    on = col.assessment_date or dt.date.today()
    years = on.year - col.birth_date.year - ((on.month, on.day) < (col.birth_date.month, col.birth_date.day))
    data.setdefault("patient", {}).setdefault("age", years)
    if years < 18:
        raise NotApplicableError(f"Patient.birthDate: the patient is {years} years old; FBSS Navigator is for adults")


def _sanitise_id(text: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "._:-" else "-" for ch in text)[:100]
    return cleaned or "imported"


NO_SURGERY = (
    "no spine operation found: the case needs the index surgery as a Procedure (SNOMED laminectomy 387731002, "
    "microdiscectomy 178625001, or the local surgery-type code system; see docs/fhir.md)"
)
PLACEHOLDER_SURGERY = {"type": "other"}


def _case_data(
    col: _Collector, case_id: str | None, sources: dict[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The case data the record gives (without validation) and the index surgery, if one was found."""
    _context(col)
    _prescriptions(col)
    data = _resolve(col, sources)
    assessment = data.pop("assessment_date", None)
    if col.assessment_date is None and assessment is not None:
        col.assessment_date = assessment
    index, earlier = _surgeries(col)
    _age(col, data)
    if col.devices:
        data.setdefault("patient", {})["devices"] = col.devices
    data.update(
        {
            "id": _sanitise_id(case_id or col.case_id or "imported"),
            "assessment_date": col.assessment_date.isoformat() if col.assessment_date else None,
            "earlier_surgeries": earlier,
            **col.lists,
        }
    )
    return data, index


def _validated(col: _Collector, data: dict[str, Any]) -> Case:
    for _attempt in range(20):
        try:
            return Case.model_validate(data)
        except ValidationError as exc:
            if not _drop_invalid(col, data, exc):
                raise CaseError(f"imported case: {describe_validation_error(exc)}") from None
    raise CaseError("imported case: too many invalid values")


def _build(col: _Collector, case_id: str | None) -> Case:
    data, index = _case_data(col, case_id)
    if index is None:
        raise NotApplicableError(NO_SURGERY, tuple(col.recognised), frozenset(col.recognised_ids))
    data["index_surgery"] = index
    return _validated(col, data)


def _report(col: _Collector) -> ImportReport:
    return ImportReport(
        mapped=tuple(col.mapped),
        unmapped=tuple(col.unmapped),
        warnings=tuple(col.warnings),
        recognised=tuple(col.recognised),
    )


def _drop_invalid(col: _Collector, data: dict[str, Any], exc: ValidationError) -> bool:
    """Remove what a validation error names and list it; False if nothing could be removed."""
    for error in exc.errors():
        loc = list(error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        path = ".".join(str(p) for p in loc) or "(case)"
        position = next((i for i, part in enumerate(loc) if isinstance(part, int)), None)
        if position is not None:  # an item of a list: drop the whole item
            container = _node(data, loc[:position])
            if isinstance(container, list) and int(loc[position]) < len(container):
                container.pop(int(loc[position]))
                col.skip("case", path, f"invalid item dropped: {message}")
                return True
        parent = _node(data, loc[:-1]) if loc else None
        if isinstance(parent, dict) and loc and loc[-1] in parent and loc[-1] not in ("id", "index_surgery"):
            del parent[loc[-1]]
            col.skip("case", path, f"invalid value dropped: {message}")
            return True
        section = _node(data, loc)
        if isinstance(section, dict):  # a cross-field rule: drop the plain values its message names
            names = [k for k, v in section.items() if k in message and not isinstance(v, dict | list)]
            names = [k for k in names if k not in ("id",)]
            if names:
                for name in names:
                    del section[name]
                col.skip("case", path, f"conflicting values dropped ({', '.join(names)}): {message}")
                return True
    return False


def _node(data: Any, loc: list[Any]) -> Any:
    node = data
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


MAX_NESTED_BUNDLES = 3  # a searchset inside a collection is one level; deeper Bundles are not unpacked


def _entries_of(data: object, depth: int = 0) -> list[tuple[str | None, object]]:
    entries = validate_bundle_shell(data)
    found: list[tuple[str | None, object]] = []
    for entry in entries:
        if not isinstance(entry, dict):
            found.append((None, entry))
            continue
        resource = entry.get("resource")
        full_url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "Bundle" and depth < MAX_NESTED_BUNDLES:
            found += _entries_of(resource, depth + 1)  # a searchset inside a collection (e.g. a prefetch result)
        else:
            found.append((full_url, resource))  # a Bundle nested deeper is listed as unread
    return found


def without_nulls(value: object) -> object:
    """The resource without JSON nulls: FHIR JSON has none, so a null means the element is absent (readers then
    never meet `"item": null` where they expect a list)."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value if v is not None]
    return value


def _subject_ok(resource: Resource, patient_refs: set[str]) -> bool:
    if not patient_refs:
        return True
    for key in ("subject", "patient"):
        ref = reference(resource.get(key))
        if ref is not None:
            return ref in patient_refs or any(ref.endswith("/" + p) for p in patient_refs if "/" in p)
    return True


def _collect(
    resources: Iterable[tuple[str | None, object]],
    assessment_date: dt.date | None,
    mapping: Mapping | None,
    remember_valid: bool,
    validation: Validation,
) -> _Collector:
    col = _Collector(mapping or default_mapping(), assessment_date)
    valid: list[tuple[str, Resource]] = []
    for i, (full_url, given) in enumerate(resources):
        where = f"entry {i}"
        if too_deep(given):
            col.skip(f"entry {i}", "resource", f"nested deeper than {MAX_DEPTH} levels; not read")
            continue
        raw = without_nulls(given)
        kind = raw.get("resourceType") if isinstance(raw, dict) else None
        if isinstance(raw, dict) and isinstance(kind, str) and kind and kind not in READ_TYPES:
            # skipped unread, so not validated: Claim, Encounter, … make up much of a real bulk export
            source = label(raw, full_url)
            if kind in OUTPUT_TYPES:
                col.skip(source, "resource", f"{kind} is an assessment output, not an input; not read")
            else:
                col.skip(source, "resource", f"{kind} is not read by FBSS Navigator")
            continue
        try:
            resource = validate_resource(raw, remember=remember_valid, validation=validation)
        except FhirError as exc:
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            name = f"{kind}/{raw_id}" if kind and isinstance(raw_id, str) else (kind or "entry")
            col.skip(f"{name} ({where})", "resource", f"invalid FHIR R4: {exc}")
            continue
        source = label(resource, full_url)
        valid.append((source if full_url is None else full_url, resource))
    patients = [(url, r) for url, r in valid if r["resourceType"] == "Patient"]
    patient_refs: set[str] = set()
    if patients:
        url, patient = patients[0]
        patient_id = patient.get("id")
        patient_refs = {url, f"Patient/{patient_id}", f"urn:uuid:{patient_id}"} if patient_id else {url}
        for _url, other in patients[1:]:
            col.skip(label(other), "resource", "a second Patient: only the first one is read")
    for url, resource in valid:
        if resource["resourceType"] == "Medication":
            for key in {url, f"Medication/{resource.get('id')}", f"#{resource.get('id')}"}:
                col.medicines[key] = resource
        for contained in resource.get("contained", []):
            if isinstance(contained, dict) and contained.get("resourceType") == "Medication":
                col.medicines[f"#{contained.get('id')}"] = contained
    for url, resource in valid:
        source = label(resource, url if url.startswith(("urn:", "http")) else None)
        if resource["resourceType"] == "Patient" and patients and resource is not patients[0][1]:
            continue
        if not _subject_ok(resource, patient_refs):
            col.skip(source, "subject", "refers to a different patient; not read")
            continue
        try:
            READERS[str(resource["resourceType"])](col, resource, source)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
            # Valid FHIR by the model can still hold what a reader does not expect (the model coerces types):
            # the resource is listed as unread rather than the whole import failing.
            reason = f"could not be read: an element has an unexpected shape ({type(exc).__name__})"
            col.skip(source, "resource", reason)
    return col


def import_resources(
    resources: Iterable[tuple[str | None, object]],
    *,
    assessment_date: dt.date | None = None,
    case_id: str | None = None,
    mapping: Mapping | None = None,
    remember_valid: bool = True,
    validation: Validation = Validation.lean,
) -> ImportResult:
    """Map (fullUrl, resource) pairs into a Case; raise CaseError when no case can be built (no index surgery).

    `remember_valid=False` when every resource is new (a bulk export): see `validate_resource`. `validation`: lean
    (the elements read) or strict (every element); see `Validation`.
    """
    col = _collect(resources, assessment_date, mapping, remember_valid, validation)
    case = _build(col, case_id)
    return ImportResult(case, _report(col))


def import_draft(
    resources: Iterable[tuple[str | None, object]],
    *,
    assessment_date: dt.date | None = None,
    case_id: str | None = None,
    mapping: Mapping | None = None,
    remember_valid: bool = True,
    validation: Validation = Validation.lean,
) -> CaseDraft:
    """What the record says, as a case draft for a clinician to confirm: no index surgery needed (the form asks for
    it), every value with the resource it came from, and the documents for the report reader.

    Raises NotApplicableError for a minor, as `import_resources` does.
    """
    col = _collect(resources, assessment_date, mapping, remember_valid, validation)
    sources: dict[str, str] = {}
    data, index = _case_data(col, case_id, sources)
    if index is None:
        col.warnings.append(NO_SURGERY.replace("no spine operation found: the case needs", "enter"))
    data["index_surgery"] = index or dict(PLACEHOLDER_SURGERY)
    case = _validated(col, data)  # drops (and lists) what the case model refuses
    draft = case.model_dump(mode="json", exclude_defaults=True)
    if index is None:
        draft.pop("index_surgery", None)
    else:
        sources["index_surgery"] = next(s.source for s in col.surgeries if s.data is index)
    for kind, rows in col.list_sources.items():
        for i, where in enumerate(rows, start=len(draft.get(kind, [])) - len(rows)):
            sources[f"{kind}-{i}"] = where
    for lab in draft.get("labs", []):
        sources.setdefault(f"labs.{lab['lab']}", "Observation" + (f", {lab['date']}" if lab.get("date") else ""))
    return CaseDraft(draft, _report(col), sources, tuple(col.documents))


def import_bundle(
    data: object | str | bytes,
    *,
    assessment_date: dt.date | None = None,
    case_id: str | None = None,
    mapping: Mapping | None = None,
    validation: Validation = Validation.lean,
) -> ImportResult:
    """A FHIR Bundle (decoded JSON, or JSON text) into a Case and an ImportReport."""
    if isinstance(data, str | bytes):
        if len(data) > MAX_BUNDLE_BYTES:
            raise FhirError(f"bundle larger than {MAX_BUNDLE_BYTES // 1_000_000} MB")
        try:
            data = jsonlimits.loads(data)
        except JsonLimitError as exc:
            raise FhirError(f"the bundle is {exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise FhirError(f"not valid JSON ({exc})") from None
    return import_resources(
        _entries_of(data), assessment_date=assessment_date, case_id=case_id, mapping=mapping, validation=validation
    )
