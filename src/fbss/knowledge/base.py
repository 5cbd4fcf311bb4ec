"""The loaded, validated knowledge base: one immutable value handed to every reasoning function."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fbss.knowledge.education import PatientEducation
from fbss.knowledge.evidence import Source
from fbss.knowledge.models import CauseDef, FindingDef, RedFlagDef


@dataclass(frozen=True, eq=False)
class KnowledgeBase:
    """Findings, causes, red flags and their sources; `version` and `fingerprint` identify exactly this content."""

    version: str
    fingerprint: str
    sources: dict[str, Source]
    findings: dict[str, FindingDef]
    causes: tuple[CauseDef, ...]
    red_flags: tuple[RedFlagDef, ...]
    files: tuple[str, ...]
    sections: dict[str, Any] = field(default_factory=dict)
    education: PatientEducation | None = None

    def cause(self, cause_id: str) -> CauseDef:
        for cause in self.causes:
            if cause.id == cause_id:
                return cause
        raise KeyError(cause_id)

    def entry(self, entry_id: str) -> FindingDef | CauseDef | RedFlagDef | Source:
        """Any entry by id, for `fbss knowledge show`."""
        for pool in (
            self.findings,
            {c.id: c for c in self.causes},
            {r.id: r for r in self.red_flags},
            self.sources,
        ):
            if entry_id in pool:
                return pool[entry_id]
        raise KeyError(entry_id)
