"""Many cases at once: finding states as a matrix in, the triage and differential columns of each case out.

The states are a matrix of N cases by the knowledge base's findings (absent 0, unknown 1, present 2), so that Kleene
any/all/not are max/min/2 - x. The arithmetic is the per-case arithmetic of `differential.scores()` and
`differential()`, done column by column: the same coefficients (`cause_model`), the log ratios added to each cause's
score in the same order, the same `math.exp`, the probabilities normalised the same way; no matrix product, whose
summation order would differ. So each probability, ranking and red flag equals the per-case result exactly. No
explanations are built: a case that needs them is assessed on its own.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from fbss.case.derived import SurgeryGroup
from fbss.case.model import Presence
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.models import URGENCY_RANK, AllOf, AnyOf, Expression, Not, Resuscitation, Urgency, act_now_rank
from fbss.reasoning.differential import CAUSES_REGION, cause_model
from fbss.reasoning.findings import FindingStates, finding_order
from fbss.reasoning.likely_emergency import FLAG_PREFIX
from fbss.reasoning.triage import _asked_only_if, _flags, _not_askable, grouped_flags

A, U, P = 0, 1, 2  # Presence as numbers: the order absent < unknown < present makes Kleene logic max and min
CODE = {Presence.absent: A, Presence.unknown: U, Presence.present: P}
GROUPS = tuple(SurgeryGroup)

States = npt.NDArray[np.int8]
Floats = npt.NDArray[np.float64]
Evaluator = Callable[[States], States]


@dataclass(frozen=True)
class StateMatrix:
    """The finding states of N cases, with what the differential reads besides them."""

    findings: tuple[str, ...]  # the columns: the knowledge base's findings in reading order
    states: States  # [N, F] absent 0, unknown 1, present 2
    unseen: Floats  # [N, F] the sensitivity of a study done that did not show the finding; NaN where none
    surgery_group: npt.NDArray[np.intp]  # [N] position in SurgeryGroup: which priors apply
    ranked: npt.NDArray[np.bool_]  # [N] the operation is in the region the causes describe

    def __len__(self) -> int:
        return int(self.states.shape[0])


def state_matrix(cases: Sequence[FindingStates], kb: KnowledgeBase) -> StateMatrix:
    """Stack the finding states of many cases (read one by one with `read_findings`) into one matrix."""
    findings = finding_order(kb)
    column = {f: j for j, f in enumerate(findings)}
    code = CODE.__getitem__
    getter = operator.itemgetter(*findings)
    read = getter if len(findings) > 1 else lambda state: (getter(state),)  # one name: itemgetter gives no tuple
    rows = b"".join(bytes(map(code, read(case.state))) for case in cases)
    states = np.frombuffer(rows, dtype=np.int8).reshape(len(cases), len(findings)).copy()
    unseen = np.full((len(cases), len(findings)), np.nan)
    for i, case in enumerate(cases):
        for f, sensitivity in case.unseen.items():
            unseen[i, column[f]] = sensitivity
    group = {g: k for k, g in enumerate(GROUPS)}
    return StateMatrix(
        findings,
        states,
        unseen,
        np.array([group[c.derived.surgery_group] for c in cases], dtype=np.intp),
        np.array([c.derived.region is CAUSES_REGION for c in cases], dtype=np.bool_),
    )


@dataclass(frozen=True)
class BatchResult:
    """The columns of N cases: triage and the differential, as the per-case assessment would give them."""

    causes: tuple[str, ...]  # the knowledge base's causes, in its order
    probability: Floats  # [N, C] each cause's probability; NaN where it does not apply or nothing is ranked
    order: npt.NDArray[np.intp]  # [N, C] cause positions by rank; the first `ranked_count` of a row are ranked
    ranked_count: npt.NDArray[np.intp]  # [N]
    unexplained: Floats  # [N] the share no listed cause explains (1 where nothing is ranked)
    level: tuple[Urgency | None, ...]  # the most urgent fired flag
    red_flags: tuple[tuple[str, ...], ...]  # fired flags as triage lists them (likely emergencies included)
    ask_now: tuple[tuple[str, ...], ...]  # flags waiting on an unknown answer, most urgent first

    def ranking(self, row: int) -> list[tuple[str, float]]:
        """(cause, probability) of one case, most probable first."""
        ranked = self.order[row, : self.ranked_count[row]]
        return [(self.causes[c], float(self.probability[row, c])) for c in ranked]


# --- Kleene logic over columns -----------------------------------------------------------------------------------


def compile_columns(expr: Expression, column: dict[str, int]) -> Evaluator:
    """A three-valued expression over the state matrix: any_of is max, all_of min, not 2 - x."""
    if isinstance(expr, str):
        j = column[expr]
        return lambda s: s[:, j]
    if isinstance(expr, Not):
        inner = compile_columns(expr.not_, column)
        return lambda s: (P - inner(s)).astype(np.int8)
    any_of = isinstance(expr, AnyOf)
    assert any_of or isinstance(expr, AllOf)
    parts = tuple(compile_columns(e, column) for e in (expr.any_of if isinstance(expr, AnyOf) else expr.all_of))
    combine, empty = (np.maximum, A) if any_of else (np.minimum, P)

    def combined(s: States) -> States:
        if not parts:
            return np.full(s.shape[0], empty, dtype=np.int8)
        result = parts[0](s)
        for part in parts[1:]:
            result = combine(result, part(s))
        return result

    return combined


@dataclass(frozen=True)
class _Emergency:
    """A cause's `emergency` (causes.yaml) over columns: see `likely_emergency._flag`."""

    flag: str
    min_probability: float
    covered_by: frozenset[str]
    not_when: Evaluator | None
    when: Evaluator | None
    urgency: int  # how soon it is acted on (`acting_key`)
    otherwise: int | None  # the same for the lesser urgency where `when` does not hold; None: no flag there


