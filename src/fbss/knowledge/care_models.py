"""The shapes of care-planning entries: tests, treatments, appropriateness, SCS, plan."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from fbss.knowledge.evidence import Evidence
from fbss.knowledge.models import Cited, Expression, Id, _Entry

Score = int  # a RAND/UCLA score, 1 (extremely inappropriate) to 9 (extremely appropriate)

# Concept ids the engine computes itself from the triage; knowledge files may use them in any expression.
BUILTIN_CONCEPTS: dict[str, str] = {
    "red_flag_fired": "A red flag has fired",
    "red_flag_pending": "A red-flag question is still unanswered",
}


class Statement(Cited):
    """One cited sentence: an evidence figure, a recovery time, a caution."""

    text: str = Field(min_length=5)


# --- the rule language shared by categories, options and SCS ------------------------------------------------


class Rule(Cited):
    """When `when` is present: set, adjust or cap the score; `pattern`: a published panel pattern."""

    id: Id
    when: Expression
    set: int | None = Field(default=None, ge=1, le=9)
    adjust: int | None = Field(default=None, ge=-8, le=8)
    cap: int | None = Field(default=None, ge=1, le=9)
    because: str = Field(min_length=5)
    pattern: bool = Field(default=False, description="Reproduces a published panel pattern (the label, not the number)")

    @model_validator(mode="after")
    def _one_effect(self) -> Rule:
        effects = [e for e in (self.set, self.adjust, self.cap) if e is not None]
        if len(effects) != 1:
            raise ValueError("a rule has exactly one of set, adjust, cap")
        if self.pattern and not self.sources:
            raise ValueError("a published pattern needs its source")
        return self


class Requirement(Cited):
    """What must be shown before the rating can be high: absent caps it low, unknown caps it at uncertain."""

    when: Expression
    because: str = Field(min_length=5)


class Caution(Cited):
    """A warning shown with a test or option while `when` holds; it does not change a rating."""

    id: Id
    when: Expression
    text: str = Field(min_length=5)


class Contraindication(Cited):
    id: Id
    when: Expression
    reason: str = Field(min_length=5)
    absolute: bool = True
    alternative: Id | None = Field(default=None, description="A test to use instead (tests only)")


# --- concepts: named states built from findings, cause probabilities and the triage -------------------------


class ConceptKind(StrEnum):
    cause = "cause"  # a cause of the differential reaches a probability
    target = "target"  # a lesion shown, with a likely cause: what a procedure can treat
    expression = "expression"  # a combination of findings and earlier concepts


class ConceptDef(_Entry):
    """A state the appropriateness rules read, computed per case; a concept may use findings and earlier
    concepts.
    """

    id: Id
    title: str = Field(min_length=3)
    kind: ConceptKind
    causes: tuple[Id, ...] = ()
    at_least: float | None = Field(default=None, gt=0, lt=1, description="Probability threshold (default: likely)")
    shown_by: Expression | None = Field(default=None, description="For a target: the finding that shows it")
    expression: Expression | None = None
    question: str | None = Field(default=None, description="What to do to settle it when unknown")
    line: int | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _shape(self) -> ConceptDef:
        if self.kind is ConceptKind.cause and (not self.causes or self.shown_by or self.expression):
            raise ValueError("a cause concept needs causes and nothing else")
        if self.kind is ConceptKind.target and (not self.causes or self.shown_by is None or self.expression):
            raise ValueError("a target concept needs shown_by and causes")
        if self.kind is ConceptKind.expression and (self.expression is None or self.causes or self.shown_by):
            raise ValueError("an expression concept needs an expression and nothing else")
        return self


# --- appropriateness ----------------------------------------------------------------------------------------


class PanelCategory(StrEnum):
    """The four options the PPSS panel rated (Tronnier 2019)."""

    conservative = "conservative"
    minimally_invasive = "minimally_invasive"
    neurostimulation = "neurostimulation"
    reoperation = "reoperation"


class Scale(Cited):
    """Where the score bands split: appropriate from `appropriate_from`, inappropriate to `inappropriate_to`."""

    appropriate_from: int = Field(ge=2, le=9)
    inappropriate_to: int = Field(ge=1, le=8)
    likely: float = Field(gt=0, lt=1, description="Probability at which a cause counts as likely")


class Override(Cited):
    """A cap applied to every elective option, or to anything whose requirement is not shown."""

    absent_cap: int = Field(ge=1, le=9)
    unknown_cap: int = Field(ge=1, le=9)
    because_absent: str
    because_unknown: str
    because_definitive: str = Field(
        default="A red flag calls for {option}: the category is rated with it, not by the elective rules",
        description="Why a category holding a fired flag's definitive care is rated with that care ({option})",
    )
    never_capped: tuple[Id, ...] = Field(
        default=(), description="Treatment tags a red flag never caps (analgesia, psychological and psychiatric care)"
    )


class CategoryDef(_Entry):
    id: PanelCategory
    title: str
    step: int = Field(ge=1, le=9, description="Order in stepped care")
    base: int = Field(ge=1, le=9)
    base_basis: Cited
    requires: Requirement | None = None
    rules: tuple[Rule, ...] = ()
    line: int | None = Field(default=None, exclude=True)


class Modifier(Rule):
    """A rule applied to every option with one of the tags or categories in `applies_to`."""

    applies_to: tuple[str, ...] = Field(min_length=1)


class SharedCaution(Caution):
    """A caution shown with every elective option carrying one of the tags or categories in `applies_to`."""

    applies_to: tuple[str, ...] = Field(min_length=1)


class AppropriatenessDoc(_Entry):
    scale: Scale
    red_flag_override: Override
    requirement_caps: Override
    concepts: tuple[ConceptDef, ...]
    categories: tuple[CategoryDef, ...]
    modifiers: tuple[Modifier, ...] = ()
    cautions: tuple[SharedCaution, ...] = ()


# --- tests (the work-up catalogue) --------------------------------------------------------------------------


class TestKind(StrEnum):
    """What kind of item a work-up entry is; history, examination and questionnaires are questions, the rest
    investigations."""

    history = "history"
    examination = "examination"
    questionnaire = "questionnaire"
    laboratory = "laboratory"
    imaging = "imaging"
    electrodiagnostic = "electrodiagnostic"
    diagnostic_block = "diagnostic_block"
    psychological = "psychological"
    bedside = "bedside"

    @property
    def is_question(self) -> bool:
        """Asked or examined at the visit, as opposed to an investigation that is ordered."""
        return self in QUESTION_KINDS


QUESTION_KINDS = frozenset({TestKind.history, TestKind.examination, TestKind.questionnaire, TestKind.psychological})


class Burden(Cited):
    invasiveness: int = Field(ge=0, le=3, description="0 none, 1 venepuncture, 2 needle procedure, 3 surgical")
    radiation: int = Field(ge=0, le=3, description="0 none, 1 low (plain films, DEXA), 2 CT, 3 CT myelography")
    cost: int = Field(ge=1, le=4, description="Cost tier, 1 cheapest")


class Timing(Cited):
    when: Expression
    action: Literal["defer", "caution"]
    reason: str = Field(min_length=5)
    earliest_months: float | None = Field(default=None, ge=0, le=60)


class BurdenWeights(Cited):
    invasiveness: float = Field(ge=0)
    radiation: float = Field(ge=0)
    cost: float = Field(ge=0)
    decision_weight: float = Field(ge=0, description="Value of settling one undecided decision point (questions)")
    investigation_decision_weight: float = Field(
        default=0.0, ge=0, description="Value of settling one undecided decision point, for an investigation"
    )
    top_causes: int = Field(ge=1, le=30, description="How many leading causes the expected change is summed over")
    shown: int = Field(ge=1, le=50)


class TestDef(_Entry):
    id: Id
    title: str = Field(min_length=3)
    kind: TestKind
    separates: str = Field(min_length=5)
    reveals: tuple[Id, ...] = Field(default=(), description="Findings whose state the result sets")
    accuracy: Statement | None = None
    burden: Burden
    timing: tuple[Timing, ...] = ()
    contraindications: tuple[Contraindication, ...] = ()
    urgent_for: tuple[Id, ...] = Field(default=(), description="Red flags that call for this test at once")
    urgent_if: Expression | None = Field(default=None, description="Ordered for a red flag only when this holds")
    elective: bool = Field(default=True, description="False: ordered only for a red flag, never ranked")
    applies_if: Expression | None = Field(
        default=None, description="Not suggested when this is absent (CT of a fusion needs a fusion)"
    )
    includes: tuple[Id, ...] = Field(
        default=(), description="Tests whose result this one also gives (MRI with gadolinium includes plain MRI)"
    )
    cautions: tuple[Caution, ...] = ()
    modality: str | None = Field(
        default=None, description="For imaging: the study kind that, done at this visit, means it need not be repeated"
    )
    study: str | None = Field(
        default=None,
        description="The kind of study whose sensitivities (study_sensitivity.yaml) apply to what it reveals, when "
        "it has no modality of its own (plain films, nerve studies, the ankle-brachial index)",
    )
    of_the_spine: bool = Field(
        default=True,
        description="False for imaging elsewhere (CT angiography, CTPA, leg ultrasound): the case records no body "
        "region for a study, so one of the same kind counts as done only when it showed what fired the flag",
    )
    interpretation: Statement | None = None
    decision_point: str | None = None
    urgent_decision_point: str | None = Field(
        default=None, description="What the result decides when a red flag calls for the test (else decision_point)"
    )
    line: int | None = Field(default=None, exclude=True)


class Recency(Cited):
    """How recent a study must be to count as done for a red flag's urgent work-up."""

    days: int = Field(ge=0, le=30)


