"""Importing FHIR bundles: vignettes for several causes, and everything that cannot be mapped listed with a reason."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from fbss.case.model import Presence, SurgeryType
from fbss.case.vocabulary import DiagnosticFinding, Lab, Treatment
from fbss.fhir.importer import ImportResult, NotApplicableError, import_bundle, import_resources
from fbss.fhir.resources import _VALID, FhirError, clear_validation_cache, validate_resource
from tests.fhir.conftest import ASSESSED_ON, bundle


def imported(name: str) -> ImportResult:
    return import_bundle(bundle(name), assessment_date=ASSESSED_ON)


def test_cauda_equina_bundle_maps_standard_codes() -> None:
    result = imported("cauda_equina_after_microdiscectomy")
    case = result.case
    assert case.id == "ce-1"
    assert case.patient.age == 47
    assert case.index_surgery.type is SurgeryType.microdiscectomy
    assert case.index_surgery.levels == ("L4-L5",)
    assert case.index_surgery.indication == "L4-L5 disc herniation with L5 radiculopathy"
    assert case.red_flags.urinary_retention is Presence.present  # SNOMED 267064002 and ICD-10-CM R33.9
    assert case.red_flags.fever is Presence.absent  # a refuted Condition
    assert case.red_flags.saddle_anaesthesia is Presence.present
    assert (case.pain.nrs_back, case.pain.nrs_leg) == (6, 8)  # 72514-3 told apart by body site
    assert result.report.unmapped == ()
    statuses = {m.target: m.status for m in result.report.mapped}
    assert statuses["red_flags.urinary_retention"] == "corroborated"


def test_recurrent_herniation_bundle_reads_findings_studies_and_questionnaires() -> None:
    result = imported("recurrent_herniation_after_microdiscectomy")
    case = result.case
    assert case.index_surgery.side.value == "left"
    assert case.course.pain_free_interval_months == 8.0
    found = {(d.finding, d.presence) for d in case.diagnostics}
    assert (DiagnosticFinding.recurrent_disc_herniation, Presence.present) in found
    assert (DiagnosticFinding.epidural_fibrosis, Presence.absent) in found
    assert case.studies[0].reported_in_full and case.studies[0].contrast is Presence.present
    assert (case.psychosocial.phq9_total, case.psychosocial.phq9_item9) == (4, 0)  # scored from the response
    assert any("M96.1" in r for r in result.report.recognised)
    assert any("MG30.21," in r for r in result.report.recognised)
    [text] = result.report.unmapped
    assert text.element == "conclusion/presentedForm" and "not read" in text.reason


def test_pseudarthrosis_bundle_orders_operations_and_converts_units() -> None:
    result = imported("pseudarthrosis_after_fusion")
    case = result.case
    assert case.index_surgery.type is SurgeryType.fusion and case.index_surgery.levels == ("L4-S1",)
    assert case.index_surgery.instrumented is Presence.present
    assert [s.type for s in case.earlier_surgeries] == [SurgeryType.laminectomy]
    assert any("taken as the index surgery" in w for w in result.report.warnings)
    assert case.risk_factors.diabetes is Presence.present  # ICD-10-CM E11.9 by prefix
    assert case.risk_factors.smoking is Presence.present  # LOINC 72166-2 = SNOMED smoker
    assert case.labs[0].lab is Lab.crp and case.labs[0].value == pytest.approx(3.0)  # 0.3 mg/dL
    assert [t.treatment for t in case.prior_treatments] == [Treatment.opioid]  # ATC N02AA05


def test_epidural_abscess_bundle_reads_vitals_labs_and_current_medicines() -> None:
    case = imported("epidural_abscess_after_laminectomy").case
    assert case.exam.temperature_c == pytest.approx(38.72, abs=0.01)  # 101.7 °F
    assert {lab.lab: lab.value for lab in case.labs} == {Lab.crp: 210, Lab.wbc: 15.8}
    assert case.patient.anticoagulant is Presence.present  # apixaban, ATC B01AF02, active
    assert case.red_flags.fever is Presence.present


def test_everything_unmappable_is_listed_with_its_reason() -> None:
    report = imported("unmappable_items").report
    reasons = {(u.resource.split(" ")[0], u.element): u.reason for u in report.unmapped}
    assert "not read by FBSS Navigator" in reasons[("Encounter/visit", "resource")]
    assert "invalid FHIR R4" in reasons[("Observation/no-status", "resource")]
    assert "unverified" in reasons[("Procedure/fusion-unverified", "code")]
    assert "not in the mapping" in reasons[("Condition/asthma", "code")]
    assert "unverified" in reasons[("Condition/mg30211", "code")]
    assert "not within 90 days" in reasons[("Observation/nrs-no-site", "effective[x]")]  # undated: not "now"
    assert "not in the mapping" in reasons[("Observation/odi-score", "code")]
    assert "nmol/L" in reasons[("Observation/crp-bad-unit", "valueQuantity")]
    assert "RxNorm or ATC" in reasons[("MedicationStatement/rxnorm", "medication")]
    assert "modality not coded" in reasons[("DiagnosticReport/text-only", "code")]
    assert "no field" in reasons[("QuestionnaireResponse/odi", "score percent")]
    codings = {u.coding for u in report.unmapped}
    assert "http://snomed.info/sct|195967001" in codings
    assert "http://loinc.org|97909-6" in codings


def test_conflicting_values_are_resolved_and_reported() -> None:
    data = bundle("cauda_equina_after_microdiscectomy")
    extra = {
        "resourceType": "Observation",
        "id": "retention-absent",
        "status": "final",
        "code": {
            "coding": [
                {"system": "http://fbss-navigator.org/fhir/CodeSystem/case-item", "code": "red_flags.urinary_retention"}
            ]
        },
        "subject": {"reference": "Patient/ce-1"},
        "valueBoolean": False,
    }
    data["entry"].append({"resource": extra})
    result = import_bundle(data, assessment_date=ASSESSED_ON)
    assert result.case.red_flags.urinary_retention is Presence.present
    assert any("urinary_retention: conflicting values" in w and "present wins" in w for w in result.report.warnings)


def test_resources_of_another_patient_are_not_read() -> None:
    data = bundle("cauda_equina_after_microdiscectomy")
    for entry in data["entry"]:
        if entry["resource"]["id"] == "retention":
            entry["resource"]["subject"] = {"reference": "Patient/someone-else"}
    result = import_bundle(data, assessment_date=ASSESSED_ON)
    assert result.case.red_flags.urinary_retention is Presence.unknown
    assert any(u.element == "subject" for u in result.report.unmapped)


def test_a_bundle_without_a_spine_operation_is_not_applicable() -> None:
    data = bundle("recurrent_herniation_after_microdiscectomy")
    data["entry"] = [e for e in data["entry"] if e["resource"]["resourceType"] != "Procedure"]
    with pytest.raises(NotApplicableError, match="no spine operation") as caught:
        import_bundle(data, assessment_date=ASSESSED_ON)
    assert caught.value.recognised  # M96.1 was seen


def test_a_minor_is_not_applicable() -> None:
    data = bundle("cauda_equina_after_microdiscectomy")
    data["entry"][0]["resource"]["birthDate"] = "2015-01-01"
    with pytest.raises(NotApplicableError, match="for adults"):
        import_bundle(data, assessment_date=ASSESSED_ON)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "not valid JSON"),
        (json.dumps({"resourceType": "Patient"}), "expected resourceType 'Bundle'"),
        (json.dumps([1, 2]), "expected a JSON object"),
        (json.dumps({"resourceType": "Bundle", "type": "nonsense-type", "entry": []}), "Bundle"),
        (json.dumps({"resourceType": "Bundle", "type": "collection", "entry": {}}), "Bundle.entry must be a list"),
    ],
)
def test_input_that_is_not_a_bundle_is_refused_in_one_line(data: str | bytes, message: str) -> None:
    with pytest.raises(FhirError, match=message):
        import_bundle(data)


def test_a_resource_type_that_is_not_read_is_skipped_without_validating_it() -> None:
    # a real bulk export is mostly Claims, Encounters, …: they are listed as not read, never validated
    entries = [(e.get("fullUrl"), e["resource"]) for e in bundle("unmappable_items")["entry"]]
    broken_encounter = {"resourceType": "Encounter", "id": "odd", "status": 42, "subject": {"reference": "Patient/x"}}
    report = import_resources([*entries, (None, broken_encounter)], assessment_date=ASSESSED_ON).report
    reasons = {u.resource: u.reason for u in report.unmapped}
    assert "not read by FBSS Navigator" in reasons["Encounter/odd"]


def test_resources_seen_once_are_validated_without_being_remembered() -> None:
    clear_validation_cache()
    observation = {"resourceType": "Observation", "id": "once", "code": {"text": "x"}}  # no status: invalid
    with pytest.raises(FhirError, match="status"):
        validate_resource(observation, remember=False)
    valid = {**observation, "status": "final"}
    assert validate_resource(valid, remember=False) is valid
    assert not _VALID.seen(hashlib.blake2b(json.dumps(valid, separators=(",", ":")).encode(), digest_size=16).digest())


@pytest.mark.parametrize(
    ("system", "code", "expected"),
    [
        ("http://snomed.info/sct", "254637007", Presence.present),  # non-small cell lung cancer
        ("http://snomed.info/sct", "254837009", Presence.present),  # malignant neoplasm of breast
        ("http://snomed.info/sct", "93761005", Presence.present),  # primary malignant neoplasm of colon
        ("http://snomed.info/sct", "126906006", Presence.present),  # neoplasm of prostate, as Synthea codes the cancer
        ("http://hl7.org/fhir/sid/icd-10-cm", "C50.911", Presence.present),  # breast cancer, ICD-10-CM chapter 2
        ("http://hl7.org/fhir/sid/icd-10-cm", "Z85.3", Presence.present),  # personal history of breast cancer
        ("http://hl7.org/fhir/sid/icd-10-cm", "D36.9", Presence.unknown),  # a benign neoplasm is not a cancer history
    ],
)
def test_a_record_that_names_a_specific_cancer_sets_the_cancer_history(
    system: str, code: str, expected: Presence
) -> None:
    """A history of cancer alone is a red flag, so a resolved cancer coded by its site must set it too."""
    data = bundle("recurrent_herniation_after_microdiscectomy")
    data["entry"].append(
        {
            "resource": {
                "resourceType": "Condition",
                "id": "cancer",
                "clinicalStatus": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "resolved"}
                    ]
                },
                "verificationStatus": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}
                    ]
                },
                "code": {"coding": [{"system": system, "code": code}]},
                "subject": {"reference": "Patient/" + _patient_id(data)},
            }
        }
    )
    result = import_bundle(data, assessment_date=ASSESSED_ON)
    assert result.case.red_flags.cancer_history is expected
    if expected is Presence.unknown:
        assert any(u.coding and code in u.coding for u in result.report.unmapped)  # listed back, not dropped


def _patient_id(data: dict[str, Any]) -> str:
    return next(e["resource"]["id"] for e in data["entry"] if e["resource"]["resourceType"] == "Patient")
