"""Ranked differential: which cause is the main one, from its prior share and the likelihood ratios of the findings.

The causes compete for the main explanation (a categorical model with a leak for causes outside the list): each
cause's score is the log of its prior share for the operation plus the log likelihood ratios of the known findings
(findings of one evidence group counted once; a study that was done and did not show a finding counts against what
it would have shown, by its sensitivity), and the probabilities are the scores normalised over the applicable causes
and the unexplained share. Causes beside the leading one that findings of their own support are reported as
coexisting contributors. Unknown findings do not change the point estimate; they widen the [low, high] range and
become the questions to ask. See docs/differential-model.md.

The arithmetic is `scores()`, a pure function of the finding states; `differential()` adds the explanations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from fbss.case.derived import SurgeryGroup
from fbss.case.model import Presence
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.models import CauseDef, Link, Prior, expression_ids
from fbss.reasoning.findings import Evaluator, FindingStates, compile_expression
from fbss.reasoning.results import (
    Calibration,
    CauseResult,
    CoexistingCause,
    Differential,
    ExcludedCause,
    OpenQuestion,
    Question,
    Reason,
)

P, A, U = Presence.present, Presence.absent, Presence.unknown
QUESTIONS_PER_CAUSE = 3
ASK_NEXT = 6
UNGROUPED = -1


@dataclass(frozen=True, slots=True)
class _Link:
    finding: str
    group: int  # the evidence group's position within the cause, UNGROUPED when the finding counts on its own
    ln_present: float
    ln_absent: float
    # P(finding | cause) and P(finding | another cause), solved from the two likelihood ratios: what a study that
    # shows the finding with sensitivity s and did not show it does to the odds is (1 - a s) / (1 - b s)
    p_cause: float
    p_other: float
    spread: float
    link: Link
    title: str
    question: str | None
    # the explanation of this link when nothing case-specific was observed: built once, shared by every case
    reason_present: Reason
    reason_absent: Reason

    def unseen(self, sensitivity: float) -> float:
        """Log likelihood ratio of 'a study with this sensitivity was done and did not show the finding'."""
        return math.log((1.0 - self.p_cause * sensitivity) / (1.0 - self.p_other * sensitivity))


@dataclass(frozen=True, slots=True)
class _Cause:
    cause: CauseDef
    applies: Evaluator | None
    applies_ids: tuple[str, ...]
    priors: dict[SurgeryGroup, tuple[Prior, float]]  # prior share and its natural log, per surgery group
    links: tuple[_Link, ...]  # most informative first
    groups: int  # how many evidence groups its links use


def _probabilities(lr_present: float, lr_absent: float) -> tuple[float, float]:
    """P(finding | cause) and P(finding | other) from LR+ = a / b and LR- = (1 - a) / (1 - b); (0, 0) if undefined."""
    if lr_present == lr_absent:
        return 0.0, 0.0
    other = (1.0 - lr_absent) / (lr_present - lr_absent)
    if not 0.0 < other < 1.0:
        return 0.0, 0.0
    return min(lr_present * other, 1.0), other


@cache
def _compiled(kb: KnowledgeBase) -> tuple[_Cause, ...]:
    group_of = {fid: g.id for g in kb.differential.evidence_groups for fid in g.findings}
    compiled = []
    for cause in kb.causes:
        positions: dict[str, int] = {}
        links = []
        for link in cause.links:
            finding = kb.findings[link.finding]
            ln_p, ln_a = math.log(link.lr_present), math.log(link.lr_absent)
            a, b = _probabilities(link.lr_present, link.lr_absent)
            group = group_of.get(link.finding)
            position = UNGROUPED if group is None else positions.setdefault(group, len(positions))
            common = (link.evidence, link.sources, link.note)
            links.append(
                _Link(
                    link.finding,
                    position,
                    ln_p,
                    ln_a,
                    a,
                    b,
                    abs(ln_p - ln_a),
                    link,
                    finding.title,
                    finding.question,
                    Reason(link.finding, finding.title, P, None, link.lr_present, ln_p, *common),
                    Reason(link.finding, finding.title, A, None, link.lr_absent, ln_a, *common),
                )
            )
        links.sort(key=lambda x: -x.spread)
        priors = {}
        for group_id in SurgeryGroup:
            prior = cause.prior_for(group_id)
            priors[group_id] = (prior, math.log(prior.probability))
        applies = compile_expression(cause.applies_if) if cause.applies_if is not None else None
        applies_ids = tuple(expression_ids(cause.applies_if)) if cause.applies_if is not None else ()
        compiled.append(_Cause(cause, applies, applies_ids, priors, tuple(links), len(positions)))
    return tuple(compiled)


class Scores(NamedTuple):
    """The arithmetic of the differential for one case: one log score per applicable cause."""

    causes: tuple[_Cause, ...]  # applicable, in knowledge-base order
    log_score: tuple[float, ...]  # ln prior share + evidence
    low: tuple[float, ...]  # how far the unknown linked findings could lower each score
    high: tuple[float, ...]  # ... and raise it
    log_unexplained: float
    excluded: tuple[_Cause, ...]


def _link_weight(link: _Link, state: Presence, unseen: dict[str, float]) -> float | None:
    """The log likelihood ratio a link adds for the finding's state; None when the finding is unknown."""
    if state is P:
        return link.ln_present
    sensitivity = unseen.get(link.finding)
    if sensitivity is not None and link.p_cause:
        return link.unseen(sensitivity)
    if state is A:
        return link.ln_absent
    return None


