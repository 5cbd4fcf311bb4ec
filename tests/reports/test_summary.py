"""The decision summary: act now, the likely causes with their two strongest reasons, the next test, the options to
discuss; and the same summary on the assessment page and in the CDS Hooks differential card."""

from __future__ import annotations

from fbss.case.parse import read_case
from fbss.fhir.cds_cards import CardContext, cards_for, summary_markdown
from fbss.fhir.importer import ImportReport
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import Assessment, assess
from fbss.reasoning.care_results import Label
from fbss.reports.summary import REASONS_PER_CAUSE, SHOWN_CAUSES, decision_summary
from tests.conftest import EXAMPLES


def assessment_of(name: str, kb: KnowledgeBase) -> Assessment:
    return assess(read_case(EXAMPLES / f"{name}.json"), kb)


def test_without_a_red_flag_the_summary_leads_to_the_next_test_and_the_options(kb: KnowledgeBase) -> None:
    a = assessment_of("recurrent_herniation_after_discectomy", kb)
    summary = decision_summary(a)
    assert summary.act_now == () and summary.level is None
    assert [c.cause for c in summary.causes] == [c.cause for c in a.differential.causes[:SHOWN_CAUSES]]
    leader = a.differential.causes[0]
    strongest = sorted(leader.raised_by, key=lambda r: r.weight, reverse=True)[:REASONS_PER_CAUSE]
    assert len(summary.causes[0].reasons) == REASONS_PER_CAUSE
    for reason, text in zip(strongest, summary.causes[0].reasons, strict=True):
        assert text.startswith(reason.title) and f"(LR {reason.likelihood_ratio:g})" in text
    assert [t.test for t in summary.next_tests] == [a.workup.ranked[0].test] and not summary.next_tests[0].urgent
    assert summary.then_tests == tuple(t.title for t in a.workup.ranked[1:3])
    assert summary.options and all(o.label is Label.appropriate for o in summary.options)
    # no deficit and nothing tried yet: revision is "could be considered"; the options follow the plan's order
    planned = [s.ref for s in a.plan.steps if s.kind == "treatment" and s.ref]
    assert [o.option for o in summary.options] == planned[: len(summary.options)]
    assert summary.options_from == "appropriate"
    assert "revision_discectomy" not in {o.option for o in summary.options}


def test_a_red_flag_puts_its_action_and_urgent_tests_first_and_elective_options_wait(kb: KnowledgeBase) -> None:
    a = assessment_of("cauda_equina_retention_day2_after_microdiscectomy", kb)
    summary = decision_summary(a)
    assert [f.flag for f in summary.act_now] == [f.flag for f in a.triage.fired]
    assert summary.act_now[0].action == a.triage.fired[0].action
    assert summary.next_tests and all(t.urgent for t in summary.next_tests)
    assert {t.test for t in summary.next_tests} == {t.test for t in a.workup.urgent}
    assert summary.options_from == "urgent" and all(o.label is Label.appropriate for o in summary.options)
    assert summary.scs_advice is None
    # the red-flag screen as its own card has it: each question once, its follow-ups folded under it
    assert summary.screen == tuple(q.text for q in a.triage.screen.open)
    assert len(set(summary.screen)) == len(summary.screen)


def test_when_the_plan_refers_for_scs_the_summary_says_so(kb: KnowledgeBase) -> None:
    summary = decision_summary(assessment_of("battered_root_neuropathic_pain_after_discectomy", kb))
    assert summary.scs_advice is not None and summary.scs_step and "trial" in summary.scs_step


def test_the_cds_differential_card_opens_with_the_summary(kb: KnowledgeBase) -> None:
    a = assessment_of("recurrent_herniation_after_discectomy", kb)
    ctx = CardContext(patient_id="p-1", hook_instance="h-1", app_base_url="https://fbss.example.org")
    [card] = [c for c in cards_for(a, ImportReport(), kb, ctx) if c.source.label.startswith("FBSS Navigator differ")]
    head = card.detail.split("**Differential**")[0]
    assert head.startswith("**Decision summary**")
    ceiling = a.differential.ceiling  # no point value above what the calibration supports
    assert f"**Most likely causes:** Recurrent disc herniation >{ceiling * 100:.0f} %" in head
    assert f"**Next test:** {a.workup.ranked[0].title}" in head
    assert "**Options to discuss:** Stop smoking (support and nicotine replacement) (appropriate 9/9)" in head


