"""Ranked differential: which cause is the main one, from its prior share and the likelihood ratios of the findings.

The causes compete for the main explanation (a categorical model with a leak for causes outside the list): each
cause's score is the log of its prior share for the operation plus the log likelihood ratios of the known findings
(findings of one evidence group counted once; a study that was done and did not show a finding counts against what
it would have shown, by its sensitivity), and the probabilities are the scores normalised over the applicable causes
and the unexplained share. Causes beside the leading one that findings of their own support are reported as
coexisting contributors. Unknown findings do not change the point estimate; they widen the [low, high] range and
become the questions to ask. See docs/differential-model.md.

The arithmetic is `scores()`, a pure function of the finding states; `differential()` adds the explanations.
`fbss.reasoning.batch` does the same arithmetic for many cases at once, in the same order, without explanations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from fbss.case.derived import SurgeryGroup
from fbss.case.model import Presence, SpineRegion
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
QUESTIONED = 10  # the leading causes get their open questions; the rest of the list is rarely read that far
ASK_NEXT = 6
UNGROUPED = -1


@dataclass(frozen=True, slots=True)
class _Link:
    cause: int  # the position of its cause in the model
    finding: str
    group: int  # the evidence group's position within the cause, UNGROUPED when the finding counts on its own
    alternatives: bool  # its group holds forms of one thing: once one is shown, the absence of the others is moot
    ln_present: float
    ln_absent: float
    low: float  # the smaller and the larger of the two log ratios: what the finding could still do while unknown
    high: float
    # P(finding | cause) and P(finding | another cause), solved from the two likelihood ratios: what a study that
    # shows the finding with sensitivity s and did not show it does to the odds is (1 - a s) / (1 - b s)
    p_cause: float
    p_other: float
    spread: float
    link: Link
    title: str
    question: str | None
    source: str | None  # where the finding's value is read, for its unit

    def unseen(self, sensitivity: float) -> float:
        """Log likelihood ratio of 'a study with this sensitivity was done and did not show the finding'."""
        return math.log((1.0 - self.p_cause * sensitivity) / (1.0 - self.p_other * sensitivity))

    def weight(self, state: Presence, unseen: dict[str, float]) -> float | None:
        """The log likelihood ratio this link adds for the finding's state; None while the finding is unknown."""
        if state is P:
            return self.ln_present
        sensitivity = unseen.get(self.finding)
        if sensitivity is not None and self.p_cause:
            return self.unseen(sensitivity)
        if state is A:
            return self.ln_absent
        return None


@dataclass(frozen=True, slots=True)
class _Cause:
    index: int
    cause: CauseDef
    applies: Evaluator | None
    applies_ids: tuple[str, ...]
    priors: dict[SurgeryGroup, tuple[Prior, float]]  # prior share and its natural log, per surgery group
    links: tuple[_Link, ...]  # most informative first
    groups: tuple[tuple[_Link, ...], ...]  # the links of each evidence group it uses
    spans: tuple[tuple[float, float], ...]  # how far each group could go down and up
    low: float  # how far its evidence could go down, and up, were every linked finding unknown
    high: float


@dataclass(frozen=True, slots=True)
class _Model:
    causes: tuple[_Cause, ...]
    by_finding: tuple[tuple[str, tuple[_Link, ...]], ...]  # every linked finding with its links, across causes


def _probabilities(lr_present: float, lr_absent: float) -> tuple[float, float]:
    """P(finding | cause) and P(finding | other) from LR+ = a / b and LR- = (1 - a) / (1 - b); (0, 0) if undefined."""
    if lr_present == lr_absent:
        return 0.0, 0.0
    other = (1.0 - lr_absent) / (lr_present - lr_absent)
    if not 0.0 < other < 1.0:
        return 0.0, 0.0
    return min(lr_present * other, 1.0), other


def _group_span(links: tuple[_Link, ...]) -> tuple[float, float]:
    return min(0.0, *(x.low for x in links)), max(0.0, *(x.high for x in links))


