"""One assessment is one call: assess(case, kb) -> Assessment, behind every surface."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fbss import __version__
from fbss.case.derived import DerivedFacts
from fbss.case.model import Case
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.appropriateness import appropriateness
from fbss.reasoning.care_results import OptionRatings, Plan, ScsAdvice, Workup
from fbss.reasoning.concepts import care_states
from fbss.reasoning.differential import differential
from fbss.reasoning.findings import read_findings
from fbss.reasoning.likely_emergency import with_likely_emergencies
from fbss.reasoning.plan import plan
from fbss.reasoning.results import Differential, Triage
from fbss.reasoning.scs import scs_advice
from fbss.reasoning.triage import triage
from fbss.reasoning.workup import workup

ENGINE_VERSION = __version__


@dataclass(frozen=True, slots=True)
class Assessment:
    case_id: str
    assessment_date: dt.date | None
    engine_version: str
    knowledge_version: str
    knowledge_fingerprint: str
    derived: DerivedFacts
    triage: Triage
    differential: Differential
    workup: Workup
    options: OptionRatings
    scs: ScsAdvice
    plan: Plan


def assess(case: Case, kb: KnowledgeBase) -> Assessment:
    """Triage, differential, option ratings, SCS advice, work-up and plan; pure and deterministic."""
    findings = read_findings(case, kb)
    causes = differential(findings, kb)
    flags = with_likely_emergencies(triage(findings, kb), causes, findings.state, kb)
    care = care_states(findings, flags, causes, kb)
    ratings = appropriateness(care, kb)
    scs = scs_advice(care, kb)
    tests = workup(care, flags, causes, ratings, scs, kb)
    return Assessment(
        case_id=case.id,
        assessment_date=case.assessment_date,
        engine_version=ENGINE_VERSION,
        knowledge_version=kb.version,
        knowledge_fingerprint=kb.fingerprint,
        derived=findings.derived,
        triage=flags,
        differential=causes,
        workup=tests,
        options=ratings,
        scs=scs,
        plan=plan(care, flags, causes, tests, ratings, scs, kb),
    )
