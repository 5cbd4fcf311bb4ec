"""The loaded, validated knowledge base: one immutable value handed to every reasoning function."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from fbss.knowledge.care_models import AppropriatenessDoc, PlanDoc, ScsDoc, TestsDoc, TreatmentDef
from fbss.knowledge.education import PatientEducation
from fbss.knowledge.evidence import Source
from fbss.knowledge.models import CauseDef, DifferentialDoc, FindingDef, RedFlagDef, StudySensitivity


@dataclass(frozen=True, eq=False)
class CareKnowledge:
    """The care-planning part of the knowledge base: work-up tests, treatments, appropriateness, SCS, the plan."""

    tests: TestsDoc
    treatments: tuple[TreatmentDef, ...]
    appropriateness: AppropriatenessDoc
    scs: ScsDoc
    plan: PlanDoc


@dataclass(frozen=True, eq=False)
class KnowledgeBase:
    """Findings, causes, red flags and their sources; `version` and `fingerprint` identify exactly this content."""

    version: str
    fingerprint: str
    sources: dict[str, Source]
    findings: dict[str, FindingDef]
    causes: tuple[CauseDef, ...]
    differential: DifferentialDoc
    sensitivities: tuple[StudySensitivity, ...]
    red_flags: tuple[RedFlagDef, ...]
    files: tuple[str, ...]
    care: CareKnowledge
    sections: dict[str, Any] = field(default_factory=dict)
    education: PatientEducation | None = None
    screen: tuple[str, ...] = ()  # the red-flag screen's questions (finding ids), in the order they are asked

    def cause(self, cause_id: str) -> CauseDef:
        for cause in self.causes:
            if cause.id == cause_id:
                return cause
        raise KeyError(cause_id)

    def entry(self, entry_id: str) -> BaseModel:
        """Any entry by id, for `fbss knowledge show`."""
        pools: tuple[dict[str, Any], ...] = (
            self.findings,
            {c.id: c for c in self.causes},
            {r.id: r for r in self.red_flags},
            {t.id: t for t in self.care.tests.tests},
            {t.id: t for t in self.care.treatments},
            {c.id: c for c in self.care.appropriateness.concepts},
            self.sources,
        )
        for pool in pools:
            if entry_id in pool:
                return pool[entry_id]  # type: ignore[no-any-return]
        raise KeyError(entry_id)