@cache
def cause_model(kb: KnowledgeBase) -> _Model:
    """The causes with their priors and links, compiled once per knowledge base (shared with `fbss.reasoning.batch`)."""
    group_of = {fid: g.id for g in kb.differential.evidence_groups for fid in g.findings}
    prior_weight = kb.differential.prior_weight.weight
    alternatives = {g.id for g in kb.differential.evidence_groups if g.kind == "alternatives"}
    causes = []
    by_finding: dict[str, list[_Link]] = {}
    for index, cause in enumerate(kb.causes):
        positions: dict[str, int] = {}
        links = []
        for link in cause.links:
            finding = kb.findings[link.finding]
            ln_p, ln_a = math.log(link.lr_present), math.log(link.lr_absent)
            a, b = _probabilities(link.lr_present, link.lr_absent)
            group = group_of.get(link.finding)
            position = UNGROUPED if group is None else positions.setdefault(group, len(positions))
            compiled = _Link(
                index,
                link.finding,
                position,
                group in alternatives,
                ln_p,
                ln_a,
                min(ln_p, ln_a),
                max(ln_p, ln_a),
                a,
                b,
                abs(ln_p - ln_a),
                link,
                finding.title,
                finding.question,
                finding.value_source,
            )
            links.append(compiled)
            by_finding.setdefault(link.finding, []).append(compiled)
        links.sort(key=lambda x: -x.spread)
        groups = tuple(tuple(x for x in links if x.group == g) for g in range(len(positions)))
        spans = [_group_span(g) for g in groups]
        priors = {}
        for group_id in SurgeryGroup:
            prior = cause.prior_for(group_id)
            priors[group_id] = (prior, prior_weight * math.log(prior.probability))
        applies = compile_expression(cause.applies_if) if cause.applies_if is not None else None
        applies_ids = tuple(expression_ids(cause.applies_if)) if cause.applies_if is not None else ()
        causes.append(
            _Cause(
                index,
                cause,
                applies,
                applies_ids,
                priors,
                tuple(links),
                groups,
                tuple(spans),
                sum(x.low for x in links if x.group == UNGROUPED) + sum(low for low, _ in spans),
                sum(x.high for x in links if x.group == UNGROUPED) + sum(high for _, high in spans),
            )
        )
    return _Model(tuple(causes), tuple((f, tuple(v)) for f, v in by_finding.items()))


Known = tuple[tuple[_Link, float], ...]


class Scores(NamedTuple):
    """The arithmetic of the differential for one case: one log score per applicable cause."""

    causes: tuple[_Cause, ...]  # applicable, in knowledge-base order
    log_score: tuple[float, ...]  # ln prior share + evidence
    low: tuple[float, ...]  # how far the unknown linked findings could lower each score
    high: tuple[float, ...]  # ... and raise it
    log_unexplained: float
    excluded: tuple[_Cause, ...]
    known: tuple[Known, ...]  # per applicable cause, its links with a known finding and the weight each added


def scores(findings: FindingStates, kb: KnowledgeBase) -> Scores:
    """Log score of every applicable cause: ln prior share for the operation + the evidence (pure).

    Only the linked findings that are known (or not shown by a study that was done) are visited; the range left open
    by the unknown ones is the whole range less what the known ones used.
    """
    model = cause_model(kb)
    states = findings.state
    unseen = findings.unseen
    group = findings.derived.surgery_group
    n = len(model.causes)
    log = [c.priors[group][1] for c in model.causes]
    low = [c.low for c in model.causes]
    high = [c.high for c in model.causes]
    known: list[list[tuple[_Link, float]]] = [[] for _ in range(n)]
    best: dict[tuple[int, int], float] = {}
    worst: dict[tuple[int, int], float] = {}
    moot: dict[tuple[int, int], float] = {}  # the strongest against from members not shown, in groups of alternatives
    shown: set[tuple[int, int]] = set()  # groups of alternatives where one member is shown
    counted: dict[tuple[int, int], int] = {}  # known members of each touched group
    for finding, links in model.by_finding:
        state = states[finding]
        if state is U and finding not in unseen:
            continue
        for link in links:
            weight = link.weight(state, unseen)
            if weight is None:
                continue
            c = link.cause
            known[c].append((link, weight))
            if link.group == UNGROUPED:
                log[c] += weight
                low[c] -= link.low
                high[c] -= link.high
            else:
                key = (c, link.group)
                counted[key] = counted.get(key, 0) + 1
                if weight > 0.0:
                    best[key] = max(best.get(key, 0.0), weight)
                    if link.alternatives and state is P:
                        shown.add(key)
                elif link.alternatives and state is not P:
                    moot[key] = min(moot.get(key, 0.0), weight)
                else:
                    worst[key] = min(worst.get(key, 0.0), weight)
    # each cause's groups are added in the order the case first touched them (floating-point sums depend on order:
    # the batch engine adds them in the same order)
    for key, count in counted.items():
        c, g = key
        up = best.get(key, 0.0)
        down = worst.get(key, 0.0) if key in shown else min(worst.get(key, 0.0), moot.get(key, 0.0))
        log[c] += up + down
        cause = model.causes[c]
        span_low, span_high = cause.spans[g]
        members = cause.groups[g]
        open_low = open_high = 0.0
        if count < len(members):
            for x in members:
                if x.weight(states[x.finding], unseen) is None:
                    open_low, open_high = min(open_low, x.low), max(open_high, x.high)
        low[c] += min(0.0, open_low - down) - span_low
        high[c] += max(0.0, open_high - up) - span_high
    applicable = [c for c in model.causes if c.applies is None or c.applies(states) is not A]
    return Scores(
        tuple(applicable),
        tuple(log[c.index] for c in applicable),
        tuple(min(0.0, low[c.index]) for c in applicable),  # rounding must not push a range past its point
        tuple(max(0.0, high[c.index]) for c in applicable),
        kb.differential.prior_weight.weight * math.log(kb.differential.unexplained.probability),
        tuple(c for c in model.causes if c.applies is not None and c.applies(states) is A),
        tuple(tuple(known[c.index]) for c in applicable),
    )


