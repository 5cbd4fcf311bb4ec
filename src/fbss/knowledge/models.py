"""The shapes of knowledge-base entries: findings, causes, red flags, and the numbers that link them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fbss.case.derived import SurgeryGroup
from fbss.knowledge.evidence import Evidence

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Cited(_Entry):
    """Anything that carries a number or a rule: its evidence grade and its sources."""

    evidence: Evidence
    sources: tuple[Id, ...] = ()
    note: str | None = None

    @model_validator(mode="after")
    def _sourced(self) -> Cited:
        if self.evidence is not Evidence.expert_estimate and not self.sources:
            raise ValueError(f"evidence '{self.evidence.value}' needs at least one source id")
        return self


# --- boolean expressions over findings (three-valued: present / absent / unknown) --------------------------


class AnyOf(_Entry):
    any_of: tuple[Expression, ...] = Field(min_length=1)


class AllOf(_Entry):
    all_of: tuple[Expression, ...] = Field(min_length=1)


class Not(_Entry):
    not_: Expression = Field(alias="not")


Expression = Union[Id, AnyOf, AllOf, Not]  # noqa: UP007 - recursive alias needs Union for pydantic
AnyOf.model_rebuild()
AllOf.model_rebuild()
Not.model_rebuild()


def expression_ids(expr: Expression) -> list[str]:
    """Every finding id an expression mentions."""
    if isinstance(expr, str):
        return [expr]
    if isinstance(expr, AnyOf):
        return [i for e in expr.any_of for i in expression_ids(e)]
    if isinstance(expr, AllOf):
        return [i for e in expr.all_of for i in expression_ids(e)]
    return expression_ids(expr.not_)


# --- findings ------------------------------------------------------------------------------------------------


class Threshold(Cited):
    """A cut-off on a number; which comparison is used is part of the data."""

    above: float | None = None
    at_least: float | None = None
    below: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Threshold:
        bounds = [b for b in (self.above, self.at_least, self.below, self.at_most) if b is not None]
        if not bounds:
            raise ValueError("a threshold needs one of above, at_least, below, at_most")
        return self


class FindingGroup(StrEnum):
    history = "history"
    timing = "timing"
    pain = "pain"
    exam = "exam"
    red_flag = "red_flag"
    risk_factor = "risk_factor"
    psychosocial = "psychosocial"
    treatment_response = "treatment_response"
    diagnostic = "diagnostic"
    lab = "lab"
    surgery = "surgery"


class FindingDef(_Entry):
    """A named clinical finding and how its state is read from a case.

    Exactly one of: `field` (a case path, optionally with `equals`/`one_of` or a `threshold`), `diagnostic` (a coded
    study finding), `lab` (with `threshold`), `treatment` (a prior treatment, optionally with `threshold` on % relief)
    or `expression` (a combination of other findings).
    """

    id: Id
    title: str = Field(min_length=3)
    group: FindingGroup
    question: str | None = Field(default=None, description="How to ask for it when it is unknown")
    field: str | None = None
    one_of: tuple[str, ...] | None = None
    threshold: Threshold | None = None
    diagnostic: str | None = None
    seen_on: tuple[str, ...] = Field(
        default=(),
        description="Modalities that show this diagnostic finding (a study reported in full rules it out)",
    )
    ruled_out: bool = Field(
        default=False, description="Diagnostic only: present when a study looked and did not see the finding"
    )
    level: Literal["same", "adjacent", "remote"] | None = Field(
        default=None,
        description="Diagnostic only: the finding at a level with this relation to the operated segments",
    )
    askable: bool | None = Field(
        default=None,
        description="Can it be asked at the bedside? Default: yes for fields and expressions, no otherwise",
    )
    lab: str | None = None
    treatment: str | None = None
    expression: Expression | None = None
    absent_if: Expression | None = Field(
        default=None,
        description="Read as absent, when not recorded, if this holds: an answer implied by others is not asked",
    )
    ask_if: Expression | None = Field(
        default=None,
        description="Asked at the bedside only while this can hold (a DVT question in the first 3 months); "
        "recorded present, it counts at any time",
    )
    line: int | None = Field(default=None, exclude=True)

    @property
    def is_askable(self) -> bool:
        if self.askable is not None:
            return self.askable
        return self.field is not None or self.expression is not None

    @model_validator(mode="after")
    def _one_source(self) -> FindingDef:
        kinds = [k for k in ("field", "diagnostic", "lab", "treatment", "expression") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a finding is read from exactly one of: field, diagnostic, lab, treatment, expression")
        if (self.seen_on or self.ruled_out or self.level) and self.diagnostic is None:
            raise ValueError("seen_on, ruled_out and level only apply to a diagnostic finding")
        if self.lab is not None and self.threshold is None:
            raise ValueError("a lab finding needs a threshold")
        return self


# --- causes --------------------------------------------------------------------------------------------------


class Category(StrEnum):
    """PSPS-T2 cause categories (van de Minkelis 2024, plus extraspinal and psychosocial)."""

    inappropriate_procedure = "inappropriate_procedure"
    technical_failure = "technical_failure"
    biomechanical_sequelae = "biomechanical_sequelae"
    complication = "complication"
    extraspinal = "extraspinal"
    psychosocial = "psychosocial"
    undetermined = "undetermined"


class Prior(Cited):
    """Share of the patients after that kind of surgery whose main cause is this one (population: causes.yaml)."""

    probability: float = Field(gt=0, lt=1)


class Link(Cited):
    """How a finding moves a cause: likelihood ratio if present, and if absent (1 = no change)."""

    finding: Id
    lr_present: float = Field(default=1.0, ge=0.01, le=100)
    lr_absent: float = Field(default=1.0, ge=0.01, le=100)

    @model_validator(mode="after")
    def _moves(self) -> Link:
        if self.lr_present == 1.0 and self.lr_absent == 1.0:
            raise ValueError("a link with both likelihood ratios equal to 1 changes nothing; remove it")
        return self


class LesserUrgency(BaseModel):
    """What a likely emergency calls for when the findings that make it an emergency are not there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    urgency: Urgency
    action: str = Field(min_length=10)
    patient_advice: str = Field(min_length=10)