@dataclass(frozen=True)
class _Compiled:
    column: dict[str, int]
    not_askable: tuple[int, ...]
    asked_only_if: tuple[tuple[int, Evaluator], ...]
    expressions: tuple[tuple[int, Evaluator], ...]
    flags: tuple[tuple[str, int, Evaluator], ...]  # id, urgency rank, when
    applies: tuple[Evaluator | None, ...]  # per cause
    prior_log: Floats  # [C, groups] the scaled log prior share of each cause per surgery group
    id_rank: npt.NDArray[np.intp]  # [C] the position of each cause id in sorted order: ties are broken by id
    emergencies: dict[int, _Emergency]  # cause position -> what makes it a likely emergency


@cache
def _compiled(kb: KnowledgeBase) -> _Compiled:
    column = {f: j for j, f in enumerate(finding_order(kb))}
    model = cause_model(kb)
    ids = [c.cause.id for c in model.causes]
    rank_of = {cid: r for r, cid in enumerate(sorted(ids))}
    emergencies = {}
    for c in model.causes:
        e = c.cause.emergency
        if e is not None:
            emergencies[c.index] = _Emergency(
                FLAG_PREFIX + c.cause.id,
                e.min_probability,
                frozenset(e.covered_by),
                compile_columns(e.not_when, column) if e.not_when is not None else None,
                compile_columns(e.when, column) if e.when is not None else None,
                acting_key(e.urgency, e.resuscitation),
                acting_key(e.otherwise.urgency, None) if e.otherwise is not None else None,
            )
    return _Compiled(
        column=column,
        not_askable=tuple(column[f] for f in _not_askable(kb)),
        asked_only_if=tuple(
            (column[f], compile_columns(ask_if, column))
            for f, _ in _asked_only_if(kb)
            if (ask_if := kb.findings[f].ask_if) is not None
        ),
        expressions=tuple(
            (column[f], compile_columns(expr, column))
            for f in finding_order(kb)
            if (expr := kb.findings[f].expression) is not None
        ),
        flags=tuple(
            (flag.id, URGENCY_RANK[flag.urgency], compile_columns(flag.when, column)) for flag, _ in _flags(kb)
        ),
        applies=tuple(
            compile_columns(c.cause.applies_if, column) if c.cause.applies_if is not None else None
            for c in model.causes
        ),
        prior_log=np.array([[c.priors[g][1] for g in GROUPS] for c in model.causes], dtype=np.float64).reshape(
            len(model.causes), len(GROUPS)
        ),
        id_rank=np.array([rank_of[cid] for cid in ids], dtype=np.intp),
        emergencies=emergencies,
    )


