"""A case as FHIR R4 resources (Patient, Procedure, Condition, Observation, DiagnosticReport, MedicationStatement,
Device): standard codes where mapping.yaml has them, the project's local codes elsewhere. The importer reads it back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import BaseModel

from fbss.case.model import (
    Case,
    DiagnosticResult,
    LabResult,
    Presence,
    PriorTreatment,
    Sex,
    Study,
    Surgery,
)
from fbss.case.vocabulary import LAB_UNITS, Modality, Treatment
from fbss.fhir import codes as c
from fbss.fhir.codes import Coding, concept
from fbss.fhir.mapping import ConditionRule, Mapping, ObservationRule, Verification, default_mapping

NAMESPACE = uuid.UUID("4f0f7a52-6f1e-4c59-9a0e-2a4a0b7d3c11")
CASE_ID_SYSTEM = f"{c.BASE}/case-id"

# Sections whose leaf fields travel as case-item Observations unless a standard code exists.
SECTIONS = (
    "patient",
    "course",
    "pain",
    "exam",
    "function",
    "systemic",
    "red_flags",
    "urgent_signs",
    "risk_factors",
    "alignment",
    "psychosocial",
    "work",
)
OBSERVATION_CATEGORY = {
    "exam": "exam",
    "systemic": "exam",
    "psychosocial": "survey",
    "function": "survey",
    "risk_factors": "social-history",
    "work": "social-history",
    "alignment": "imaging",
}
MEDICINES = {Treatment.nsaid, Treatment.paracetamol, Treatment.neuropathic_medication, Treatment.opioid}
IMAGING = {
    Modality.xray,
    Modality.flexion_extension_xray,
    Modality.standing_full_length_xray,
    Modality.mri,
    Modality.ct,
    Modality.ct_myelography,
    Modality.bone_scan,
    Modality.ultrasound,
}
NOT_EXPORTED = ("notes",)  # free text stays in the case file


@dataclass
class _Builder:
    case: Case
    mapping: Mapping
    entries: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def full_url(self, kind: str, key: str) -> str:
        return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{self.case.id}/{kind}/{key}')}"

    def add(self, kind: str, key: str, resource: dict[str, Any]) -> str:
        url = self.full_url(kind, key)
        resource = {"resourceType": kind, "id": url.removeprefix("urn:uuid:"), **resource}
        self.entries.append((url, resource))
        return url

    @property
    def subject(self) -> dict[str, str]:
        return {"reference": self.full_url("Patient", "patient")}


def _code(value: Enum | str) -> str:
    return value.value if isinstance(value, Enum) else value


def _known(value: Any) -> bool:
    return value is not None and not (isinstance(value, Enum) and value.value == "unknown")


def _ext(url: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"url": url, "valueBoolean": value}
    if isinstance(value, int):
        return {"url": url, "valueInteger": value}
    if isinstance(value, float):
        return {"url": url, "valueDecimal": value}
    return {"url": url, "valueCode": _code(value)}


def _extensions(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = [_ext(url, value) for url, value in pairs if _known(value)]
    return {"extension": found} if found else {}


def _segments(levels: tuple[str, ...]) -> list[dict[str, Any]]:
    return [concept(Coding(c.SPINAL_SEGMENT, level, level), text=level) for level in levels]


def _date(value: dt.date | None, element: str = "effectiveDateTime") -> dict[str, Any]:
    return {element: value.isoformat()} if value else {}


def _exported_codes(rule: ConditionRule | ObservationRule, mapping: Mapping) -> list[Coding]:
    """The importable codes of a rule, best verified first (never unverified ones)."""
    order = {Verification.verified: 0, Verification.corroborated: 1, Verification.local: 2}
    refs = [r for r in rule.codes if r.import_ and r.match == "exact" and r.status in order]
    return [mapping.coding(r) for r in sorted(refs, key=lambda r: order[r.status])]


def _value(value: Any, path: str) -> dict[str, Any]:
    if isinstance(value, Presence):
        return {"valueCodeableConcept": c.PRESENT_CONCEPT if value is Presence.present else c.ABSENT_CONCEPT}
    if isinstance(value, Enum):
        return {"valueCodeableConcept": concept(Coding(c.enum_system(type(value)), value.value, value.value))}
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueQuantity": {"value": value}}
    if isinstance(value, dt.date):
        return {"valueDateTime": value.isoformat()}
    raise TypeError(f"{path}: cannot write {type(value).__name__} as an Observation value")


def _case_item(b: _Builder, path: str, value: Any) -> None:
    section = path.split(".")[0]
    category = OBSERVATION_CATEGORY.get(section)
    b.add(
        "Observation",
        f"item/{path}",
        {
            "status": "final",
            **({"category": [concept(Coding(c.OBSERVATION_CATEGORY, category))]} if category else {}),
            "code": concept(Coding(c.CASE_ITEM, path, path), text=path.replace("_", " ").replace(".", ": ")),
            "subject": b.subject,
            **_value(value, path),
        },
    )


def _screen(b: _Builder) -> None:
    """A negative red-flag screen: who recorded it (performer) and when (effectiveDateTime)."""
    screen = b.case.red_flag_screen
    if screen is None:
        return
    b.add(
        "Observation",
        "item/red_flag_screen",
        {
            "status": "final",
            "code": concept(Coding(c.CASE_ITEM, "red_flag_screen", "red_flag_screen"), text="red-flag screen"),
            "subject": b.subject,
            "effectiveDateTime": screen.at.isoformat(),
            "performer": [{"display": screen.by}],
            "valueString": screen.result,
        },
    )


def _condition(b: _Builder, rule: ConditionRule, value: Presence) -> None:
    verification = "confirmed" if value is Presence.present else "refuted"
    resource: dict[str, Any] = {
        "verificationStatus": concept(Coding(c.CONDITION_VERIFICATION, verification)),
        "code": concept(*_exported_codes(rule, b.mapping), text=rule.title),
        "subject": b.subject,
    }
    if value is Presence.present:
        resource = {"clinicalStatus": concept(Coding(c.CONDITION_CLINICAL, "active")), **resource}
    b.add("Condition", rule.id, resource)


def _observation(b: _Builder, rule: ObservationRule, value: Any, key: str, when: dt.date | None = None) -> None:
    resource: dict[str, Any] = {"status": "final"}
    category = "laboratory" if rule.lab else OBSERVATION_CATEGORY.get(rule.target.split(".")[0])
    if category:
        resource["category"] = [concept(Coding(c.OBSERVATION_CATEGORY, category))]
    resource["code"] = concept(*_exported_codes(rule, b.mapping), text=rule.title)
    resource["subject"] = b.subject
    resource.update(_date(when))
    if rule.value == "coded":
        ref = next(v for v in rule.values if v.export and v.means == _code(value))
        resource["valueCodeableConcept"] = concept(b.mapping.coding(ref))
    elif rule.lab is not None:
        unit = LAB_UNITS[rule.lab]
        lab_code: str = rule.unit or unit
        resource["valueQuantity"] = {"value": value, "unit": unit, "system": c.UCUM, "code": lab_code}
    elif isinstance(value, int):
        resource["valueInteger"] = value
    else:
        ucum = rule.unit
        quantity = {"value": value, **({"unit": ucum, "system": c.UCUM, "code": ucum} if ucum else {})}
        resource["valueQuantity"] = quantity
    if rule.body_site:
        resource["bodySite"] = concept(b.mapping.coding(rule.body_site[0]))
    b.add("Observation", key, resource)


def _patient(b: _Builder) -> None:
    sex = b.case.patient.sex
    b.add(
        "Patient",
        "patient",
        {
            "identifier": [{"system": CASE_ID_SYSTEM, "value": b.case.id}],
            "gender": {Sex.female: "female", Sex.male: "male", Sex.other: "other"}.get(sex, "unknown"),
        },
    )
    for i, device in enumerate(b.case.patient.devices):
        b.add(
            "Device",
            f"device/{i}",
            {
                **_extensions([(c.EXT_MRI_CONDITIONAL, device.mri_conditional)]),
                "status": "active",
                "type": concept(Coding(c.DEVICE_KIND, device.kind.value, device.kind.value)),
                "patient": b.subject,
            },
        )


def _surgery(b: _Builder, surgery: Surgery, role: str, key: str) -> None:
    standard = [
        b.mapping.coding(ref)
        for rule in b.mapping.data.surgeries
        if rule.type == surgery.type.value
        for ref in rule.codes
        if ref.import_ and ref.status is not Verification.unverified
    ]
    resource: dict[str, Any] = {
        **_extensions(
            [
                (c.EXT_SIDE, surgery.side),
                (c.EXT_APPROACH, surgery.approach),
                (c.EXT_REGION, surgery.region),
                (c.EXT_INSTRUMENTED, surgery.instrumented),
                (c.EXT_CAGE, surgery.interbody_cage),
                (c.EXT_ICBG, surgery.iliac_crest_graft),
                (c.EXT_PREOP_SYMPTOMS, surgery.preoperative_symptoms),
            ]
        ),
        "status": "completed",
        "category": concept(Coding(c.PROCEDURE_ROLE, role, role.replace("-", " "))),
        "code": concept(Coding(c.SURGERY_TYPE, surgery.type.value, surgery.type.value), *standard),
        "subject": b.subject,
        **_date(surgery.date, "performedDateTime"),
    }
    if surgery.levels:
        resource["bodySite"] = _segments(surgery.levels)
    if surgery.indication:
        resource["reasonCode"] = [{"text": surgery.indication}]
    b.add("Procedure", key, resource)


def _treatment(b: _Builder, item: PriorTreatment, key: str) -> None:
    extras = _extensions(
        [(c.EXT_SIDE, item.side), (c.EXT_RELIEF_PERCENT, item.relief_percent), (c.EXT_RELIEF_WEEKS, item.relief_weeks)]
    )
    code = concept(Coding(c.TREATMENT, item.treatment.value, item.treatment.value))
    note = {"note": [{"text": item.note}]} if item.note else {}
    if item.treatment in MEDICINES and not item.levels:
        b.add(
            "MedicationStatement",
            key,
            {
                **extras,
                "status": "unknown",
                "medicationCodeableConcept": code,
                "subject": b.subject,
                **_date(item.date),
                **note,
            },
        )
        return
    resource: dict[str, Any] = {
        **extras,
        "status": "completed",
        "category": concept(Coding(c.PROCEDURE_ROLE, "prior-treatment", "prior treatment")),
        "code": code,
        "subject": b.subject,
        **_date(item.date, "performedDateTime"),
        **note,
    }
    if item.levels:
        resource["bodySite"] = _segments(item.levels)
    b.add("Procedure", key, resource)


def _study(b: _Builder, study: Study, key: str, results: list[str]) -> None:
    codings = [Coding(c.MODALITY, study.modality.value, study.modality.value)]
    if study.modality in IMAGING:
        codings.append(Coding(c.LOINC, "18748-4", "Diagnostic imaging study"))
    resource: dict[str, Any] = {
        **_extensions(
            [(c.EXT_CONTRAST, study.contrast), *((c.EXT_SEGMENT, level) for level in study.levels)]
            + ([(c.EXT_REPORTED_IN_FULL, True)] if study.reported_in_full else [])
        ),
        "status": "final",
    }
    if study.modality in IMAGING:
        resource["category"] = [concept(Coding(c.V2_0074, "RAD", "Radiology"))]
    resource.update({"code": concept(*codings), "subject": b.subject, **_date(study.date)})
    if results:
        resource["result"] = [{"reference": url} for url in results]
    b.add("DiagnosticReport", key, resource)


def _diagnostic(b: _Builder, item: DiagnosticResult, key: str) -> str:
    resource: dict[str, Any] = {
        **_extensions([(c.EXT_SIDE, item.side), (c.EXT_CONTRAST, item.contrast)]),
        "status": "final",
    }
    if item.modality in IMAGING:
        resource["category"] = [concept(Coding(c.OBSERVATION_CATEGORY, "imaging"))]
    resource["code"] = concept(Coding(c.DIAGNOSTIC_FINDING, item.finding.value, item.finding.value))
    resource["subject"] = b.subject
    resource.update(_date(item.date))
    if item.presence is Presence.unknown:
        resource["valueCodeableConcept"] = concept(Coding(c.PRESENCE, "unknown", "unknown"))
    else:
        resource.update(_value(item.presence, "diagnostics"))
    resource["method"] = concept(Coding(c.MODALITY, item.modality.value, item.modality.value))
    if item.level:
        resource["bodySite"] = concept(Coding(c.SPINAL_SEGMENT, item.level, item.level), text=item.level)
    return b.add("Observation", key, resource)


INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
READING_CODE = {"normal": ("N", "Normal"), "raised": ("H", "High")}


def _lab(b: _Builder, lab: LabResult, key: str) -> None:
    rule = next(r for r in b.mapping.data.observations if r.lab is lab.lab and r.export)
    if lab.value is not None:
        _observation(b, rule, lab.value, key, lab.date)
        return
    assert lab.reading is not None  # the model requires the value or the reading
    code, display = READING_CODE[lab.reading.value]
    resource: dict[str, Any] = {
        "status": "final",
        "category": [concept(Coding(c.OBSERVATION_CATEGORY, "laboratory"))],
        "code": concept(*_exported_codes(rule, b.mapping), text=rule.title),
        "subject": b.subject,
        **_date(lab.date),
        "interpretation": [concept(Coding(INTERPRETATION, code, display))],
    }
    b.add("Observation", key, resource)


def _leaves(model: BaseModel, prefix: str) -> list[tuple[str, Any]]:
    found = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel | tuple) or (isinstance(value, str) and not isinstance(value, Enum)):
            continue  # sub-models and lists are written elsewhere; free text stays in the case file
        found.append((f"{prefix}{name}", value))
    return found


def case_resources(case: Case, mapping: Mapping | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(fullUrl, resource) pairs describing the case; deterministic for a given case."""
    b = _Builder(case, mapping or default_mapping())
    _patient(b)
    _surgery(b, case.index_surgery, "index-surgery", "surgery/index")
    for i, surgery in enumerate(case.earlier_surgeries):
        _surgery(b, surgery, "earlier-surgery", f"surgery/{i}")
    by_target_condition = {r.target: r for r in b.mapping.data.conditions if r.export}
    by_target_observation = {r.target: r for r in b.mapping.data.observations if r.export and not r.lab}
    items: list[tuple[str, Any]] = []
    if case.assessment_date:
        items.append(("assessment_date", case.assessment_date))
    if case.total_spine_operations is not None:
        items.append(("total_spine_operations", case.total_spine_operations))
    for section in SECTIONS:
        items += _leaves(getattr(case, section), f"{section}.")
    for path, value in items:
        if not _known(value) or path == "patient.sex":
            continue
        if path in by_target_condition and isinstance(value, Presence):
            _condition(b, by_target_condition[path], value)
            continue
        rule = by_target_observation.get(path)
        if rule is not None and (rule.value == "number" or any(v.export and v.means == value for v in rule.values)):
            _observation(b, rule, value, f"obs/{path}")
            continue
        _case_item(b, path, value)
    _screen(b)
    for i, item in enumerate(case.prior_treatments):
        _treatment(b, item, f"treatment/{i}")
    results: dict[tuple[Modality, dt.date | None], list[str]] = {}
    for i, diagnostic in enumerate(case.diagnostics):
        url = _diagnostic(b, diagnostic, f"diagnostic/{i}")
        results.setdefault((diagnostic.modality, diagnostic.date), []).append(url)
    for i, study in enumerate(case.studies):
        _study(b, study, f"study/{i}", results.get((study.modality, study.date), []))
    for i, lab in enumerate(case.labs):
        _lab(b, lab, f"lab/{i}")
    return b.entries


def case_bundle(case: Case, mapping: Mapping | None = None) -> dict[str, Any]:
    """The case alone as a FHIR collection Bundle."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": url, "resource": resource} for url, resource in case_resources(case, mapping)],
    }