class LikelyEmergency(Cited):
    """A cause that needs urgent care once the differential makes it likely, whatever red flag did or did not fire."""

    urgency: Urgency
    min_probability: float = Field(
        gt=0, lt=1, description="Fires when the cause is ranked first or at least this probable, on a present finding"
    )
    action: str = Field(min_length=10)
    patient_advice: str = Field(min_length=10)
    tests: tuple[Id, ...] = Field(min_length=1, description="The tests it calls for at once (tests.yaml ids)")
    covered_by: tuple[Id, ...] = Field(
        default=(), description="Red flags that, once fired, already call for this cause's urgent care"
    )
    when: Expression | None = Field(
        default=None,
        description="The findings that make it this urgent (signs, timing, approach); without them it fires at "
        "`otherwise`, or not at all",
    )
    otherwise: LesserUrgency | None = Field(
        default=None, description="The urgency, action and advice when `when` does not hold"
    )
    not_when: Expression | None = Field(
        default=None, description="Never fires while this holds (e.g. the days when its findings are expected anyway)"
    )
    resuscitation: Resuscitation | None = Field(
        default=None,
        description="The resuscitation step the action starts with: listed first within its urgency (airway, "
        "breathing, circulation)",
    )

    @model_validator(mode="after")
    def _lesser(self) -> LikelyEmergency:
        if self.otherwise is not None and self.when is None:
            raise ValueError("'otherwise' needs a 'when' that it is the alternative to")
        if self.otherwise is not None and URGENCY_RANK[self.otherwise.urgency] <= URGENCY_RANK[self.urgency]:
            raise ValueError("'otherwise' must be less urgent than the urgency it replaces")
        return self


class CauseDef(_Entry):
    id: Id
    title: str = Field(min_length=3)
    category: Category
    category_basis: Cited
    description: str = Field(min_length=10)
    patient_summary: str = Field(min_length=10, description="Plain-language explanation for a handout")
    priors: dict[SurgeryGroup | Literal["default"], Prior]
    applies_if: Expression | None = Field(
        default=None,
        description="When this is absent the cause cannot apply (e.g. no fusion, no pseudarthrosis)",
    )
    links: tuple[Link, ...] = ()
    emergency: LikelyEmergency | None = Field(
        default=None, description="Urgent care the cause calls for once the differential makes it likely"
    )
    line: int | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _default_prior(self) -> CauseDef:
        if "default" not in self.priors:
            raise ValueError("priors need a 'default' entry")
        seen = [link.finding for link in self.links]
        duplicates = {f for f in seen if seen.count(f) > 1}
        if duplicates:
            raise ValueError(f"finding linked twice: {', '.join(sorted(duplicates))}")
        return self

    def prior_for(self, group: SurgeryGroup) -> Prior:
        return self.priors.get(group) or self.priors["default"]


class Unexplained(Cited):
    """The leak: the share of patients whose main cause is none of the listed causes."""

    probability: float = Field(gt=0, lt=1)