def _share(weight: float, others: float) -> float:
    """A cause's probability from its own (scaled) weight and the summed weight of every other hypothesis."""
    return weight / (weight + others)


def _reason(link: _Link, weight: float, findings: FindingStates) -> Reason:
    """The explanation of one link that counted for this case."""
    ev, src, note = link.link.evidence, link.link.sources, link.link.note
    state = findings.state[link.finding]
    if state is P:
        seen = findings.observed.get(link.finding)
        return Reason(link.finding, link.title, P, seen, link.link.lr_present, weight, ev, src, note, link.source)
    if state is A and link.finding not in findings.unseen:
        return Reason(link.finding, link.title, A, None, link.link.lr_absent, weight, ev, src, note)
    shown = f"not shown by a study that was done (sensitivity {findings.unseen[link.finding]:.0%})"
    return Reason(link.finding, link.title, A, shown, math.exp(weight), weight, ev, src, note)


def _reasons(
    known: Known, findings: FindingStates
) -> tuple[list[Reason], list[Reason], dict[int, tuple[float, float]]]:
    """The findings that moved a cause (an evidence group's strongest for and against) and each group's extremes."""
    raised: list[Reason] = []
    lowered: list[Reason] = []
    strongest: dict[int, tuple[_Link, float]] = {}  # +(g+1) for, -(g+1) against
    states = findings.state
    shown = {link.group for link, weight in known if link.alternatives and weight > 0 and states[link.finding] is P}
    for link, weight in known:
        if not weight or (weight < 0 and link.group in shown and states[link.finding] is not P):
            continue
        if link.group == UNGROUPED:
            (raised if weight > 0 else lowered).append(_reason(link, weight, findings))
            continue
        key = link.group + 1 if weight > 0 else -(link.group + 1)
        if key not in strongest or abs(weight) > abs(strongest[key][1]):
            strongest[key] = (link, weight)
    extremes: dict[int, tuple[float, float]] = {}
    for key, (link, weight) in strongest.items():
        (raised if key > 0 else lowered).append(_reason(link, weight, findings))
        up, down = extremes.get(link.group, (0.0, 0.0))
        extremes[link.group] = (max(up, weight), min(down, weight))
    raised.sort(key=lambda r: r.weight, reverse=True)
    lowered.sort(key=lambda r: r.weight)
    return raised, lowered, extremes


