"""One assessment is one call: assess(case, kb) -> Assessment, behind every surface."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fbss import __version__
from fbss.case.derived import DerivedFacts
from fbss.case.model import Case
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.differential import differential
from fbss.reasoning.findings import read_findings
from fbss.reasoning.results import Differential, Triage
from fbss.reasoning.triage import triage

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


def assess(case: Case, kb: KnowledgeBase) -> Assessment:
    """Triage first, then the ranked differential; pure and deterministic for a given case and knowledge base."""
    findings = read_findings(case, kb)
    return Assessment(
        case_id=case.id,
        assessment_date=case.assessment_date,
        engine_version=ENGINE_VERSION,
        knowledge_version=kb.version,
        knowledge_fingerprint=kb.fingerprint,
        derived=findings.derived,
        triage=triage(findings, kb),
        differential=differential(findings, kb),
    )
