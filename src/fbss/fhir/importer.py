"""A FHIR R4 Bundle (or a list of resources) into a Case, with a report of what was mapped and what was not.

Nothing is dropped silently: every resource, coding, extension or value that does not reach the case is listed in
`ImportReport.unmapped` with the reason.
"""

from __future__ import annotations

import datetime as dt
import json
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
    CodeRef,
    ConditionRule,
    Mapping,
    MedicationRule,
    ObservationRule,
    QuestionnaireRule,
    SurgeryRule,
    Verification,
    default_mapping,
)
from fbss.fhir.resources import (
    FhirError,
    Resource,
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
from fbss.instruments import InstrumentError, load_instruments, score
from fbss.jsonlimits import MAX_DEPTH, JsonLimitError, too_deep

READ_TYPES = (
    "Patient",
    "Condition",
    "Procedure",
    "Observation",
    "QuestionnaireResponse",
    "DiagnosticReport",
    "MedicationStatement",
    "Device",
)
OUTPUT_TYPES = (
    "RiskAssessment",
    "ClinicalImpression",
    "DetectedIssue",
    "Flag",
    "Questionnaire",
    "DocumentReference",
    "Provenance",
    "CarePlan",
    "RequestGroup",
    "ServiceRequest",
)
MAX_BUNDLE_BYTES = 20_000_000


class NotApplicableError(CaseError):
    """The record holds no case FBSS Navigator can assess (no spine operation, or a minor)."""

    def __init__(self, message: str, recognised: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.recognised = recognised


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
class _Candidate:
    value: Any
    when: dt.date | None
    source: str


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
        self, path: str, value: Any, when: dt.date | None, source: str, coding: Coding, status: Verification | str
    ) -> None:
        self.values.setdefault(path, []).append(_Candidate(value, when, source))
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
    """The numeric value of an Observation (or component) and its UCUM unit, if any."""
    if isinstance(resource.get("valueInteger"), int):
        return float(resource["valueInteger"]), None
    quantity = resource.get("valueQuantity")
    if isinstance(quantity, dict) and isinstance(quantity.get("value"), int | float):
        unit = quantity.get("code") or quantity.get("unit")
        return float(quantity["value"]), str(unit) if unit else None
    return None, None


def _convert(rule: ObservationRule, value: float, unit: str | None) -> float | str:
    """The value in the case's unit, or a reason it cannot be converted."""
    if not rule.units:
        return value
    if unit is None:
        return f"no unit given; expected one of {', '.join(rule.units)}"
    factor = rule.units.get(unit)
    if factor is None:
        return f"unit '{unit}' is not convertible; expected one of {', '.join(rule.units)}"
    if factor == "fahrenheit":
        return round((value - 32) * 5 / 9, 2)
    return value * factor


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
        typed = _typed(path, number) if number is not None else "no numeric value"
        if isinstance(typed, str):
            col.skip(source, "value", typed, coding)
        else:
            col.set(path, typed, when, source, coding, Verification.local)


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
        if not rule.body_site or any(col.mapping.matches(s, site) for s in rule.body_site for site in sites)
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
    when = date_of(resource.get("effectiveDateTime")) or date_of(resource.get("issued"))
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
        col.skip(source, "value", f"no numeric value for {rule.title}", coding)
        return
    converted = _convert(rule, number, unit)
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
    typed = _typed(rule.target, converted)
    if isinstance(typed, str):
        col.skip(source, "value", typed, coding)
        return
    col.set(rule.target, typed, when, source, coding, ref.status)


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


def _read_medication(col: _Collector, resource: Resource, source: str) -> None:
    status = resource.get("status")
    medicine = resource.get("medicationCodeableConcept")
    found = codings(medicine)
    if "medicationReference" in resource:
        col.skip(source, "medicationReference", "medication references are not followed; code the medicine itself")
        return
    if status in ("entered-in-error", "not-taken", "intended"):
        col.skip_codings(source, "status", found, f"status {status}: not taken")
        return
    when = date_of(resource.get("effectiveDateTime")) or date_of((resource.get("effectivePeriod") or {}).get("start"))
    local = next((x for x in found if x.system == c.TREATMENT and x.code in Treatment.__members__), None)
    treatments: list[tuple[str, Coding, str]] = [(str(local.code), local, "local")] if local else []
    targets: list[tuple[str, Coding, str]] = []
    for coding in found:
        for rule, ref in col.mapping.find(col.mapping.data.medications, coding):
            assert isinstance(rule, MedicationRule)
            if rule.treatment is not None and not local:
                treatments.append((rule.treatment.value, coding, ref.status.value))
            elif rule.target is not None:
                targets.append((rule.target, coding, ref.status.value))
    for target, coding, status_text in targets:
        if status == "active":
            col.set(target, Presence.present, when, source, coding, status_text)
        else:
            col.skip(source, "status", f"status {status}: not current, so {target} is not set", coding)
    if treatments:
        name, coding, status_text = treatments[0]
        item: dict[str, Any] = {"treatment": name}
        if when:
            item["date"] = when.isoformat()
        _treatment_details(col, resource, source, item)
        col.mapped.append(
            MappedItem(
                resource=source, coding=coding.label(), target="prior_treatments", value=name, status=status_text
            )
        )
    if not treatments and not targets:
        col.skip_codings(
            source, "medicationCodeableConcept", found, "medicine not in the mapping (ATC classes, docs/fhir.md)"
        )


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
        col.skip(source, "conclusion/presentedForm", "report text is not read here; code its findings as Observations")
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
    "MedicationStatement": _read_medication,
    "Device": _read_device,
}


