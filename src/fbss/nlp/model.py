"""The values report reading produces: proposed findings with their span, level, side and ConText flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from fbss.case.vocabulary import DiagnosticFinding, Modality


class Contrast(StrEnum):
    """Whether an MRI or CT was done with intravenous contrast (gadolinium or iodinated)."""

    with_contrast = "with_contrast"
    without_contrast = "without_contrast"
    with_and_without = "with_and_without"


class Side(StrEnum):
    """The side a finding lies on."""

    left = "left"
    right = "right"
    bilateral = "bilateral"


@dataclass(frozen=True, slots=True)
class TextSpan:
    """An exact stretch of the report text: `text == report[start:end]`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class ProposedFinding:
    """One mention of a finding in the report, proposed for a clinician to confirm.

    `levels` holds vertebrae ("L5") or motion segments ("L4-L5"); a range such as L4-S1 is expanded into its
    segments. `section` is the normalised section name ("findings", "impression", "history", ...) or "body"
    when the report has no headings. `rule` names the target rule that matched, for the explanation trail.
    """

    code: DiagnosticFinding
    span: TextSpan
    section: str
    levels: tuple[str, ...] = ()
    side: Side | None = None
    modality: Modality | None = None
    contrast: Contrast | None = None
    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    hypothetical: bool = False
    rule: str = ""

    @property
    def affirmed(self) -> bool:
        """True when the finding is stated as present now: not negated, hedged, hypothetical or historical."""
        return not (self.negated or self.uncertain or self.hypothetical or self.historical)


@dataclass(frozen=True, slots=True)
class Extraction:
    """Everything read from one report: the study it describes and every finding mention, in text order."""

    modality: Modality | None
    contrast: Contrast | None
    findings: tuple[ProposedFinding, ...] = field(default=())
    sections: tuple[str, ...] = field(default=())
    characters: int = 0
    # sentences of the findings and impression (or of a report without headings) in which no finding was
    # recognised: shown to the reader, so that nothing is dropped without a trace
    not_understood: tuple[TextSpan, ...] = field(default=())


def finding_as_dict(finding: ProposedFinding) -> dict[str, object]:
    """A JSON-ready view of one proposed finding."""
    return {
        "code": str(finding.code),
        "levels": list(finding.levels),
        "side": str(finding.side) if finding.side else None,
        "modality": str(finding.modality) if finding.modality else None,
        "contrast": str(finding.contrast) if finding.contrast else None,
        "negated": finding.negated,
        "uncertain": finding.uncertain,
        "hypothetical": finding.hypothetical,
        "historical": finding.historical,
        "affirmed": finding.affirmed,
        "section": finding.section,
        "span": {"start": finding.span.start, "end": finding.span.end, "text": finding.span.text},
        "rule": finding.rule,
    }


def extraction_as_dict(extraction: Extraction) -> dict[str, object]:
    """A JSON-ready view of an extraction."""
    return {
        "modality": str(extraction.modality) if extraction.modality else None,
        "contrast": str(extraction.contrast) if extraction.contrast else None,
        "sections": list(extraction.sections),
        "characters": extraction.characters,
        "findings": [finding_as_dict(finding) for finding in extraction.findings],
        "not_understood": [{"start": s.start, "end": s.end, "text": s.text} for s in extraction.not_understood],
    }
