"""Ranked differential: prior odds by index surgery x likelihood ratios of the known findings, cause by cause.

Causes are scored independently (several often coexist), so probabilities do not sum to one. Unknown findings
change nothing in the point estimate; they widen the [low, high] range and become the questions to ask.
See docs/differential-model.md.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from functools import cache

from fbss.case.derived import SurgeryGroup
from fbss.case.model import Presence, SpineRegion
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.models import CauseDef, Link, Prior, expression_ids
from fbss.reasoning.findings import Evaluator, FindingStates, compile_expression
from fbss.reasoning.results import CauseResult, Differential, ExcludedCause, OpenQuestion, Question, Reason

P, A, U = Presence.present, Presence.absent, Presence.unknown
QUESTIONS_PER_CAUSE = 3
ASK_NEXT = 6


@dataclass(frozen=True, slots=True)
class _Link:
    link: Link
    finding: str
    title: str
    question: str | None
    ln_present: float
    ln_absent: float
    spread: float
    # the explanation of this link when nothing case-specific was observed: built once, shared by every case
    reason_present: Reason
    reason_absent: Reason


@dataclass(frozen=True, slots=True)
class _Cause:
    cause: CauseDef
    applies: Evaluator | None
    applies_ids: tuple[str, ...]
    priors: dict[SurgeryGroup, tuple[Prior, float]]  # prior and its log-odds, per surgery group
    links: tuple[_Link, ...]  # most informative first


@cache
def _compiled(kb: KnowledgeBase) -> tuple[_Cause, ...]:
    compiled = []
    for cause in kb.causes:
        links = []
        for link in cause.links:
            finding = kb.findings[link.finding]
            ln_p, ln_a = math.log(link.lr_present), math.log(link.lr_absent)
            common = (link.evidence, link.sources, link.note)
            links.append(
                _Link(
                    link,
                    link.finding,
                    finding.title,
                    finding.question,
                    ln_p,
                    ln_a,
                    abs(ln_p - ln_a),
                    Reason(link.finding, finding.title, P, None, link.lr_present, ln_p, *common),
                    Reason(link.finding, finding.title, A, None, link.lr_absent, ln_a, *common),
                )
            )
        links.sort(key=lambda x: -x.spread)
        priors = {}
        for group in SurgeryGroup:
            prior = cause.prior_for(group)
            priors[group] = (prior, math.log(prior.probability / (1.0 - prior.probability)))
        applies = compile_expression(cause.applies_if) if cause.applies_if is not None else None
        applies_ids = tuple(expression_ids(cause.applies_if)) if cause.applies_if is not None else ()
        compiled.append(_Cause(cause, applies, applies_ids, priors, tuple(links)))
    return tuple(compiled)


LOG_ODDS_LIMIT = 30.0  # |log-odds| beyond this is certainty for every practical purpose; keeps exp() finite


def _clamp(x: float) -> float:
    return LOG_ODDS_LIMIT if x > LOG_ODDS_LIMIT else -LOG_ODDS_LIMIT if x < -LOG_ODDS_LIMIT else x


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-_clamp(x)))


_WEIGHT = operator.attrgetter("weight")


# The causes, priors and likelihood ratios of causes.yaml describe pain after lumbar (lumbosacral) surgery.
CAUSES_REGION = SpineRegion.lumbar


def not_ranked_note(region: SpineRegion) -> str:
    """Why the differential is empty for an operation outside the region its causes describe."""
    return (
        f"The causes in this knowledge base describe pain after {CAUSES_REGION.value} spine surgery; for a "
        f"{region.value} operation they are not ranked. The red flags and their work-up still apply: assess the "
        "cause clinically."
    )


def differential(findings: FindingStates, kb: KnowledgeBase) -> Differential:
    """Score every applicable cause and rank them (only for the region the causes describe)."""
    if findings.derived.region is not CAUSES_REGION:
        return Differential(causes=(), excluded=(), ask_next=(), not_ranked=not_ranked_note(findings.derived.region))
    states = findings.state
    group = findings.derived.surgery_group
    scored: list[tuple[float, str, _Cause, float, float, float, list[tuple[_Link, Presence]], list[_Link]]] = []
    excluded: list[ExcludedCause] = []
    for compiled in _compiled(kb):
        if compiled.applies is not None and compiled.applies(states) is A:
            reasons = tuple([f for f in compiled.applies_ids if states[f] is A])
            excluded.append(ExcludedCause(compiled.cause.id, compiled.cause.title, reasons))
            continue
        total = compiled.priors[group][1]
        low = high = 0.0
        known: list[tuple[_Link, Presence]] = []
        unknown: list[_Link] = []
        for link in compiled.links:
            state = states[link.finding]
            if state is U:
                unknown.append(link)
                if link.ln_present < link.ln_absent:
                    low += link.ln_present
                    high += link.ln_absent
                else:
                    low += link.ln_absent
                    high += link.ln_present
            else:
                weight = link.ln_present if state is P else link.ln_absent
                if weight:
                    total += weight
                    known.append((link, state))
        scored.append((_sigmoid(total), compiled.cause.id, compiled, total, low, high, known, unknown))

    scored.sort(key=lambda s: (-s[0], s[1]))
    observed = findings.observed
    sigmoid = _sigmoid
    causes: list[CauseResult] = []
    leverage: dict[str, float] = {}
    for rank, (probability, _, compiled, total, low, high, known, unknown) in enumerate(scored, start=1):
        raised: list[Reason] = []
        lowered: list[Reason] = []
        for link, state in known:
            reason = link.reason_present if state is P else link.reason_absent
            seen = observed.get(link.finding)
            if seen is not None:
                reason = Reason(reason[0], reason[1], reason[2], seen, *reason[4:])
            (raised if reason.weight > 0 else lowered).append(reason)
        raised.sort(key=_WEIGHT, reverse=True)
        lowered.sort(key=_WEIGHT)
        # odds after one more finding = odds now x its LR, so p = 1 / (1 + 1 / (odds x LR))
        inverse_odds = math.exp(-_clamp(total))
        questions = tuple(
            [
                OpenQuestion(
                    link.finding,
                    link.title,
                    link.question,
                    1.0 / (1.0 + inverse_odds / link.link.lr_present),
                    1.0 / (1.0 + inverse_odds / link.link.lr_absent),
                )
                for link in unknown[:QUESTIONS_PER_CAUSE]
            ]
        )
        slope = probability * (1.0 - probability)
        for link in unknown:
            leverage[link.finding] = leverage.get(link.finding, 0.0) + slope * link.spread
        prior, _ = compiled.priors[group]
        causes.append(
            CauseResult(
                compiled.cause.id,
                compiled.cause.title,
                compiled.cause.category,
                rank,
                probability,
                sigmoid(total + low),
                sigmoid(total + high),
                prior.probability,
                prior.evidence,
                prior.sources,
                tuple(raised),
                tuple(lowered),
                questions,
            )
        )
    ask_next = tuple(
        Question(f, kb.findings[f].title, kb.findings[f].question)
        for f, _ in sorted(leverage.items(), key=lambda kv: (-kv[1], kv[0]))[:ASK_NEXT]
    )
    return Differential(causes=tuple(causes), excluded=tuple(excluded), ask_next=ask_next)
