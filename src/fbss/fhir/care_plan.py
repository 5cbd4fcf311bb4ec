"""The stepped care plan as a FHIR CarePlan: one activity per plan step, in the plan's order, then the work-up
tests and the rated treatment options the plan does not name; each with its reason, its rating and its citations.

No extensions: what each activity is about is its `detail.code` (a work-up test, a treatment option or the kind of
plan step), why is its `detail.reasonCode` (a red flag, a cause or an appropriateness label, with the engine's
reason as text), and an option rated inappropriate has `detail.doNotPerform`. Renders only; recomputes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from fbss.fhir import codes as c
from fbss.fhir.citations import citations
from fbss.fhir.codes import Coding, concept
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.care_models import TreatmentDef
from fbss.knowledge.models import URGENCY_RANK, Urgency
from fbss.reasoning.assess import Assessment
from fbss.reasoning.care_results import Label, PlanStep, Rating, SetAside, TestSuggestion
from fbss.reasoning.results import RedFlagResult
from fbss.reports.care_wording import ADVICE_LABEL, STATE_MARK, missing, rating_text, reasons
from fbss.reports.wording import EVIDENCE_LABEL, URGENCY_LABEL, fired_by_text

STEP_TITLE = {
    "red_flag": "Act on a red flag",
    "definitive": "The definitive treatment a red flag calls for",
    "done": "Already done: the result is in the record",
    "screen": "Red-flag screen: questions still open",
    "test": "Work-up test",
    "treatment": "Treatment",
    "scs": "Referral for spinal cord stimulation",
    "refer": "Treat or refer a cause outside the spine",
    "review": "Review",
}
REQUEST_KIND = {"screen": "Task", "review": "Task"}  # everything else is ServiceRequest-like, medicines aside
SCHEDULE_ASK_NOW = "now, at this visit"
SCHEDULE_REVIEW = "once the red flag is resolved"


@dataclass(frozen=True)
class Activity:
    """One CarePlan activity and the source ids it cites."""

    resource: dict[str, Any]
    sources: tuple[str, ...]


@cache
def _treatments(kb: KnowledgeBase) -> dict[str, TreatmentDef]:
    return {t.id: t for t in kb.care.treatments}


@cache
def _option_sources(kb: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    return {t.id: tuple(dict.fromkeys(s for e in t.evidence for s in e.sources)) for t in kb.care.treatments}


def _rating_sources(rating: Rating, kb: KnowledgeBase) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*(s for b in rating.because for s in b.sources), *_option_sources(kb)[rating.id])))


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".?!" else text + "."


def _text(*parts: str | None) -> str:
    return " ".join(_sentence(p) for p in parts if p)


def _detail(
    *,
    kind: str | None,
    code: dict[str, Any],
    reason: dict[str, Any],
    description: str,
    scheduled: str | None = None,
    do_not_perform: bool = False,
) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    if kind:
        detail["kind"] = kind
    detail["code"] = code
    detail["reasonCode"] = [reason]
    detail["status"] = "not-started"
    detail["doNotPerform"] = do_not_perform
    if scheduled:
        detail["scheduledString"] = scheduled
    detail["description"] = description
    return {"detail": detail}


class _Writer:
    def __init__(self, assessment: Assessment, kb: KnowledgeBase) -> None:
        self.assessment = assessment
        self.kb = kb
        triage = assessment.triage
        self.flags: dict[str, RedFlagResult] = {f.flag: f for f in (*triage.fired, *triage.ask_now)}
        work = assessment.workup
        self.tests: dict[str, TestSuggestion] = {t.test: t for t in (*work.urgent, *work.ranked, *work.questions)}
        self.deferred: dict[str, SetAside] = {a.test: a for a in work.deferred}
        self.ratings: dict[str, Rating] = {r.id: r for r in assessment.options.options}
        self.causes = {x.cause: x for x in assessment.differential.causes}

    def _kind(self, option_id: str) -> str:
        return "MedicationRequest" if "medication" in _treatments(self.kb)[option_id].tags else "ServiceRequest"

    def _cited(self, description: str, sources: tuple[str, ...]) -> str:
        return _text(description, f"Sources: {citations(sources, self.kb)}") if sources else description

    # --- plan steps ---------------------------------------------------------------------------------------

    def step(self, step: PlanStep) -> Activity:
        lead = f"Step {step.order}. {step.title}"
        ref = step.ref
        if step.kind == "red_flag" and ref in self.flags:
            return self._red_flag(step, self.flags[ref], lead)
        if step.kind == "screen":
            return self._screen(step, lead)
        if step.kind == "test" and ref in self.tests:
            return self._test(self.tests[ref], lead)
        if step.kind == "test" and ref in self.deferred:
            return self._deferred(self.deferred[ref], lead)
        if step.kind in ("treatment", "definitive") and ref in self.ratings:
            return self._option(
                self.ratings[ref],
                _text(lead, step.detail, step.decision_point and f"Then: {step.decision_point}"),
                step.sources,
            )
        return self._generic(step, lead)

    def _red_flag(self, step: PlanStep, flag: RedFlagResult, lead: str) -> Activity:
        fired = fired_by_text(flag, ", ")
        reason = concept(
            Coding(c.RED_FLAG, flag.flag, flag.title),
            text=f"{flag.title}: fired by {fired} ({EVIDENCE_LABEL[flag.evidence]})",
        )
        description = self._cited(_text(lead, flag.action), flag.sources)
        code = concept(Coding(c.PLAN_STEP, step.kind, STEP_TITLE[step.kind]), text=step.title)
        scheduled = URGENCY_LABEL[flag.urgency].lower()
        return Activity(
            _detail(kind="ServiceRequest", code=code, reason=reason, description=description, scheduled=scheduled),
            flag.sources,
        )

    def _screen(self, step: PlanStep, lead: str) -> Activity:
        screen = self.assessment.triage.screen
        at_stake = {f.flag: f for q in screen.open for f in q.flags}
        reason = concept(
            *(Coding(c.RED_FLAG, f.flag, f.title) for f in at_stake.values()),
            text="Red flags that cannot be ruled out: the items that decide them are unknown",
        )
        description = self._cited(_text(lead, f"Ask: {step.detail}", step.decision_point), step.sources)
        code = concept(Coding(c.PLAN_STEP, step.kind, STEP_TITLE[step.kind]), text=step.title)
        return Activity(
            _detail(kind="Task", code=code, reason=reason, description=description, scheduled=SCHEDULE_ASK_NOW),
            step.sources,
        )

    def _test(self, test: TestSuggestion, lead: str) -> Activity:
        sources = tuple(
            dict.fromkeys(
                (*(test.accuracy.sources if test.accuracy else ()), *(s for x in test.cautions for s in x.sources))
            )
        )
        accuracy = (
            f"Accuracy: {test.accuracy.text} ({EVIDENCE_LABEL[test.accuracy.evidence]})" if test.accuracy else None
        )
        description = self._cited(
            _text(
                lead,
                test.why,
                None
                if test.urgent
                else f"Rank {test.rank} by value of information per unit of burden (burden {test.burden:g})",
                accuracy,
                *(x.text for x in test.cautions),
                test.decision_point and f"Then: {test.decision_point}",
            ),
            sources,
        )
        flags = [self.flags[f] for f in test.for_flags if f in self.flags]
        reason = concept(*(Coding(c.RED_FLAG, f.flag, f.title) for f in flags), text=test.why)
        scheduled = None
        if test.urgent:
            urgency = min((f.urgency for f in flags), key=URGENCY_RANK.__getitem__, default=Urgency.emergency)
            scheduled = f"{URGENCY_LABEL[urgency].lower()}: called for by a red flag"
        code = concept(Coding(c.WORKUP_TEST, test.test, test.title), text=test.title)
        return Activity(
            _detail(kind="ServiceRequest", code=code, reason=reason, description=description, scheduled=scheduled),
            sources,
        )

    def _deferred(self, aside: SetAside, lead: str) -> Activity:
        when = f"from {aside.earliest_months:g} months after surgery" if aside.earliest_months else "later"
        code = concept(Coding(c.WORKUP_TEST, aside.test, aside.title), text=aside.title)
        return Activity(
            _detail(
                kind="ServiceRequest",
                code=code,
                reason=concept(text=aside.reason),
                description=self._cited(_text(lead, aside.reason), aside.sources),
                scheduled=when,
            ),
            aside.sources,
        )

    def _option(self, rating: Rating, description: str, sources: tuple[str, ...] = ()) -> Activity:
        sources = tuple(dict.fromkeys((*sources, *_rating_sources(rating, self.kb))))
        why = missing(rating)
        description = self._cited(_text(description, why and f"Missing to decide: {why}"), sources)
        reason = concept(
            Coding(c.APPROPRIATENESS, rating.label.value, rating.label.value),
            text=f"{rating_text(rating)}: {reasons(rating)}",
        )
        code = concept(Coding(c.TREATMENT_OPTION, rating.id, rating.title), text=rating.title)
        return Activity(
            _detail(
                kind=self._kind(rating.id),
                code=code,
                reason=reason,
                description=description,
                do_not_perform=rating.label is Label.inappropriate,
            ),
            sources,
        )

    def _generic(self, step: PlanStep, lead: str) -> Activity:
        if step.kind == "refer" and step.ref in self.causes:
            cause = self.causes[step.ref]
            reason = concept(Coding(c.CAUSE, cause.cause, cause.title), text=step.detail)
        elif step.kind == "scs":
            scs = self.assessment.scs
            basis = scs.advice_basis
            reason = concept(text=f"{basis.text} ({EVIDENCE_LABEL[basis.evidence]})")
        else:
            reason = concept(text=step.detail)
        code = concept(Coding(c.PLAN_STEP, step.kind, STEP_TITLE.get(step.kind, step.kind)), text=step.title)
        description = self._cited(
            _text(lead, step.detail, step.decision_point and f"Then: {step.decision_point}"), step.sources
        )
        scheduled = SCHEDULE_REVIEW if step.kind == "review" else None
        return Activity(
            _detail(
                kind=REQUEST_KIND.get(step.kind, "ServiceRequest"),
                code=code,
                reason=reason,
                description=description,
                scheduled=scheduled,
            ),
            step.sources,
        )

    # --- what the plan does not name ----------------------------------------------------------------------

    def further_tests(self, named: set[str]) -> list[Activity]:
        return [
            self._test(t, f"Further work-up, not in the first steps. {t.title}")
            for t in (*self.assessment.workup.ranked, *self.assessment.workup.questions)
            if t.test not in named
        ]

    def other_options(self, named: set[str]) -> list[Activity]:
        found = []
        for rating in self.assessment.options.options:
            if rating.id in named:
                continue
            verdict = {
                Label.appropriate: "Rated appropriate; not a separate step of the plan",
                Label.uncertain: "Rated uncertain: to discuss if the plan's steps do not help",
                Label.inappropriate: "Rated inappropriate: not to be offered now",
            }[rating.label]
            found.append(self._option(rating, _text(f"Option: {rating.title}", verdict)))
        return found


def _notes(assessment: Assessment, kb: KnowledgeBase) -> list[dict[str, str]]:
    scs = assessment.scs
    categories = "; ".join(f"{r.title}: {rating_text(r)}" for r in assessment.options.categories)
    if scs.advice is None:
        advice = "stopped: " + "; ".join(b.because for b in scs.stopped_by)
    else:
        advice = ADVICE_LABEL[scs.advice]
    nice = "; ".join(f"{n.title}: {STATE_MARK[n.state]}" for n in scs.nice)
    plan = assessment.plan
    notes = [
        "Decision support for clinicians, a proposal and not an order: check each reason and source. Activities "
        "follow the stepped plan in order (red-flag actions and urgent tests first, elective work-up and treatment "
        "only when no red flag fired); then further ranked work-up; then every other rated treatment option, with "
        "doNotPerform for those rated inappropriate.",
        f"Appropriateness of the four panel categories (RAND/UCLA 1-9): {categories}.",
        _text(
            f"Spinal cord stimulation: advice {advice}",
            f"Clinical {rating_text(scs.clinical)}",
            f"Psychosocial factors present: {scs.factors_present} of {len(scs.factors)}, "
            f"not assessed: {scs.factors_unknown}",
            f"NICE TA159: {nice}",
            f"Basis: {scs.advice_basis.text} ({EVIDENCE_LABEL[scs.advice_basis.evidence]}; "
            f"{citations(scs.advice_basis.sources, kb)})",
        ),
    ]
    if plan.follow_up:
        notes.append("Follow-up: " + "; ".join(f"{f.at}: {f.what}" for f in plan.follow_up) + ".")
    if plan.outcomes:
        notes.append(
            "Outcomes to collect: " + "; ".join(f"{o.title} ({o.instrument}; {o.change})" for o in plan.outcomes) + "."
        )
    return [{"text": n} for n in notes]


def care_plan(
    assessment: Assessment,
    kb: KnowledgeBase,
    subject: dict[str, str],
    when: str,
    supporting: list[str],
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The CarePlan resource (without resourceType and id) and every source id its activities cite, in order."""
    writer = _Writer(assessment, kb)
    steps = assessment.plan.steps
    activities = [writer.step(s) for s in steps]
    named_tests = {s.ref for s in steps if s.kind == "test" and s.ref}
    named_options = {s.ref for s in steps if s.kind in ("treatment", "definitive") and s.ref}
    activities += writer.further_tests(named_tests)
    activities += writer.other_options(named_options)
    fired = assessment.triage.fired
    description = (
        f"Red flag{'s' if len(fired) > 1 else ''} fired ({', '.join(f.title for f in fired)}): act on "
        f"{'them' if len(fired) > 1 else 'it'} first; elective work-up and treatment wait until resolved."
        if fired
        else "Stepped care for persistent pain after spine surgery: work-up by value of information per unit of "
        "burden, then the options rated appropriate, conservative before minimally invasive, neurostimulation "
        "and re-operation."
    )
    resource: dict[str, Any] = {
        "status": "draft",
        "intent": "proposal",
        "title": f"Stepped care plan for case {assessment.case_id} (FBSS Navigator proposal)",
        "description": description,
        "subject": subject,
        "created": when,
        "supportingInfo": [{"reference": url} for url in supporting],
        "activity": [a.resource for a in activities],
        "note": _notes(assessment, kb),
    }
    cited = tuple(dict.fromkeys(s for a in activities for s in a.sources))
    return resource, cited