def _evidence(cause: _Cause, states: dict[str, Presence], unseen: dict[str, float]) -> tuple[float, float, float]:
    """Sum of log likelihood ratios (a group counts its strongest for and against), and the unknowns' range."""
    total = low = high = 0.0
    n = cause.groups
    best = [0.0] * n
    worst = [0.0] * n
    open_up = [0.0] * n
    open_down = [0.0] * n
    for link in cause.links:
        weight = _link_weight(link, states[link.finding], unseen)
        g = link.group
        if weight is None:
            up, down = max(link.ln_present, link.ln_absent), min(link.ln_present, link.ln_absent)
            if g == UNGROUPED:
                low += down
                high += up
            else:
                open_up[g] = max(open_up[g], up)
                open_down[g] = min(open_down[g], down)
        elif g == UNGROUPED:
            total += weight
        elif weight > 0.0:
            best[g] = max(best[g], weight)
        else:
            worst[g] = min(worst[g], weight)
    for g in range(n):
        total += best[g] + worst[g]
        high += max(0.0, open_up[g] - best[g])
        low += min(0.0, open_down[g] - worst[g])
    return total, low, high


def scores(findings: FindingStates, kb: KnowledgeBase) -> Scores:
    """Log score of every applicable cause: ln prior share for the operation + the evidence (pure)."""
    states = findings.state
    unseen = findings.unseen
    group = findings.derived.surgery_group
    applicable: list[_Cause] = []
    excluded: list[_Cause] = []
    log_score: list[float] = []
    low: list[float] = []
    high: list[float] = []
    for cause in _compiled(kb):
        if cause.applies is not None and cause.applies(states) is A:
            excluded.append(cause)
            continue
        evidence, down, up = _evidence(cause, states, unseen)
        applicable.append(cause)
        log_score.append(cause.priors[group][1] + evidence)
        low.append(down)
        high.append(up)
    return Scores(
        tuple(applicable),
        tuple(log_score),
        tuple(low),
        tuple(high),
        math.log(kb.differential.unexplained.probability),
        tuple(excluded),
    )


def _share(weight: float, others: float) -> float:
    """A cause's probability from its own (scaled) weight and the summed weight of every other hypothesis."""
    return weight / (weight + others)


def _reasons(
    cause: _Cause, findings: FindingStates
) -> tuple[list[Reason], list[Reason], list[tuple[_Link, float, float]]]:
    """What moved a cause (the findings that counted) and its open questions with their effect on the score."""
    states, unseen, observed = findings.state, findings.unseen, findings.observed
    counted: dict[int, Reason] = {}  # per group, the strongest for (positive key) and against (negative key)
    raised: list[Reason] = []
    lowered: list[Reason] = []
    unknown: list[_Link] = []
    weights: dict[int, tuple[float, float]] = {}
    for link in cause.links:
        state = states[link.finding]
        weight = _link_weight(link, state, unseen)
        if weight is None:
            unknown.append(link)
            continue
        if not weight:
            continue
        if state is P:
            reason = link.reason_present
            seen = observed.get(link.finding)
            if seen is not None:
                reason = reason._replace(observed=seen)
        elif state is A and link.finding not in unseen:
            reason = link.reason_absent
        else:
            shown = f"not shown by a study that was done (sensitivity {unseen[link.finding]:.0%})"
            reason = link.reason_absent._replace(observed=shown, likelihood_ratio=math.exp(weight), weight=weight)
        if link.group == UNGROUPED:
            (raised if weight > 0 else lowered).append(reason)
            continue
        key = link.group + 1 if weight > 0 else -(link.group + 1)
        if key not in counted or abs(weight) > abs(counted[key].weight):
            counted[key] = reason
    for key, reason in counted.items():
        (raised if key > 0 else lowered).append(reason)
        best, worst = weights.get(abs(key) - 1, (0.0, 0.0))
        weights[abs(key) - 1] = (max(best, reason.weight), min(worst, reason.weight))
    raised.sort(key=lambda r: r.weight, reverse=True)
    lowered.sort(key=lambda r: r.weight)
    moves = []
    for link in unknown[:QUESTIONS_PER_CAUSE]:
        best, worst = weights.get(link.group, (0.0, 0.0))

        def change(weight: float, best: float = best, worst: float = worst, grouped: bool = link.group >= 0) -> float:
            if not grouped:
                return weight
            return max(weight, best) - best if weight > 0 else min(weight, worst) - worst

        moves.append((link, change(link.ln_present), change(link.ln_absent)))
    return raised, lowered, moves