class EvidenceGroup(_Entry):
    """Findings that measure one thing (nested or strongly correlated): each cause counts them once.

    Per cause, the group adds the strongest weight for the cause and the strongest weight against it among its
    known findings, instead of the sum of all of them.
    """

    id: Id
    title: str = Field(min_length=3)
    findings: tuple[Id, ...] = Field(min_length=2)
    kind: Literal["nested", "alternatives"] = Field(
        default="nested",
        description=(
            "nested: each member narrows the others (time windows, grades): the strongest for and the strongest "
            "against both count. alternatives: forms of one thing (kinds of stenosis, of implant failure): once one "
            "is shown, the others not being there says nothing"
        ),
    )


class Coexisting(Cited):
    """When a cause other than the leading one is reported as a coexisting contributor."""

    min_likelihood_ratio: float = Field(
        gt=1, le=1000, description="Combined likelihood ratio of its findings that the leading cause does not explain"
    )


class DisplayCalibration(Cited):
    """How far the probabilities are calibrated, and the highest point value the display shows as such."""

    shown_up_to: float = Field(gt=0.5, le=0.99, description="Higher probabilities are shown as 'above' this")
    statement: str = Field(min_length=20)


class PriorWeight(Cited):
    """How much the prior shares count against the evidence: each cause's (and the unexplained share's) log prior is
    multiplied by this weight, 1 counting the priors in full. A fitted weight names the cases it was fitted on."""

    weight: float = Field(gt=0, le=1)
    fitted_on: str | None = Field(default=None, description="The cases the weight was chosen on, with their number")


class DifferentialDoc(_Entry):
    """The model-level numbers of the differential (causes.yaml, beside the causes)."""

    population: str = Field(min_length=20, description="Whom the priors describe")
    unexplained: Unexplained
    prior_weight: PriorWeight
    coexisting: Coexisting
    calibration: DisplayCalibration
    evidence_groups: tuple[EvidenceGroup, ...] = ()


class StudySensitivity(Cited):
    """How often a study of this kind shows a finding that is there: a reported study that does not mention the
    finding lowers what it would have shown by this much."""

    finding: Id
    modality: str
    sensitivity: float = Field(gt=0, le=1)


# --- red flags -----------------------------------------------------------------------------------------------


class Urgency(StrEnum):
    """How fast a red flag must be acted on; order matters (most urgent first)."""

    emergency = "emergency"
    same_day = "same_day"
    within_days = "within_days"


URGENCY_RANK = {Urgency.emergency: 0, Urgency.same_day: 1, Urgency.within_days: 2}
# How soon, as the heading of a flag's action says it: only an emergency is "act now".
ACT_WHEN = {Urgency.emergency: "Act now", Urgency.same_day: "Act the same day", Urgency.within_days: "Act within days"}


class Resuscitation(StrEnum):
    """The step of resuscitation a flag's action starts with, in the order it comes (airway, breathing,
    circulation)."""

    airway = "airway"
    breathing = "breathing"
    circulation = "circulation"


_RESUSCITATION_RANK = {Resuscitation.airway: 0, Resuscitation.breathing: 1, Resuscitation.circulation: 2}


def act_now_rank(urgency: Urgency, resuscitation: Resuscitation | None) -> tuple[int, int]:
    """Most urgent first; within an urgency, actions that start with resuscitation first, airway before circulation."""
    step = len(_RESUSCITATION_RANK) if resuscitation is None else _RESUSCITATION_RANK[resuscitation]
    return URGENCY_RANK[urgency], step


class RedFlagDef(Cited):
    id: Id
    title: str = Field(min_length=3)
    urgency: Urgency
    action: str = Field(min_length=10)
    patient_advice: str = Field(min_length=10)
    when: Expression
    definitive: tuple[Id, ...] = Field(
        default=(),
        description="Treatment options that act on the flag: never capped by it, listed right after its action",
    )
    covered_by: tuple[Id, ...] = Field(
        default=(),
        description="Flags whose action already includes this one's: when one of them fired too, this flag is "
        "listed right after it and marked as within it",
    )
    resuscitation: Resuscitation | None = Field(
        default=None,
        description="The resuscitation step the action starts with: listed first within its urgency (airway, "
        "breathing, circulation)",
    )
    line: int | None = Field(default=None, exclude=True)


class RedFlagScreenDef(Cited):
    """The red-flag screen: the questions one 'screen negative' answers together (each an askable finding)."""

    questions: tuple[Id, ...] = Field(min_length=1)


def flag_concept(flag_id: str) -> str:
    """The concept id that reads one red flag's state: present when fired, unknown while asked, else absent."""
    return f"red_flag_{flag_id}"
