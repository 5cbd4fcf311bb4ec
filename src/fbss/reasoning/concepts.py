"""The planning concepts of a case (likely causes, anatomic targets, combinations) on top of its findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from fbss.case.model import Presence
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.care_models import BUILTIN_CONCEPTS, ConceptKind
from fbss.knowledge.models import flag_concept
from fbss.reasoning.findings import FindingStates, Observed
from fbss.reasoning.logic import Compiled, compile_expression
from fbss.reasoning.results import Differential, Triage

P, A, U = Presence.present, Presence.absent, Presence.unknown


@dataclass(frozen=True, slots=True)
class CareStates:
    """Every finding, built-in and concept state of a case, and the probability of each cause."""

    states: dict[str, Presence]
    probability: dict[str, float]
    observed: dict[str, Observed] = field(default_factory=dict)  # what was recorded, for result texts
    study_days: dict[str, int | None] = field(default_factory=dict)  # modality -> days since its latest study
    seen_on: dict[str, dict[str, str]] = field(default_factory=dict)  # diagnostic finding -> modality -> where


@dataclass(frozen=True, slots=True)
class _Concept:
    id: str
    kind: ConceptKind
    causes: tuple[str, ...]
    threshold: float
    compiled: Compiled | None


@cache
def compiled_concepts(kb: KnowledgeBase) -> tuple[_Concept, ...]:
    likely = kb.care.appropriateness.scale.likely
    result = []
    for concept in kb.care.appropriateness.concepts:
        source = concept.shown_by if concept.kind is ConceptKind.target else concept.expression
        result.append(
            _Concept(
                id=concept.id,
                kind=concept.kind,
                causes=concept.causes,
                threshold=concept.at_least if concept.at_least is not None else likely,
                compiled=compile_expression(source) if source is not None else None,
            )
        )
    return tuple(result)


@cache
def titles(kb: KnowledgeBase) -> dict[str, str]:
    """Title of every finding, concept and built-in concept, for explanations."""
    result = {fid: f.title for fid, f in kb.findings.items()}
    result.update(BUILTIN_CONCEPTS)
    result.update({flag_concept(f.id): f"Red flag: {f.title}" for f in kb.red_flags})
    result.update({c.id: c.title for c in kb.care.appropriateness.concepts})
    return result


@cache
def questions(kb: KnowledgeBase) -> dict[str, str]:
    """How to settle a finding or concept when it is unknown."""
    result = {fid: f.question for fid, f in kb.findings.items() if f.question}
    result.update({c.id: c.question for c in kb.care.appropriateness.concepts if c.question})
    return result


def care_states(findings: FindingStates, triage: Triage, differential: Differential, kb: KnowledgeBase) -> CareStates:
    """Findings plus the built-in red-flag states and every concept, in file order (pure)."""
    states = dict(findings.state)
    states["red_flag_fired"] = P if triage.fired else A
    states["red_flag_pending"] = P if triage.ask_now else A
    fired = {f.flag for f in triage.fired}
    asked = {f.flag for f in triage.ask_now}
    for flag in kb.red_flags:
        states[flag_concept(flag.id)] = P if flag.id in fired else U if flag.id in asked else A
    probability = {c.cause: c.probability for c in differential.causes}
    contributing = {c.cause for c in differential.coexisting}  # likely contributors beside the main cause
    for concept in compiled_concepts(kb):
        if concept.kind is ConceptKind.expression:
            assert concept.compiled is not None
            states[concept.id] = concept.compiled(states)
            continue
        # the causes compete for the main explanation, so the chance that one of them is the main cause is the sum
        together = sum(probability.get(c, 0.0) for c in concept.causes)
        likely = together >= concept.threshold or not contributing.isdisjoint(concept.causes)
        if concept.kind is ConceptKind.cause:
            states[concept.id] = P if likely else A
        else:
            assert concept.compiled is not None
            # a target needs the lesion shown and a likely cause: an unlikely cause makes it absent even
            # unimaged
            shown = concept.compiled(states)
            states[concept.id] = A if (shown is A or not likely) else shown
    return CareStates(
        states=states,
        probability=probability,
        observed=findings.observed,
        study_days=findings.derived.study_days,
        seen_on=findings.derived.seen_on,
    )
