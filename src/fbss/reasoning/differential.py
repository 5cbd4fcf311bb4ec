"""Ranked differential: prior odds by index surgery x likelihood ratios of the known findings, cause by cause.

Causes are scored independently (several often coexist), so probabilities do not sum to one. Unknown findings
change nothing in the point estimate; they widen the [low, high] range and become the questions to ask.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from fbss.case.model import Presence
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.models import CauseDef, Link, expression_ids
from fbss.reasoning.findings import FindingStates, evaluate_expression
from fbss.reasoning.results import CauseResult, Differential, ExcludedCause, OpenQuestion, Question, Reason

P, A, U = Presence.present, Presence.absent, Presence.unknown
QUESTIONS_PER_CAUSE = 3
ASK_NEXT = 6


@dataclass(frozen=True, slots=True)
class _CompiledLink:
    link: Link
    ln_present: float
    ln_absent: float


@cache
def _compiled(kb: KnowledgeBase) -> tuple[tuple[CauseDef, tuple[_CompiledLink, ...]], ...]:
    return tuple(
        (
            cause,
            tuple(_CompiledLink(link, math.log(link.lr_present), math.log(link.lr_absent)) for link in cause.links),
        )
        for cause in kb.causes
    )


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def differential(findings: FindingStates, kb: KnowledgeBase) -> Differential:
    """Score every applicable cause and rank them."""
    states = findings.state
    observed = findings.observed
    group = findings.derived.surgery_group
    scored: list[tuple[float, CauseResult]] = []
    excluded: list[ExcludedCause] = []
    leverage: dict[str, float] = {}
    for cause, links in _compiled(kb):
        if cause.applies_if is not None and evaluate_expression(cause.applies_if, states) is A:
            reasons = tuple(f for f in expression_ids(cause.applies_if) if states[f] is A)
            excluded.append(ExcludedCause(cause.id, cause.title, reasons))
            continue
        prior = cause.prior_for(group)
        base = math.log(prior.probability / (1.0 - prior.probability))
        total = base
        low = high = 0.0
        raised: list[Reason] = []
        lowered: list[Reason] = []
        unknown: list[_CompiledLink] = []
        for c in links:
            state = states[c.link.finding]
            if state is U:
                unknown.append(c)
                low += min(c.ln_present, c.ln_absent)
                high += max(c.ln_present, c.ln_absent)
                continue
            weight = c.ln_present if state is P else c.ln_absent
            if weight == 0.0:
                continue
            total += weight
            reason = Reason(
                finding=c.link.finding,
                title=kb.findings[c.link.finding].title,
                state=state,
                observed=observed.get(c.link.finding),
                likelihood_ratio=c.link.lr_present if state is P else c.link.lr_absent,
                weight=weight,
                evidence=c.link.evidence,
                sources=c.link.sources,
                note=c.link.note,
            )
            (raised if weight > 0 else lowered).append(reason)
        probability = _sigmoid(total)
        unknown.sort(key=lambda c: abs(c.ln_present - c.ln_absent), reverse=True)
        questions = tuple(
            OpenQuestion(
                finding=c.link.finding,
                title=kb.findings[c.link.finding].title,
                question=kb.findings[c.link.finding].question,
                if_present=_sigmoid(total + c.ln_present),
                if_absent=_sigmoid(total + c.ln_absent),
            )
            for c in unknown[:QUESTIONS_PER_CAUSE]
        )
        slope = probability * (1.0 - probability)
        for c in unknown:
            leverage[c.link.finding] = leverage.get(c.link.finding, 0.0) + slope * abs(c.ln_present - c.ln_absent)
        raised.sort(key=lambda r: r.weight, reverse=True)
        lowered.sort(key=lambda r: r.weight)
        result = CauseResult(
            cause=cause.id,
            title=cause.title,
            category=cause.category,
            rank=0,
            probability=probability,
            low=_sigmoid(total + low),
            high=_sigmoid(total + high),
            prior=prior.probability,
            prior_evidence=prior.evidence,
            prior_sources=prior.sources,
            raised_by=tuple(raised),
            lowered_by=tuple(lowered),
            open_questions=questions,
        )
        scored.append((probability, result))
    scored.sort(key=lambda pr: (-pr[0], pr[1].cause))
    ranked = tuple(_with_rank(result, i + 1) for i, (_, result) in enumerate(scored))
    ask_next = tuple(
        Question(f, kb.findings[f].title, kb.findings[f].question)
        for f, _ in sorted(leverage.items(), key=lambda kv: (-kv[1], kv[0]))[:ASK_NEXT]
    )
    return Differential(causes=ranked, excluded=tuple(excluded), ask_next=ask_next)


def _with_rank(result: CauseResult, rank: int) -> CauseResult:
    return CauseResult(
        result.cause, result.title, result.category, rank, result.probability, result.low, result.high,
        result.prior, result.prior_evidence, result.prior_sources, result.raised_by, result.lowered_by,
        result.open_questions,
    )