class TestsDoc(_Entry):
    weights: BurdenWeights
    tests: tuple[TestDef, ...]
    recorded_within: Recency = Recency(days=1, evidence=Evidence.expert_estimate)


# --- treatments ---------------------------------------------------------------------------------------------


class PatientInfo(_Entry):
    """The option-grid row a patient reads: plain words, no jargon."""

    involves: str = Field(min_length=10)
    benefit: str = Field(min_length=10)
    risks: str = Field(min_length=10)
    recovery: str = Field(min_length=5)


class OptionRating(_Entry):
    base: int = Field(ge=1, le=9)
    requires: Requirement | None = None
    rules: tuple[Rule, ...] = ()


class TreatmentDef(_Entry):
    id: Id
    title: str = Field(min_length=3)
    category: PanelCategory
    tags: tuple[Id, ...] = ()
    elective: bool = True
    treats: tuple[Id, ...] = Field(default=(), description="Cause ids it is aimed at")
    description: str = Field(min_length=10)
    indications: tuple[str, ...] = Field(min_length=1)
    contraindications: tuple[Contraindication, ...] = ()
    cautions: tuple[Caution, ...] = Field(default=(), description="Shown with the rating while they hold")
    advantages: tuple[str, ...] = Field(min_length=1)
    disadvantages: tuple[str, ...] = Field(min_length=1)
    evidence: tuple[Statement, ...] = Field(min_length=1)
    recovery: Statement
    success: Statement = Field(
        description="What counts as success for this treatment, cited: the SCS responder definition, the minimal "
        "important change or surgical success"
    )
    rating: OptionRating
    next_step: str | None = Field(default=None, description="The decision point after this treatment")
    prepare: tuple[Id, ...] = Field(
        default=(),
        description="Optimisation options and tests done before this treatment, in order; the plan lists each one "
        "that applies to the case before it",
    )
    includes: tuple[Id, ...] = Field(
        default=(), description="Treatments this one also performs (evacuating a compressive haematoma decompresses)"
    )
    patient: PatientInfo
    line: int | None = Field(default=None, exclude=True)


