"""The conformance corpus (tests/fhir/corpus/): what must be read from records in the EHR's own dialect, one pattern
per file, as case drafts (these charts name no spine operation: the clinician adds it)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from fbss.fhir.importer import CaseDraft, NotApplicableError, import_draft

CORPUS = Path(__file__).resolve().parent / "corpus"
OPENED_ON = dt.date(2019, 6, 1)  # the day the chart is opened


def draft(name: str) -> CaseDraft:
    bundle = json.loads((CORPUS / f"{name}.json").read_text(encoding="utf-8"))
    resources = [(e.get("fullUrl"), e["resource"]) for e in bundle["entry"]]
    return import_draft(resources, assessment_date=OPENED_ON)


def unmapped(result: CaseDraft) -> list[str]:
    return [f"{u.resource} {u.element}: {u.reason}" for u in result.report.unmapped]


def test_an_active_warfarin_request_makes_the_anticoagulant_present() -> None:
    result = draft("synthea_active_warfarin_request")
    assert result.data["patient"]["anticoagulant"] == "present"
    assert result.sources["patient.anticoagulant"].startswith("MedicationRequest/")
    [item] = [m for m in result.report.mapped if m.target == "patient.anticoagulant"]
    assert "RxNorm 855332" in item.value and "ATC B01AA03" in item.value


def test_a_stopped_clopidogrel_is_history_and_current_aspirin_is_an_antiplatelet() -> None:
    result = draft("synthea_stopped_clopidogrel_request")
    assert result.data["patient"]["antiplatelet"] == "present"  # aspirin 81 mg, active
    assert result.sources["patient.antiplatelet"].endswith("2017-01-05")
    assert any("status stopped: history, not current use" in line for line in unmapped(result))


def test_opioid_requests_over_the_years_make_one_treatment_tried() -> None:
    result = draft("synthea_opioid_requests_over_years")
    tried = {t["treatment"]: t for t in result.data["prior_treatments"]}
    assert set(tried) == {"opioid", "nsaid"}
    assert tried["opioid"]["date"] == "2019-01-10"  # the tramadol given by name only is the latest
    assert tried["opioid"]["note"] == "4 prescription(s) in the record, 2009-02-01 to 2019-01-10"
    lines = unmapped(result)
    assert any("Opioid anaesthetic" in line for line in lines)  # remifentanil is not a pain treatment tried
    by_name = [m for m in result.report.mapped if m.status == "matched by name"]
    assert [m.value for m in by_name] == ["opioid"]


def test_a_pain_score_without_body_site_is_the_back_pain_now_with_a_warning() -> None:
    result = draft("synthea_pain_severity_without_body_site")
    assert result.data["pain"]["nrs_back"] == 7  # 6.6, rounded; the 2016 score is history
    assert any("not within 90 days" in line for line in unmapped(result))
    assert any(w.startswith("pain.nrs_back: ") and "check it is the back pain" in w for w in result.report.warnings)


def test_egfr_sent_in_ml_per_min_is_read_and_the_latest_wins() -> None:
    result = draft("synthea_egfr_in_ml_per_min")
    assert result.data["patient"]["egfr"] == pytest.approx(64.8)
    assert not [w for w in result.report.warnings if "egfr" in w]  # values over time are history, not a conflict


def test_a_current_every_day_smoker_after_a_never_smoker_is_a_smoker() -> None:
    assert draft("us_core_smoking_current_every_day_after_never").data["risk_factors"]["smoking"] == "present"


def test_a_former_smoker_after_a_current_smoker_is_not_smoking_now() -> None:
    assert draft("us_core_smoking_former_after_current").data["risk_factors"]["smoking"] == "absent"


def test_conditions_neuropathy_opioid_abuse_depression_and_a_screening_without_score() -> None:
    result = draft("synthea_conditions_neuropathy_opioid_abuse_depression")
    assert result.data["risk_factors"] == {"diabetes": "present", "peripheral_neuropathy": "present"}
    psychosocial = result.data["psychosocial"]
    assert psychosocial == {"substance_misuse": "present", "psychological_distress": "present"}
    assert any("not current (resolved): psychosocial.substance_misuse" in line for line in unmapped(result))
    [screening] = [r for r in result.report.recognised if r.startswith("Depression screening")]
    assert "2 recorded, latest 2019-03-01" in screening and "PHQ-9" in screening
    assert any(r.startswith("Chronic pain") for r in result.report.recognised)


def test_a_deceased_patient_is_warned_about() -> None:
    result = draft("synthea_deceased_patient")
    assert any("recorded as deceased (2019-04-01)" in w for w in result.report.warnings)


def test_a_minor_is_not_applicable() -> None:
    with pytest.raises(NotApplicableError, match="years old"):
        draft("synthea_minor")


def test_a_clinic_letter_goes_to_the_report_reader_and_a_pdf_is_listed() -> None:
    result = draft("us_core_clinic_letter_document_reference")
    [letter] = result.documents
    assert letter.title == "Consult note" and "recurrent disc herniation at L5-S1" in letter.text
    assert any("no plain-text attachment" in line for line in unmapped(result))  # the PDF operative note


def test_a_contrast_media_allergy_is_read_and_other_allergies_are_listed() -> None:
    result = draft("us_core_contrast_media_allergy")
    assert result.data["patient"]["contrast_allergy"] == "present"
    assert any("only a contrast allergy" in line for line in unmapped(result))


def test_a_contained_medication_is_followed() -> None:
    assert draft("us_core_medication_reference_contained").data["patient"]["anticoagulant"] == "present"


def test_every_corpus_file_is_tested() -> None:
    text = Path(__file__).read_text(encoding="utf-8")
    assert all(f'"{p.stem}"' in text for p in CORPUS.glob("*.json"))
