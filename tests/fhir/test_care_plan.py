"""The stepped plan as a FHIR CarePlan: the plan's steps in order, every work-up test and rated option, the sources."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan

from fbss.case.parse import read_case
from fbss.fhir import codes as c
from fbss.fhir.exporter import export_assessment
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import Assessment, assess
from fbss.reasoning.care_results import Label
from tests.conftest import EXAMPLES

STEP_SYSTEM = {"test": c.WORKUP_TEST, "treatment": c.TREATMENT_OPTION}


def exported(name: str, kb: KnowledgeBase) -> tuple[Assessment, dict[str, Any]]:
    case = read_case(EXAMPLES / f"{name}.json")
    assessment = assess(case, kb)
    return assessment, export_assessment(case, kb, assessment, include_questionnaires=False)


def of_kind(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def coding(activity: dict[str, Any]) -> tuple[str, str]:
    first = activity["detail"]["code"]["coding"][0]
    return first["system"], first["code"]


def test_the_activities_follow_the_plan_steps_then_every_test_and_option(kb: KnowledgeBase) -> None:
    assessment, bundle = exported("battered_root_neuropathic_pain_after_discectomy", kb)
    [plan] = of_kind(bundle, "CarePlan")
    assert (plan["status"], plan["intent"]) == ("draft", "proposal")
    [patient] = of_kind(bundle, "Patient")
    assert plan["subject"]["reference"] == f"urn:uuid:{patient['id']}"
    steps = assessment.plan.steps
    activities = plan["activity"]
    for step, activity in zip(steps, activities, strict=False):
        system = STEP_SYSTEM.get(step.kind, c.PLAN_STEP) if step.ref else c.PLAN_STEP
        assert coding(activity) == (system, step.ref if system != c.PLAN_STEP else step.kind), step.title
        assert activity["detail"]["description"].startswith(f"Step {step.order}. {step.title}")
        assert activity["detail"]["status"] == "not-started"
        assert activity["detail"]["reasonCode"][0]["text"]
    assert [s.kind for s in steps].count("scs") == 1  # this case is an SCS candidate: the referral is a step
    # every suggested test once, the plan's own first and in the plan's order
    tests = [code for system, code in map(coding, activities) if system == c.WORKUP_TEST]
    work = assessment.workup  # the plan asks its first questions before the investigations
    expected = [t.test for t in (*work.urgent, *work.questions[:2], *work.ranked, *work.questions[2:])]
    assert sorted(tests) == sorted(expected) and len(tests) == len(set(tests))
    planned = [s.ref for s in steps if s.kind == "test"][:5]
    assert tests[: len(planned)] == planned == expected[: len(planned)]
    # every rated option once, with its label; inappropriate ones are not to be performed
    options = {code: a for a in activities for system, code in [coding(a)] if system == c.TREATMENT_OPTION}
    assert set(options) == {r.id for r in assessment.options.options}
    for rating in assessment.options.options:
        detail = options[rating.id]["detail"]
        assert detail["reasonCode"][0]["coding"][0]["code"] == rating.label.value
        assert detail["doNotPerform"] is (rating.label is Label.inappropriate)
        assert f"{rating.score}/9" in detail["reasonCode"][0]["text"]
    assert options["neuropathic_medication"]["detail"]["kind"] == "MedicationRequest"
    CarePlan.model_validate(plan)


def test_the_plan_points_at_the_assessment_it_follows(kb: KnowledgeBase) -> None:
    _, bundle = exported("recurrent_herniation_after_discectomy", kb)
    [plan] = of_kind(bundle, "CarePlan")
    by_url = {e["fullUrl"]: e["resource"]["resourceType"] for e in bundle["entry"]}
    supporting = [by_url[s["reference"]] for s in plan["supportingInfo"]]
    assert supporting[:2] == ["ClinicalImpression", "RiskAssessment"]
    notes = " ".join(n["text"] for n in plan["note"])
    assert "a proposal and not an order" in notes
    assert "Re-operation: uncertain" in notes and "Spinal cord stimulation: advice stopped" in notes
    revision = next(a for a in plan["activity"] if coding(a) == (c.TREATMENT_OPTION, "revision_discectomy"))
    assert "Rated uncertain" in revision["detail"]["description"]  # could be considered: not yet a step
    assert "Sources: " in revision["detail"]["description"]


def test_a_red_flag_puts_its_actions_and_urgent_tests_first(kb: KnowledgeBase) -> None:
    assessment, bundle = exported("cauda_equina_retention_day2_after_microdiscectomy", kb)
    [plan] = of_kind(bundle, "CarePlan")
    activities = plan["activity"]
    fired = [f.flag for f in assessment.triage.fired]
    urgent = [t.test for t in assessment.workup.urgent]
    assert fired and urgent and not assessment.workup.ranked
    # each flag's action, then at once the treatment it calls for; then the urgent tests
    head_steps = [s for s in assessment.plan.steps if s.kind in ("red_flag", "definitive")]
    expected = [
        (c.PLAN_STEP, "red_flag") if s.kind == "red_flag" else (c.TREATMENT_OPTION, str(s.ref)) for s in head_steps
    ]
    expected += [(c.WORKUP_TEST, t) for t in urgent]
    head = [coding(a) for a in activities[: len(expected)]]
    assert head == expected
    flag_activities = [a for a in activities[: len(head_steps)] if coding(a) == (c.PLAN_STEP, "red_flag")]
    assert [a["detail"]["reasonCode"][0]["coding"][0]["code"] for a in flag_activities] == fired
    assert activities[0]["detail"]["scheduledString"] == "emergency"
    assert all(
        a["detail"]["scheduledString"].endswith("called for by a red flag")
        for a in activities[len(head_steps) : len(expected)]
    )
    assert "Red flags fired" in plan["description"]
    # elective care waits: no elective option is left to perform (pain relief and psychological care aside: a red
    # flag never caps them), the plan ends its steps with a review
    spared = set(kb.care.appropriateness.red_flag_override.never_capped)
    elective = {
        t.id
        for t in kb.care.treatments
        if t.elective
        and not spared & set(t.tags)
        and not any(t.id in f.definitive for f in kb.red_flags if f.id in fired)
    }
    for activity in activities:
        system, code = coding(activity)
        if system == c.TREATMENT_OPTION and code in elective:
            assert activity["detail"]["doNotPerform"] is True, code
    assert coding(activities[len(assessment.plan.steps) - 1]) == (c.PLAN_STEP, "review")


def test_the_plan_sources_are_listed_in_a_provenance(kb: KnowledgeBase) -> None:
    assessment, bundle = exported("battered_root_neuropathic_pain_after_discectomy", kb)
    [plan_url] = [e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan"]
    [sources] = [p for p in of_kind(bundle, "Provenance") if p["target"] == [{"reference": plan_url}]]
    named = {e["what"]["display"] for e in sources["entity"]}
    cited = {kb.sources[s].citation for step in assessment.plan.steps for s in step.sources}
    assert cited and cited <= named
    assert all(e["role"] == "source" for e in sources["entity"])
    links = [e["what"]["identifier"] for e in sources["entity"] if "identifier" in e["what"]]
    assert links and all(i["system"] == "urn:ietf:rfc:3986" and i["value"].startswith("http") for i in links)


def test_the_bundle_with_its_care_plan_is_valid_fhir_r4b(kb: KnowledgeBase) -> None:
    for name in (
        "cauda_equina_retention_day2_after_microdiscectomy",
        "battered_root_neuropathic_pain_after_discectomy",
    ):
        _, bundle = exported(name, kb)
        Bundle.model_validate(bundle)
