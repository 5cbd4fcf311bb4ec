"""Plain-language patient material (urgent-help signs, exercise programme), validated like the rest of the knowledge."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fbss.case.base import Presence
from fbss.case.parse import describe_validation_error
from fbss.errors import KnowledgeError
from fbss.knowledge.care_models import TreatmentDef
from fbss.knowledge.evidence import Source
from fbss.knowledge.models import Cited, Urgency
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
    avoid_with: tuple[str, ...] = Field(
        default=(), description="Physiotherapy cautions (treatments.yaml) whose holding leaves this exercise out"
    )


class ExerciseCaution(_Entry):
    id: str = Field(description="The physiotherapy caution (treatments.yaml) whose holding shows this text")
    text: str


class Exercises(Cited):
    title: str
    caution: str
    cautions: tuple[ExerciseCaution, ...] = ()
    items: tuple[Exercise, ...] = Field(min_length=1)
    withheld: str = Field(description="What to do meanwhile when the sheet is held back and no red flag has fired")

    def for_cautions(self, holding: set[str]) -> tuple[Exercise, ...]:
        """The exercises that suit a case where the physiotherapy cautions `holding` apply."""
        return tuple(e for e in self.items if not holding & set(e.avoid_with))


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


class OptionWording(Cited):
    """How an option reads on the handout where its text in treatments.yaml does not fit every case."""

    option: str
    fusion: Presence | None = Field(default=None, description="Only for patients with (present) or without (absent)")
    involves: str | None = None
    benefit: str | None = None
    risks: str | None = None
    recovery: str | None = None

    @property
    def parts(self) -> dict[str, str]:
        texts = {"involves": self.involves, "benefit": self.benefit, "risks": self.risks, "recovery": self.recovery}
        return {k: v for k, v in texts.items() if v is not None}

    def fits(self, fusion: Presence) -> bool:
        if self.fusion is None:
            return True
        if self.fusion is Presence.absent:
            return fusion is not Presence.present
        return fusion is Presence.present


class PatientEducation(_Entry):
    intro: CitedText
    about_scores: str
    no_likely_cause: str
    causes: CauseList
    urgent_help: UrgentHelp
    exercises: Exercises
    act_on_flag: dict[Urgency, str] = Field(description="What happens now, by the most urgent red flag fired")
    next_steps_intro: str
    next_steps_default: str
    option_wording: tuple[OptionWording, ...] = ()
    comparison: Comparison


def parse_education(path: Path, document: Any, sources: dict[str, Source]) -> PatientEducation:
    """Validate patient_education.yaml and its source ids."""
    if not isinstance(document, dict) or "patient_education" not in document:
        raise KnowledgeError(f"{path.name}: expected a top-level 'patient_education' mapping")
    try:
        education = PatientEducation.model_validate(strip_lines(document["patient_education"]))
    except ValidationError as exc:
        raise KnowledgeError(f"{path.name}: {describe_validation_error(exc)}") from None
    if set(education.act_on_flag) != set(Urgency):
        raise KnowledgeError(f"{path.name}: act_on_flag must give a text for each of {[u.value for u in Urgency]}")
    if set(education.comparison.columns) != set(education.comparison.parts):
        raise KnowledgeError(f"{path.name}: comparison.columns must name {list(education.comparison.parts)}")
    for part in (
        education.intro,
        education.urgent_help,
        education.exercises,
        education.comparison,
        *education.option_wording,
    ):
        missing = [s for s in part.sources if s not in sources]
        if missing:
            raise KnowledgeError(f"{path.name}: unknown source id(s) {missing}")
    return education


def check_education_refs(education: PatientEducation, treatments: Sequence[TreatmentDef]) -> None:
    """Every option the handout rewords and every caution an exercise names exists in treatments.yaml."""
    by_id = {t.id: t for t in treatments}
    unknown = [w.option for w in education.option_wording if w.option not in by_id]
    if unknown:
        raise KnowledgeError(f"patient_education.yaml: option_wording names unknown option(s) {unknown}")
    cautions = {c.id for t in treatments for c in t.cautions}
    named = {c for e in education.exercises.items for c in e.avoid_with} | {c.id for c in education.exercises.cautions}
    if named - cautions:
        raise KnowledgeError(f"patient_education.yaml: unknown physiotherapy caution(s) {sorted(named - cautions)}")