# --- triage ------------------------------------------------------------------------------------------------------


def _bedside(states: States, compiled: _Compiled) -> States:
    """`triage._bedside_view` for every row: unknown tests and out-of-setting questions read as absent."""
    view = states.copy()
    changed = np.zeros(view.shape[0], dtype=np.bool_)
    for j in compiled.not_askable:
        unknown = view[:, j] == U
        view[unknown, j] = A
        changed |= unknown
    for j, ask_if in compiled.asked_only_if:
        moot = (view[:, j] == U) & (ask_if(view) == A)
        view[moot, j] = A
        changed |= moot
    if changed.any():
        # expressions are recomputed only where an input changed, as the per-case view does
        again = view.copy()
        for j, evaluate in compiled.expressions:
            again[:, j] = evaluate(again)
        view = np.where(changed[:, None], again, view)
    return view


# --- the differential --------------------------------------------------------------------------------------------


def _unseen_weights(link_unseen: Callable[[float], float], sensitivity: Floats, where: npt.NDArray[np.bool_]) -> Floats:
    """The link's weight for 'not shown by a study that was done', with `math.log` once per distinct sensitivity."""
    out = np.zeros(sensitivity.shape[0])
    values = sensitivity[where]
    for value in np.unique(values):
        out[where & (sensitivity == value)] = link_unseen(float(value))
    return out


@dataclass
class _GroupState:
    best: Floats
    worst: Floats
    moot: Floats
    shown: npt.NDArray[np.bool_]
    strongest: Floats  # the strongest weight for the group so far (as explanations pick it: the first wins ties)
    strongest_present: npt.NDArray[np.bool_]  # ... and whether its finding is present
    first: npt.NDArray[np.intp]  # when a finding of the group was first known (UNTOUCHED: never)


UNTOUCHED = np.iinfo(np.intp).max


