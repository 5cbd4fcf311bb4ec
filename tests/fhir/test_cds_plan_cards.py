"""Cards for the plan: the next steps and the SCS advice when no red flag fired; urgent tests on red-flag cards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fbss.case.parse import read_case
from fbss.fhir.case_export import case_bundle
from fbss.fhir.cds_cards import CardContext, brief, cards_for, next_steps_summary
from fbss.fhir.importer import ImportReport
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import Assessment, assess
from tests.conftest import EXAMPLES
from tests.fhir.conftest import SERVICE, bundle, card_of, cds_client, hook_request

CTX = CardContext(patient_id="p-1", hook_instance="h-1", app_base_url="https://fbss.example.org")


def served(name: str, kb: KnowledgeBase) -> tuple[Assessment, list[dict[str, Any]]]:
    """The cards the service returns for an example case sent as prefetch, assessed on the case's own date."""
    case = read_case(EXAMPLES / f"{name}.json")
    client = cds_client()
    client.app.state.cds.today = lambda: case.assessment_date  # type: ignore[attr-defined]
    response = client.post(SERVICE, json=hook_request(case_bundle(case)))
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    return assess(case, kb), cards


def test_without_a_red_flag_the_next_steps_follow_the_plan(kb: KnowledgeBase) -> None:
    assessment, cards = served("battered_root_neuropathic_pain_after_discectomy", kb)
    assert not assessment.triage.fired
    labels = [card["source"]["label"].split(" (")[0] for card in cards]
    assert labels == [
        "FBSS Navigator differential",
        "FBSS Navigator work-up and treatment plan",
        "FBSS Navigator SCS candidacy",
    ]
    card = card_of(cards, "work-up")
    assert card["indicator"] == "info" and len(card["summary"]) < 140
    first_test = next(s for s in assessment.plan.steps if s.kind == "test")
    assert card["summary"].startswith(f"Suggested next: {brief(first_test.title)}")
    assert "Rated appropriate: Physiotherapy and a home exercise programme" in card["summary"]
    for step in assessment.plan.steps:
        if step.kind in ("test", "treatment") and step.ref:
            assert step.title.split(" (")[0] in card["detail"], step.title
    assert "| Physiotherapy and a home exercise programme | appropriate 8/9" in card["detail"]
    assert "Then: " in card["detail"] and "](https://" in card["detail"]
    assert card["source"]["topic"] == {
        "system": "http://fbss-navigator.org/fhir/CodeSystem/workup-test",
        "code": first_test.ref,
        "display": first_test.title,
    }
    assert [link["type"] for link in card["links"]] == ["smart"]  # no record number: no link into the app
    assert card["overrideReasons"]


def test_the_scs_card_gives_the_advice_its_caveats_and_the_nice_check(kb: KnowledgeBase) -> None:
    _, cards = served("battered_root_neuropathic_pain_after_discectomy", kb)
    card = card_of(cards, "SCS")
    # nothing of the eight factors is known yet: the advice waits for the assessment
    assert card["summary"].startswith("SCS advice: provisional — assess first (psychosocial factors not assessed: 8")
    assert "If every factor not yet assessed were present: not recommended" in card["detail"]
    assert "| Chronic pain of neuropathic origin | met |" in card["detail"]
    assert card["source"]["url"].startswith("https://doi.org/")


def test_a_red_flag_keeps_its_cards_first_and_elective_cards_out(kb: KnowledgeBase) -> None:
    assessment, cards = served("cauda_equina_retention_day2_after_microdiscectomy", kb)
    fired = assessment.triage.fired
    assert [card["indicator"] for card in cards[: len(fired)]] == ["critical"] * len(fired)
    assert not any(
        card["source"]["label"].startswith(("FBSS Navigator work-up", "FBSS Navigator SCS")) for card in cards
    )
    first = cards[0]["detail"]
    urgent = [t for t in assessment.workup.urgent if fired[0].flag in t.for_flags]
    assert urgent and "**Urgent tests**" in first
    assert all(f"**{t.title}**" in first for t in urgent)
    assert "Elective work-up and treatment wait" in first


def test_an_open_red_flag_question_comes_before_the_next_steps(client: TestClient) -> None:
    response = client.post(SERVICE, json=hook_request(bundle("recurrent_herniation_after_microdiscectomy")))
    cards = response.json()["cards"]
    labels = [card["source"]["label"] for card in cards]
    assert cards[0]["summary"].startswith("Red-flag screen: ") and not any(c["indicator"] == "critical" for c in cards)
    assert "not a fired flag" in cards[0]["summary"] and cards[0]["indicator"] == "info"
    assert "- [ ] " in cards[0]["detail"]  # one checklist, not an alarm per flag
    steps = card_of(cards, "work-up")
    assert labels.index(steps["source"]["label"]) > 0
    assert steps["detail"].startswith("Answer the red-flag questions first")


def test_a_likely_cause_outside_the_spine_leads_the_next_steps(kb: KnowledgeBase) -> None:
    case = read_case(EXAMPLES / "hip_osteoarthritis_mimicking_radiculopathy_after_decompression.json")
    cards = cards_for(assess(case, kb), ImportReport(), kb, CTX)
    [card] = [c for c in cards if c.source.label.startswith("FBSS Navigator work-up")]
    assert card.summary.startswith("Treat or refer first: Hip joint disease")


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: Path(p).stem)
def test_every_example_follows_the_engine(path: Path, kb: KnowledgeBase) -> None:
    assessment = assess(read_case(path), kb)
    cards = cards_for(assessment, ImportReport(), kb, CTX)
    labels = [card.source.label for card in cards]
    fired = bool(assessment.triage.fired)
    elective = [label for label in labels if label.startswith(("FBSS Navigator work-up", "FBSS Navigator SCS"))]
    if fired:
        assert not elective  # elective work-up and treatment wait while a red flag is fired
        assert [card.indicator for card in cards[: len(assessment.triage.fired)]] == [
            "critical" if f.urgency.value == "emergency" else "warning" for f in assessment.triage.fired
        ]
    has_scs_step = any(s.kind == "scs" for s in assessment.plan.steps)
    assert any(label.startswith("FBSS Navigator SCS") for label in labels) == (has_scs_step and not fired)
    for card in cards:
        assert len(card.summary) < 140


def test_summaries_fit_whatever_the_names() -> None:
    long = ["A very long catalogue title that goes on and on about what it is for"] * 4
    for tests, options, refer in ((long, long, long), (long, [], []), ([], long, []), ([], [], [])):
        summary = next_steps_summary([brief(t) for t in tests], [brief(o) for o in options], refer)
        assert 0 < len(summary) < 140
    assert brief("Psychological assessment (PHQ-9, GAD-7)") == "Psychological assessment"
    assert brief("Goals and preferences: surgery, implanted device, injections; future MRI") == "Goals and preferences"
