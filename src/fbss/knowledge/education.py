"""Plain-language patient material (urgent-help signs, exercise programme), validated like the rest of the knowledge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fbss.case.parse import describe_validation_error
from fbss.errors import KnowledgeError
from fbss.knowledge.evidence import Source
from fbss.knowledge.models import Cited
from fbss.knowledge.yaml_source import strip_lines


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CitedText(Cited):
    text: str


class UrgentHelp(Cited):
    title: str
    signs: tuple[str, ...] = Field(min_length=1)
    action: str


class Exercise(_Entry):
    name: str
    how: str
    dose: str


class ExerciseCaution(_Entry):
    id: str = Field(description="The physiotherapy caution (treatments.yaml) whose holding shows this text")
    text: str


class Exercises(Cited):
    title: str
    caution: str
    cautions: tuple[ExerciseCaution, ...] = ()
    items: tuple[Exercise, ...] = Field(min_length=1)


class LikelihoodWord(_Entry):
    from_: float = Field(alias="from", ge=0, le=1)
    text: str


class CauseList(Cited):
    """Which causes the handout names (from `shown_from`) and the words for how likely each is."""

    shown_from: float = Field(gt=0, lt=1)
    words: tuple[LikelihoodWord, ...] = Field(min_length=1)

    def word(self, probability: float) -> str:
        return next((w.text for w in sorted(self.words, key=lambda w: -w.from_) if probability >= w.from_), "")


class ComparedFamily(_Entry):
    name: str
    what: str
    suits: str
    recovery: str
    benefit: str
    risks: str


class Comparison(Cited):
    """The option families side by side: the same table for every patient."""

    title: str
    intro: str
    columns: dict[str, str] = Field(min_length=5)
    families: tuple[ComparedFamily, ...] = Field(min_length=2)

    @property
    def parts(self) -> tuple[str, ...]:
        return ("what", "suits", "recovery", "benefit", "risks")


class PatientEducation(_Entry):
    intro: CitedText
    about_scores: str
    no_likely_cause: str
    causes: CauseList
    urgent_help: UrgentHelp
    exercises: Exercises
    next_steps_default: str
    comparison: Comparison


def parse_education(path: Path, document: Any, sources: dict[str, Source]) -> PatientEducation:
    """Validate patient_education.yaml and its source ids."""
    if not isinstance(document, dict) or "patient_education" not in document:
        raise KnowledgeError(f"{path.name}: expected a top-level 'patient_education' mapping")
    try:
        education = PatientEducation.model_validate(strip_lines(document["patient_education"]))
    except ValidationError as exc:
        raise KnowledgeError(f"{path.name}: {describe_validation_error(exc)}") from None
    if set(education.comparison.columns) != set(education.comparison.parts):
        raise KnowledgeError(f"{path.name}: comparison.columns must name {list(education.comparison.parts)}")
    for part in (education.intro, education.urgent_help, education.exercises, education.comparison):
        missing = [s for s in part.sources if s not in sources]
        if missing:
            raise KnowledgeError(f"{path.name}: unknown source id(s) {missing}")
    return education