def _cards(name: str, kb: KnowledgeBase) -> list[str]:
    ctx = CardContext(patient_id="p-1", hook_instance="h-1", app_base_url="https://fbss.example.org")
    return [c.detail for c in cards_for(assessment_of(name, kb), ImportReport(), kb, ctx)]


def _summary_head(details: list[str]) -> str:
    [head] = [d.split("**Differential**")[0] for d in details if d.startswith("**Decision summary**")]
    return head


def test_the_summary_card_and_the_screen_card_count_the_same_questions(kb: KnowledgeBase) -> None:
    """Retention after a microdiscectomy is an emergency: the summary names the screen in one line, with the count
    the screen card lists, and leaves the questions to that card."""
    a = assessment_of("cauda_equina_retention_day2_after_microdiscectomy", kb)
    details = _cards("cauda_equina_retention_day2_after_microdiscectomy", kb)
    [screen] = [d for d in details if d.startswith("Red-flag questions whose answers are not recorded")]
    listed = [line for line in screen.splitlines() if line.startswith("- [ ] ")]
    head = _summary_head(details)
    assert len(listed) == len(a.triage.screen.open)
    assert f"**Red-flag screen: {len(listed)} questions open:** to ask once the emergency action is under way" in head
    assert head.index("**Act now:** EMERGENCY") < head.index("**Red-flag screen")
    for q in a.triage.screen.open:
        assert (q.question or q.title) not in head


def test_without_an_emergency_the_summary_card_lists_the_screen_as_the_screen_card_does(kb: KnowledgeBase) -> None:
    a = assessment_of("misplaced_pedicle_screw_day3_after_tlif", kb)
    head = _summary_head(_cards("misplaced_pedicle_screw_day3_after_tlif", kb))
    assert "**Act the same day:** SAME DAY" in head and "Act now" not in head
    opened = a.triage.screen.open
    assert f"**Red-flag screen: {len(opened)} questions open:**" in head
    followed = [q for q in opened if q.then_ask]
    for q in followed:  # a follow-up is asked under its question, not as a question of its own
        assert f"{q.question or q.title} If yes:" in head


def test_a_flag_to_act_on_within_days_is_not_headed_act_now(kb: KnowledgeBase) -> None:
    head = _summary_head(_cards("rod_fracture_after_l3_s1_fusion", kb))
    assert "**Act within days:** WITHIN DAYS — " in head and "Act now" not in head


def test_the_red_flag_card_says_what_fired_it_as_a_clinician_writes_it(kb: KnowledgeBase) -> None:
    details = _cards("neck_haematoma_evening_after_acdf", kb)
    [card] = [d for d in details if "Neck swelling or airway compromise" in d.split("\n")[0]]
    assert "- Within the first month after surgery (day 0)" in card
    assert "(0)" not in card and "0.0" not in card


def test_outside_the_lumbar_spine_the_summary_says_the_causes_are_not_ranked(kb: KnowledgeBase) -> None:
    """A cervical operation: never a bare "Most likely causes:" heading, in the card, the report or in Spanish."""
    from fbss.reports.documents import clinician_report_html
    from fbss.reports.readability import visible_text

    a = assessment_of("worsening_myelopathy_after_cervical_laminectomy", kb)
    summary = decision_summary(a)
    assert summary.causes == () and summary.not_ranked_for == "cervical"
    wanted = "Not ranked for cervical operations — assess clinically; the red flags and work-up still apply"
    assert f"- **Most likely causes:** {wanted}" in summary_markdown(summary)
    assert wanted in visible_text(clinician_report_html(a, kb))
    assert "No se clasifican para operaciones cervicales" in visible_text(clinician_report_html(a, kb, lang="es"))
    lumbar = decision_summary(assessment_of("recurrent_herniation_after_discectomy", kb))
    assert lumbar.causes and lumbar.not_ranked_for is None