def _open_questions(
    cause: _Cause, findings: FindingStates, extremes: dict[int, tuple[float, float]]
) -> list[tuple[_Link, float, float]]:
    """The most informative unknown findings of a cause, with what each answer would add to its score."""
    moves = []
    for link in cause.links:
        if link.weight(findings.state[link.finding], findings.unseen) is not None:
            continue
        if link.group == UNGROUPED:
            moves.append((link, link.ln_present, link.ln_absent))
        else:
            up, down = extremes.get(link.group, (0.0, 0.0))
            present, absent = (
                max(w, up) - up if w > 0 else min(w, down) - down for w in (link.ln_present, link.ln_absent)
            )
            moves.append((link, present, absent))
        if len(moves) == QUESTIONS_PER_CAUSE:
            break
    return moves


def _coexisting(ranked: list[tuple[float, _Cause, list[Reason]]], kb: KnowledgeBase) -> tuple[CoexistingCause, ...]:
    """Causes beside the leader whose present findings that do not raise the leader reach the threshold."""
    if len(ranked) < 2:
        return ()
    threshold = math.log(kb.differential.coexisting.min_likelihood_ratio)
    leader = {r.finding for r in ranked[0][2] if r.state is P}
    result = []
    for evidence, cause, raised in ranked[1:]:
        if evidence < threshold:
            continue  # what speaks against it outweighs
        own = tuple(r for r in raised if r.state is P and r.finding not in leader)
        weight = sum(r.weight for r in own)
        if own and weight >= threshold:
            result.append(CoexistingCause(cause.cause.id, cause.cause.title, math.exp(weight), own))
    return tuple(result)


LEVERAGE_FLOOR = 1e-3  # causes whose probability slope p(1 - p) is below this cannot move the questions to ask


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
    """Rank the applicable causes as competitors for the main explanation, with their reasons (only for the region
    the causes describe)."""
    if findings.derived.region is not CAUSES_REGION:
        shown = kb.differential.calibration
        return Differential(
            causes=(),
            excluded=(),
            ask_next=(),
            unexplained=1.0,
            calibration=Calibration(shown.statement, shown.shown_up_to, shown.evidence, shown.sources),
            not_ranked=not_ranked_note(findings.derived.region),
        )
    sc = scores(findings, kb)
    group = findings.derived.surgery_group
    top = max((*sc.log_score, sc.log_unexplained))
    weights = [math.exp(s - top) for s in sc.log_score]
    total = sum(weights) + math.exp(sc.log_unexplained - top)
    order = sorted(range(len(weights)), key=lambda i: (-weights[i], sc.causes[i].cause.id))
    causes: list[CauseResult] = []
    leverage: dict[str, float] = {}
    explained: list[tuple[float, _Cause, list[Reason]]] = []  # net evidence, cause, what raised it
    states, unseen = findings.state, findings.unseen
    for rank, i in enumerate(order, start=1):
        cause, weight = sc.causes[i], weights[i]
        others = total - weight
        probability = weight / total
        raised, lowered, extremes = _reasons(sc.known[i], findings)
        questions = tuple(
            OpenQuestion(
                link.finding,
                link.title,
                link.question,
                _share(weight * math.exp(up), others),
                _share(weight * math.exp(down), others),
            )
            for link, up, down in (_open_questions(cause, findings, extremes) if rank <= QUESTIONED else ())
        )
        slope = probability * (1.0 - probability)
        if rank <= QUESTIONED or slope >= LEVERAGE_FLOOR:
            for link in cause.links:
                if states[link.finding] is U and link.finding not in unseen:
                    leverage[link.finding] = leverage.get(link.finding, 0.0) + slope * link.spread
        prior = cause.priors[group][0]
        causes.append(
            CauseResult(
                cause.cause.id,
                cause.cause.title,
                cause.cause.category,
                rank,
                probability,
                min(probability, _share(weight * math.exp(sc.low[i]), others)),
                max(probability, _share(weight * math.exp(sc.high[i]), others)),
                prior.probability,
                prior.evidence,
                prior.sources,
                tuple(raised),
                tuple(lowered),
                questions,
            )
        )
        explained.append((sc.log_score[i] - cause.priors[group][1], cause, raised))
    ask_next = tuple(
        Question(f, kb.findings[f].title, kb.findings[f].question)
        for f, _ in sorted(leverage.items(), key=lambda kv: (-kv[1], kv[0]))[:ASK_NEXT]
    )
    excluded = tuple(
        ExcludedCause(c.cause.id, c.cause.title, tuple(f for f in c.applies_ids if states[f] is A)) for c in sc.excluded
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