def _coexisting(
    ranked: list[tuple[float, _Cause, list[Reason]]], kb: KnowledgeBase
) -> tuple[CoexistingCause, ...]:
    """Causes beside the leader whose present findings that do not raise the leader reach the threshold."""
    if len(ranked) < 2:
        return ()
    threshold = math.log(kb.differential.coexisting.min_likelihood_ratio)
    leader = {r.finding for r in ranked[0][2] if r.state is P}
    result = []
    for _, cause, raised in ranked[1:]:
        own = tuple(r for r in raised if r.state is P and r.finding not in leader)
        weight = sum(r.weight for r in own)
        if own and weight >= threshold:
            result.append(CoexistingCause(cause.cause.id, cause.cause.title, math.exp(weight), own))
    return tuple(result)


def differential(findings: FindingStates, kb: KnowledgeBase) -> Differential:
    """Rank the applicable causes as competitors for the main explanation, with their reasons."""
    sc = scores(findings, kb)
    group = findings.derived.surgery_group
    top = max((*sc.log_score, sc.log_unexplained))
    weights = [math.exp(s - top) for s in sc.log_score]
    total = sum(weights) + math.exp(sc.log_unexplained - top)
    order = sorted(range(len(weights)), key=lambda i: (-weights[i], sc.causes[i].cause.id))
    causes: list[CauseResult] = []
    leverage: dict[str, float] = {}
    explained: list[tuple[float, _Cause, list[Reason]]] = []
    for rank, i in enumerate(order, start=1):
        cause, weight = sc.causes[i], weights[i]
        others = total - weight
        probability = weight / total
        raised, lowered, moves = _reasons(cause, findings)
        questions = tuple(
            OpenQuestion(
                link.finding,
                link.title,
                link.question,
                _share(weight * math.exp(up), others),
                _share(weight * math.exp(down), others),
            )
            for link, up, down in moves
        )
        slope = probability * (1.0 - probability)
        for link in cause.links:
            if findings.state[link.finding] is U and link.finding not in findings.unseen:
                leverage[link.finding] = leverage.get(link.finding, 0.0) + slope * link.spread
        prior = cause.priors[group][0]
        causes.append(
            CauseResult(
                cause.cause.id,
                cause.cause.title,
                cause.cause.category,
                rank,
                probability,
                _share(weight * math.exp(sc.low[i]), others),
                _share(weight * math.exp(sc.high[i]), others),
                prior.probability,
                prior.evidence,
                prior.sources,
                tuple(raised),
                tuple(lowered),
                questions,
            )
        )
        explained.append((probability, cause, raised))
    ask_next = tuple(
        Question(f, kb.findings[f].title, kb.findings[f].question)
        for f, _ in sorted(leverage.items(), key=lambda kv: (-kv[1], kv[0]))[:ASK_NEXT]
    )
    excluded = tuple(
        ExcludedCause(c.cause.id, c.cause.title, tuple(f for f in c.applies_ids if findings.state[f] is A))
        for c in sc.excluded
    )
    shown = kb.differential.calibration
    return Differential(
        causes=tuple(causes),
        excluded=excluded,
        ask_next=ask_next,
        unexplained=math.exp(sc.log_unexplained - top) / total,
        coexisting=_coexisting(explained, kb),
        calibration=Calibration(shown.statement, shown.shown_up_to, shown.evidence, shown.sources),
    )