# --- assembling the case -----------------------------------------------------------------------------------------


def _resolve(col: _Collector) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for path, candidates in col.values.items():
        chosen = _choose(path, candidates, col)
        node = data
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = chosen.value.value if isinstance(chosen.value, Enum) else chosen.value
    return data


def _choose(path: str, candidates: list[_Candidate], col: _Collector) -> _Candidate:
    distinct = {str(x.value) for x in candidates}
    if len(distinct) == 1:
        return candidates[0]
    if all(isinstance(x.value, Presence) for x in candidates):
        # "present" from any source wins: a red flag or risk factor recorded anywhere must not be hidden
        chosen = next(x for x in candidates if x.value is Presence.present)
        rule = "present wins"
    else:
        chosen = max(candidates, key=lambda x: x.when or dt.date.min)
        rule = "the latest wins"
    listed = ", ".join(f"{x.value.value if isinstance(x.value, Enum) else x.value} ({x.source})" for x in candidates)
    col.warnings.append(f"{path}: conflicting values {listed}; {rule}")
    return chosen


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


def _build(col: _Collector, case_id: str | None) -> Case:
    data = _resolve(col)
    assessment = data.pop("assessment_date", None)
    if col.assessment_date is None and assessment is not None:
        col.assessment_date = assessment
    index, earlier = _surgeries(col)
    if index is None:
        raise NotApplicableError(
            "no spine operation found: the case needs the index surgery as a Procedure (SNOMED laminectomy 387731002, "
            "microdiscectomy 178625001, or the local surgery-type code system; see docs/fhir.md)",
            tuple(col.recognised),
        )
    _age(col, data)
    if col.devices:
        data.setdefault("patient", {})["devices"] = col.devices
    data.update(
        {
            "id": _sanitise_id(case_id or col.case_id or "imported"),
            "assessment_date": col.assessment_date.isoformat() if col.assessment_date else None,
            "index_surgery": index,
            "earlier_surgeries": earlier,
            **col.lists,
        }
    )
    for _attempt in range(20):
        try:
            return Case.model_validate(data)
        except ValidationError as exc:
            if not _drop_invalid(col, data, exc):
                raise CaseError(f"imported case: {describe_validation_error(exc)}") from None
    raise CaseError("imported case: too many invalid values")


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


def import_resources(
    resources: Iterable[tuple[str | None, object]],
    *,
    assessment_date: dt.date | None = None,
    case_id: str | None = None,
    mapping: Mapping | None = None,
    remember_valid: bool = True,
) -> ImportResult:
    """Map (fullUrl, resource) pairs into a Case; raise CaseError when no case can be built (no index surgery).

    `remember_valid=False` when every resource is new (a bulk export): see `validate_resource`.
    """
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
            resource = validate_resource(raw, remember=remember_valid)
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
    case = _build(col, case_id)
    report = ImportReport(
        mapped=tuple(col.mapped),
        unmapped=tuple(col.unmapped),
        warnings=tuple(col.warnings),
        recognised=tuple(col.recognised),
    )
    return ImportResult(case, report)


def import_bundle(
    data: object | str | bytes,
    *,
    assessment_date: dt.date | None = None,
    case_id: str | None = None,
    mapping: Mapping | None = None,
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
    return import_resources(_entries_of(data), assessment_date=assessment_date, case_id=case_id, mapping=mapping)