def _scores(
    matrix: StateMatrix, compiled: _Compiled, kb: KnowledgeBase
) -> tuple[Floats, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Log score of every cause [N, C] (`differential.scores`), and whether a present finding raised it (what a
    likely emergency fires on)."""
    model = cause_model(kb)
    n, c_count = len(matrix), len(model.causes)
    log = compiled.prior_log[:, matrix.surgery_group].T.copy()  # [N, C]
    present_raised = np.zeros((n, c_count), dtype=np.bool_)
    groups: dict[tuple[int, int], _GroupState] = {}
    states, unseen = matrix.states, matrix.unseen
    for position, (finding, links) in enumerate(model.by_finding):
        j = compiled.column[finding]
        state = states[:, j]
        sensitivity = unseen[:, j]
        is_present, is_absent = state == P, state == A
        has_unseen = ~np.isnan(sensitivity) & ~is_present
        for link in links:
            # the weight `_Link.weight` gives: present, else not shown by a study, else absent, else unknown (None)
            weight = np.where(is_present, link.ln_present, np.where(is_absent, link.ln_absent, 0.0))
            known = is_present | is_absent
            if link.p_cause and has_unseen.any():
                weight = np.where(has_unseen, _unseen_weights(link.unseen, sensitivity, has_unseen), weight)
                known = known | has_unseen
            c = link.cause
            if link.group == -1:
                log[:, c] += np.where(known, weight, 0.0)
                present_raised[:, c] |= is_present & (link.ln_present > 0.0)
                continue
            key = (c, link.group)
            g = groups.get(key)
            if g is None:
                zeros = np.zeros(n)
                g = groups[key] = _GroupState(
                    zeros, zeros, zeros, np.zeros(n, np.bool_), zeros, np.zeros(n, np.bool_), np.full(n, UNTOUCHED)
                )
            g.first = np.where(known & (g.first == UNTOUCHED), position, g.first)
            up = known & (weight > 0.0)
            g.best = np.where(up, np.maximum(g.best, weight), g.best)
            stronger = up & (weight > g.strongest)
            g.strongest = np.where(stronger, weight, g.strongest)
            g.strongest_present = np.where(stronger, is_present, g.strongest_present)
            down = known & ~up
            if link.alternatives:
                g.shown = g.shown | (up & is_present)
                g.moot = np.where(down & ~is_present, np.minimum(g.moot, weight), g.moot)
                g.worst = np.where(down & is_present, np.minimum(g.worst, weight), g.worst)
            else:
                g.worst = np.where(down, np.minimum(g.worst, weight), g.worst)
    # `scores()` adds each cause's groups in the order the case first touched them: so do we, row by row (an
    # untouched group adds 0.0, which leaves a score as it is wherever it comes)
    rows = np.arange(n)
    for c in range(c_count):
        mine = [g for (cause, _), g in groups.items() if cause == c]
        if not mine:
            continue
        added = np.stack([g.best + np.where(g.shown, g.worst, np.minimum(g.worst, g.moot)) for g in mine], axis=1)
        order = np.argsort(np.stack([g.first for g in mine], axis=1), axis=1, kind="stable")
        for k in range(len(mine)):
            log[:, c] += added[rows, order[:, k]]
        for g in mine:
            present_raised[:, c] |= g.strongest_present
    applies = np.ones((n, c_count), dtype=np.bool_)
    for c, evaluate in enumerate(compiled.applies):
        if evaluate is not None:
            applies[:, c] = evaluate(states) != A
    return log, applies & matrix.ranked[:, None], present_raised


# `math.exp`, as the per-case path uses it: numpy's own exp may differ from it in the last bit
_exp = np.frompyfunc(math.exp, 1, 1)


def _normalise(log: Floats, applies: npt.NDArray[np.bool_], kb: KnowledgeBase) -> tuple[Floats, Floats, Floats]:
    """Weights and probabilities [N, C] (NaN where a cause does not apply) and the unexplained share, as
    `differential()` computes them."""
    log_unexplained = kb.differential.prior_weight.weight * math.log(kb.differential.unexplained.probability)
    n, c_count = log.shape
    masked = np.where(applies, log, -np.inf)
    top = np.maximum(masked.max(axis=1, initial=-np.inf), log_unexplained)
    weights = np.zeros((n, c_count))
    if applies.any():
        weights[applies] = _exp((log - top[:, None])[applies]).astype(np.float64)
    total = np.zeros(n)
    for c in range(c_count):  # left to right over the causes, as the per-case sum() adds them
        total += weights[:, c]
    total += _exp(log_unexplained - top).astype(np.float64)
    probability = np.where(applies, weights / total[:, None], np.nan)
    unexplained = _exp(log_unexplained - top).astype(np.float64) / total
    return weights, probability, unexplained


def assess_batch(matrix: StateMatrix, kb: KnowledgeBase) -> BatchResult:
    """Red-flag triage and the ranked differential of every case of the matrix, without explanations (pure)."""
    compiled = _compiled(kb)
    model = cause_model(kb)
    n = len(matrix)
    log, applies, present_raised = _scores(matrix, compiled, kb)
    weights, probability, unexplained = _normalise(log, applies, kb)
    unexplained = np.where(matrix.ranked, unexplained, 1.0)
    # rank by weight (as `differential()` does: two weights can give one probability), ties by cause id; causes
    # that do not apply go last
    key = np.where(applies, -weights, np.inf)
    ids = np.broadcast_to(compiled.id_rank, key.shape)
    order = np.lexsort((ids, key), axis=1) if n else np.zeros((0, len(model.causes)), dtype=np.intp)
    ranked_count = applies.sum(axis=1)

    view = _bedside(matrix.states, compiled)
    status = np.stack([when(view) for _, _, when in compiled.flags], axis=1) if compiled.flags else None
    if status is None:
        status = np.zeros((n, 0), dtype=np.int8)
    likely = _likely(status, applies, probability, present_raised, matrix.states, compiled)
    triage_of = _triage_rows(kb)
    levels: list[Urgency | None] = []
    red_flags: list[tuple[str, ...]] = []
    ask_now: list[tuple[str, ...]] = []
    for i in range(n):
        listed, asked = triage_of(status[i].tobytes())
        candidates = likely.get(i)
        if candidates:
            emergencies = [candidates[int(c)] for c in order[i, : ranked_count[i]] if int(c) in candidates]
            # `with_likely_emergencies` sorts all fired flags by `act_now_rank` only when it adds one
            listed = tuple(sorted((*listed, *emergencies), key=lambda item: item[1]))
        red_flags.append(tuple(f for f, _ in listed))
        levels.append(_BY_RANK[listed[0][1] // _STEPS] if listed else None)
        ask_now.append(asked)
    return BatchResult(
        causes=tuple(c.cause.id for c in model.causes),
        probability=probability,
        order=order,
        ranked_count=ranked_count,
        unexplained=unexplained,
        level=tuple(levels),
        red_flags=tuple(red_flags),
        ask_now=tuple(ask_now),
    )


_BY_RANK = {rank: urgency for urgency, rank in URGENCY_RANK.items()}
Listed = tuple[tuple[str, int], ...]  # flag id, how soon it is acted on (`acting_key`)
_STEPS = 10  # more than the resuscitation steps of `act_now_rank`


def acting_key(urgency: Urgency, resuscitation: Resuscitation | None) -> int:
    """`act_now_rank` as one integer (urgency rank * 10 + resuscitation step), for columns; `// 10` is the urgency."""
    rank, step = act_now_rank(urgency, resuscitation)
    return rank * _STEPS + step


def _triage_rows(kb: KnowledgeBase) -> Callable[[bytes], tuple[Listed, tuple[str, ...]]]:
    """(fired flags as triage lists them, ask-now flags most urgent first) of a row of flag statuses, remembered per
    distinct row: few combinations recur across a cohort."""
    compiled = _compiled(kb)
    flag_ids = [f for f, _, _ in compiled.flags]
    ranks = [r for _, r, _ in compiled.flags]
    acting = {f.id: acting_key(f.urgency, f.resuscitation) for f in kb.red_flags}
    seen: dict[bytes, tuple[Listed, tuple[str, ...]]] = {}

    def rows(key: bytes) -> tuple[Listed, tuple[str, ...]]:
        if key not in seen:
            fired = tuple(f for f, v in zip(flag_ids, key, strict=True) if v == P)
            asked = sorted((k for k, v in enumerate(key) if v == U), key=ranks.__getitem__)
            listed = tuple((f, acting[f]) for f, _ in grouped_flags(fired, kb))
            seen[key] = (listed, tuple(flag_ids[k] for k in asked))
        return seen[key]

    return rows


def _likely(
    status: States,
    applies: npt.NDArray[np.bool_],
    probability: Floats,
    present_raised: npt.NDArray[np.bool_],
    states: States,
    compiled: _Compiled,
) -> dict[int, dict[int, tuple[str, int]]]:
    """Row -> cause -> (flag, `acting_key`) of the likely emergencies (`likely_emergency._flag`)."""
    flag_column = {f: k for k, (f, _, _) in enumerate(compiled.flags)}
    found: dict[int, dict[int, tuple[str, int]]] = {}
    for c, e in compiled.emergencies.items():
        fires = applies[:, c] & present_raised[:, c]
        fires &= np.where(applies[:, c], probability[:, c], -1.0) >= e.min_probability
        for covering in e.covered_by:  # a red flag that already calls for the same care has fired
            if covering in flag_column:
                fires &= status[:, flag_column[covering]] != P
        if e.not_when is not None:
            fires &= e.not_when(states) != P
        urgency = np.full(len(fires), e.urgency)
        if e.when is not None:
            holds = e.when(states) == P
            if e.otherwise is None:
                fires &= holds
            else:
                urgency = np.where(holds, e.urgency, e.otherwise)
        for row in np.flatnonzero(fires):
            found.setdefault(int(row), {})[c] = (e.flag, int(urgency[row]))
    return found
