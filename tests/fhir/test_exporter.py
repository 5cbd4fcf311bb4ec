"""Exporting an assessment: the differential, red flags, scores, questionnaires and report as FHIR R4 resources."""

from __future__ import annotations

import base64
from typing import Any

from fbss.case.parse import read_case
from fbss.fhir.exporter import export_assessment, questionnaires
from fbss.instruments import load_instruments
from fbss.instruments.models import LicenceStatus
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import assess
from tests.conftest import EXAMPLES


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_the_differential_is_a_risk_assessment_with_a_rationale_per_cause(kb: KnowledgeBase) -> None:
    case = read_case(EXAMPLES / "recurrent_herniation_after_discectomy.json")
    assessment = assess(case, kb)
    bundle = export_assessment(case, kb, assessment)
    [risk] = resources(bundle, "RiskAssessment")
    predictions = risk["prediction"]
    assert [p["outcome"]["coding"][0]["code"] for p in predictions] == [c.cause for c in assessment.differential.causes]
    assert predictions[0]["probabilityDecimal"] == round(assessment.differential.causes[0].probability, 4)
    assert "Raised by: Recurrent disc herniation on imaging" in predictions[0]["rationale"]
    assert "LR 15" in predictions[0]["rationale"]
    assert "compete for the main explanation" in risk["note"][0]["text"]
    assert any("How far to trust the numbers" in n["text"] for n in risk["note"])
    urls = {e["fullUrl"] for e in bundle["entry"]}
    assert all(b["reference"] in urls for b in risk["basis"])


def test_fired_red_flags_are_detected_issues_with_severity(kb: KnowledgeBase) -> None:
    case = read_case(EXAMPLES / "cauda_equina_retention_day2_after_microdiscectomy.json")
    assessment = assess(case, kb)
    bundle = export_assessment(case, kb, assessment)
    issues = {i["code"]["coding"][0]["code"]: i for i in resources(bundle, "DetectedIssue")}
    assert set(issues) == {flag.flag for flag in assessment.triage.fired}
    assert issues["cauda_equina"]["severity"] == "high"
    assert "EMERGENCY" in issues["cauda_equina"]["detail"]
    assert issues["cauda_equina"]["reference"].startswith("http")
    [impression] = resources(bundle, "ClinicalImpression")
    assert {f["itemReference"]["display"] for f in impression["finding"]} == {f.title for f in assessment.triage.fired}


def test_scores_are_observations_with_loinc_codes(kb: KnowledgeBase) -> None:
    case = read_case(EXAMPLES / "recurrent_herniation_after_discectomy.json")
    bundle = export_assessment(case, kb)
    codes = {(c["system"], c["code"]): o for o in resources(bundle, "Observation") for c in o["code"].get("coding", [])}
    phq9 = codes[("http://loinc.org", "44261-6")]
    assert phq9["valueInteger"] == case.psychosocial.phq9_total
    nrs = [o for (s, c), o in codes.items() if c == "72514-3"]
    assert nrs and all("bodySite" in o for o in nrs)


def test_questionnaires_carry_wording_only_when_public_domain() -> None:
    catalogue = load_instruments()
    by_url = {q["url"].rsplit("/", 1)[-1]: q for q in questionnaires(catalogue)}
    for instrument in catalogue:
        if instrument.id not in by_url:
            continue
        q = by_url[instrument.id]
        has_text = any("text" in item for item in q["item"])
        assert has_text == (instrument.licence.status is LicenceStatus.public_domain), instrument.id
    assert by_url["phq9"]["code"][0]["code"] == "44249-1"
    assert "Licensed instrument" in by_url["odi"]["description"]


def test_the_report_is_a_base64_markdown_document(kb: KnowledgeBase) -> None:
    case = read_case(EXAMPLES / "recurrent_herniation_after_discectomy.json")
    [document] = resources(export_assessment(case, kb), "DocumentReference")
    attachment = document["content"][0]["attachment"]
    assert attachment["contentType"].startswith("text/markdown")
    text = base64.b64decode(attachment["data"]).decode("utf-8")
    assert text.startswith(f"# Assessment of case {case.id}")


def test_provenance_names_engine_and_knowledge_versions(kb: KnowledgeBase) -> None:
    case = read_case(EXAMPLES / "recurrent_herniation_after_discectomy.json")
    provenances = resources(export_assessment(case, kb), "Provenance")
    assert len(provenances) == 2  # the engine's, and the one listing the plan's sources
    assert all(kb.version in p["agent"][0]["who"]["display"] for p in provenances)