# --- SCS candidacy ------------------------------------------------------------------------------------------


class AdviceLevel(StrEnum):
    strongly_recommended = "strongly_recommended"
    recommended = "recommended"
    rarely_recommended = "rarely_recommended"
    not_recommended = "not_recommended"
    # recommended once what is still unknown (psychosocial factors, a gate) is assessed and holds: assess first
    provisional = "provisional"


ADVICE_RANK = {
    AdviceLevel.strongly_recommended: 0,
    AdviceLevel.recommended: 1,
    AdviceLevel.provisional: 2,
    AdviceLevel.rarely_recommended: 3,
    AdviceLevel.not_recommended: 4,
}


class PsychosocialFactor(Cited):
    id: Id
    title: str
    when: Expression


class AdviceTable(Cited):
    """Advice by clinical appropriateness and number of psychosocial factors present (last entry repeats)."""

    appropriate: tuple[AdviceLevel, ...] = Field(min_length=1)
    uncertain: tuple[AdviceLevel, ...] = Field(min_length=1)
    inappropriate: tuple[AdviceLevel, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _monotone(self) -> AdviceTable:
        for name in ("appropriate", "uncertain", "inappropriate"):
            ranks = [ADVICE_RANK[a] for a in getattr(self, name)]
            if ranks != sorted(ranks):
                raise ValueError(f"advice for '{name}' must not improve as psychosocial factors add up")
        best = [ADVICE_RANK[getattr(self, n)[0]] for n in ("appropriate", "uncertain", "inappropriate")]
        if best != sorted(best):
            raise ValueError("advice must not improve as clinical appropriateness falls")
        return self


class NiceCriterion(Cited):
    id: Id
    title: str
    when: Expression
    how: str = Field(min_length=5, description="How the criterion is read from the case")
    missing: str = Field(min_length=5, description="What to do when it is unknown")


class ScsGate(Cited):
    """What must hold before SCS is advised above `absent_cap`: absent caps the advice there; unknown leaves a
    recommendation provisional until it is checked."""

    id: Id
    title: str
    when: Expression
    absent_cap: AdviceLevel
    because: str = Field(min_length=5, description="Why the advice is held back when it does not hold")
    missing: str = Field(min_length=5, description="What to do when it is unknown")


class ScsDoc(_Entry):
    clinical: OptionRating
    factors: tuple[PsychosocialFactor, ...] = Field(min_length=1)
    advice: AdviceTable
    contraindications: tuple[Contraindication, ...]
    conditions: tuple[Contraindication, ...] = Field(default=(), description="Do not stop advice; restrict the system")
    nice: tuple[NiceCriterion, ...]
    gates: tuple[ScsGate, ...] = ()


# --- the plan: follow-up and outcomes -----------------------------------------------------------------------


class FollowUp(Cited):
    at: str
    what: str


class Outcome(Cited):
    id: Id
    title: str
    instrument: str
    change: str = Field(description="What counts as a meaningful change")


class CausePath(Cited):
    """What to do when a cause is likely: who sees the patient, what they do first, what decides the next step.

    `options` are the treatments that complete the path: when one of them is already rated appropriate, the plan
    lists that treatment and does not repeat the referral.
    """

    cause: Id
    title: str = Field(min_length=5, description="The step, e.g. 'Refer to an orthopaedic hip specialist'")
    action: str = Field(min_length=10)
    decision_point: str | None = None
    options: tuple[Id, ...] = ()
    while_red_flag: bool = Field(
        default=False,
        description="Listed even while a fired red flag holds elective care back: the referral is urgent care itself",
    )


class PlanDoc(_Entry):
    follow_up: tuple[FollowUp, ...] = Field(min_length=1)
    outcomes: tuple[Outcome, ...] = Field(min_length=1)
    grid_options: int = Field(ge=1, le=20)
    cause_paths: tuple[CausePath, ...] = ()
