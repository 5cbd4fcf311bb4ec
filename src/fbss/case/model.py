"""The patient case: everything the engine may read about one patient, with unknown kept distinct from absent."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fbss.case.vocabulary import LAB_RANGES, DiagnosticFinding, Lab, Modality, Treatment, parse_place, parse_segment

SCHEMA_VERSION = "1"


class Presence(StrEnum):
    """A clinical item is present, absent, or not known; unknown is never read as absent."""

    present = "present"
    absent = "absent"
    unknown = "unknown"


U = Presence.unknown


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


Segment = Annotated[str, Field(description="A motion segment or range, e.g. 'L4-L5' or 'L4-S1'")]


def _check_segments(values: list[str]) -> list[str]:
    cleaned = []
    for value in values:
        upper, lower = parse_segment(value)
        cleaned.append(f"{upper}-{lower}")
    return cleaned


class Sex(StrEnum):
    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class Side(StrEnum):
    left = "left"
    right = "right"
    bilateral = "bilateral"
    midline = "midline"
    unknown = "unknown"


class DeviceKind(StrEnum):
    spinal_cord_stimulator = "spinal_cord_stimulator"
    pacemaker = "pacemaker"
    defibrillator = "defibrillator"
    cochlear_implant = "cochlear_implant"
    intrathecal_pump = "intrathecal_pump"
    other = "other"


class Device(_Model):
    """An implanted device, and whether it is MRI-conditional."""

    kind: DeviceKind
    mri_conditional: Presence = U


class Patient(_Model):
    age: int | None = Field(default=None, ge=18, le=110, description="Years; the tool is for adults")
    sex: Sex = Sex.unknown
    pregnant: Presence = U
    anticoagulant: Presence = U
    anticoagulant_can_pause: Presence = U
    antiplatelet: Presence = U
    egfr: float | None = Field(default=None, ge=0, le=200, description="mL/min/1.73 m²")
    contrast_allergy: Presence = U
    devices: tuple[Device, ...] = ()


class SurgeryType(StrEnum):
    microdiscectomy = "microdiscectomy"
    endoscopic_discectomy = "endoscopic_discectomy"
    laminotomy = "laminotomy"
    laminectomy = "laminectomy"
    foraminotomy = "foraminotomy"
    fusion = "fusion"
    disc_arthroplasty = "disc_arthroplasty"
    other = "other"


class Approach(StrEnum):
    posterior = "posterior"
    posterolateral = "posterolateral"
    tlif = "tlif"
    plif = "plif"
    alif = "alif"
    lateral = "lateral"  # LLIF / XLIF (transpsoas)
    olif = "olif"
    unknown = "unknown"


class SymptomPattern(StrEnum):
    leg_dominant = "leg_dominant"
    back_dominant = "back_dominant"
    back_and_leg = "back_and_leg"
    unknown = "unknown"


class Surgery(_Model):
    """One spine operation."""

    type: SurgeryType
    date: dt.date | None = None
    levels: tuple[Segment, ...] = Field(default=(), description="Operated segments, e.g. ['L5-S1']")
    side: Side = Side.unknown
    approach: Approach = Approach.unknown
    instrumented: Presence = U
    interbody_cage: Presence = U
    iliac_crest_graft: Presence = U
    indication: str | None = Field(default=None, max_length=500)
    preoperative_symptoms: SymptomPattern = SymptomPattern.unknown

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_segments(list(value)))


class PainComparison(StrEnum):
    same_as_before = "same_as_before"
    different = "different"
    unknown = "unknown"


class Course(_Model):
    """What happened after the index surgery."""

    relief_after_surgery: Presence = Field(default=U, description="present = the pain was relieved for a time")
    pain_free_interval_months: float | None = Field(default=None, ge=0, le=600)
    months_since_surgery: float | None = Field(
        default=None,
        ge=0,
        le=1200,
        description="Set directly, or derived from the surgery and assessment dates",
    )
    pain_compared_with_before: PainComparison = PainComparison.unknown
    fall_or_injury_since_surgery: Presence = U


class Pain(_Model):
    """The pain now."""

    back_share_percent: int | None = Field(default=None, ge=0, le=100, description="Back pain as % of the total")
    side: Side = Side.unknown
    dermatomal: Presence = U
    burning: Presence = U
    electric: Presence = U
    numbness: Presence = U
    allodynia: Presence = U
    mechanical: Presence = Field(default=U, description="Worse with movement or loading, eased by rest")
    worse_sitting: Presence = U
    worse_extension: Presence = U
    neurogenic_claudication: Presence = U
    vascular_claudication: Presence = Field(default=U, description="Calf pain on walking eased by standing still")
    buttock_or_groin_below_l5: Presence = Field(default=U, description="Pain over the sacroiliac joint or groin")
    groin_pain: Presence = U
    positional_headache: Presence = U
    night_or_rest_pain: Presence = U
    abdominal_pain: Presence = U
    iliac_crest_pain: Presence = U
    anterior_thigh_pain: Presence = U
    localised_muscle_tenderness: Presence = U
    widespread_pain: Presence = U
    nrs_back: int | None = Field(default=None, ge=0, le=10)
    nrs_leg: int | None = Field(default=None, ge=0, le=10)
    duration_months: float | None = Field(
        default=None, ge=0, le=1200, description="How long the current pain has lasted"
    )


class WoundState(StrEnum):
    healed = "healed"
    erythema = "erythema"
    draining = "draining"
    dehiscence = "dehiscence"
    unknown = "unknown"


class Examination(_Model):
    motor_deficit: Presence = U
    motor_deficit_new: Presence = Field(default=U, description="Not present before surgery")
    motor_deficit_progressive: Presence = U
    sensory_change: Presence = U
    straight_leg_raise: Presence = U
    si_provocation_positive_tests: int | None = Field(default=None, ge=0, le=6, description="Of the usual cluster")
    hip_exam_painful: Presence = U
    tinel_or_entrapment_sign: Presence = U
    pulses_reduced: Presence = U
    pulsatile_abdominal_mass: Presence = U
    stocking_sensory_loss: Presence = U
    trigger_points: Presence = U
    sagittal_imbalance_clinical: Presence = Field(default=U, description="Stooped stance, cannot stand upright")
    hip_flexion_weakness: Presence = U
    wound: WoundState = WoundState.unknown
    temperature_c: float | None = Field(default=None, ge=30, le=45)


class RedFlagItems(_Model):
    bladder_bowel_change: Presence = U
    urinary_retention: Presence = U
    post_void_residual_ml: int | None = Field(default=None, ge=0, le=3000)
    saddle_anaesthesia: Presence = U
    bilateral_leg_symptoms: Presence = U
    sexual_dysfunction_new: Presence = U
    meningism: Presence = U
    fever: Presence = U
    wound_drainage: Presence = U
    clear_fluid_leak: Presence = Field(default=U, description="Clear fluid from the wound or a fluctuant swelling")
    weight_loss: Presence = U
    cancer_history: Presence = U
    trauma: Presence = U
    immunosuppression: Presence = U
    iv_drug_use: Presence = U
    sepsis_signs: Presence = Field(default=U, description="Rigors, hypotension, tachycardia, confusion")


class RiskFactors(_Model):
    diabetes: Presence = U
    osteoporosis: Presence = U
    smoking: Presence = U
    bmi: float | None = Field(default=None, ge=10, le=90)
    peripheral_vascular_disease: Presence = U
    peripheral_neuropathy: Presence = U
    hip_arthritis: Presence = U
    long_term_steroids: Presence = U


class Expectations(StrEnum):
    realistic = "realistic"
    unrealistic = "unrealistic"
    unknown = "unknown"


class Psychosocial(_Model):
    phq9_total: int | None = Field(default=None, ge=0, le=27)
    phq9_item9: int | None = Field(
        default=None, ge=0, le=3, description="Thoughts of being better off dead or of self-harm"
    )
    gad7_total: int | None = Field(default=None, ge=0, le=21)
    pcs_total: int | None = Field(default=None, ge=0, le=52)
    dn4_total: int | None = Field(default=None, ge=0, le=10)
    startback_total: int | None = Field(default=None, ge=0, le=9)
    startback_distress: int | None = Field(default=None, ge=0, le=5)
    litigation_or_compensation: Presence = U
    expectations: Expectations = Expectations.unknown
    opioid_mme: float | None = Field(default=None, ge=0, le=5000, description="Oral morphine milligram equivalents/day")
    # the eight psychosocial factors of the SCS panel (Thomson 2020)
    lack_of_engagement: Presence = U
    dysfunctional_coping: Presence = U
    inadequate_daily_activity: Presence = U
    problematic_social_support: Presence = U
    secondary_gain: Presence = U
    psychological_distress: Presence = U
    unwilling_to_reduce_opioids: Presence = U
    untreated_psychiatric_illness: Presence = U
    substance_misuse: Presence = U
    able_to_operate_device: Presence = U

    @model_validator(mode="after")
    def _item9_within_total(self) -> Psychosocial:
        if self.phq9_item9 is not None and self.phq9_total is not None and self.phq9_item9 > self.phq9_total:
            raise ValueError("phq9_item9 cannot exceed phq9_total")
        if (
            self.startback_distress is not None
            and self.startback_total is not None
            and self.startback_distress > self.startback_total
        ):
            raise ValueError("startback_distress cannot exceed startback_total")
        return self


class Planning(_Model):
    """What the care plan needs to know beyond the clinical picture: the team, the patient's wishes, future imaging."""

    mdt_assessment: Presence = Field(default=U, description="Assessed by a multidisciplinary pain team")
    future_mri_likely: Presence = Field(default=U, description="MRI is likely to be needed in the coming years")
    declines_surgery: Presence = U
    declines_implanted_device: Presence = U
    declines_injections: Presence = U


class PriorTreatment(_Model):
    """A treatment or diagnostic procedure already tried, and how well it worked."""

    treatment: Treatment
    date: dt.date | None = None
    relief_percent: int | None = Field(default=None, ge=0, le=100)
    relief_weeks: float | None = Field(default=None, ge=0, le=1000)
    side: Side = Side.unknown
    levels: tuple[Segment, ...] = ()
    note: str | None = Field(default=None, max_length=500)

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_segments(list(value)))


class DiagnosticResult(_Model):
    """One coded finding of an imaging or electrodiagnostic study; absent means the study looked and did not see it."""

    finding: DiagnosticFinding
    presence: Presence = Presence.present
    modality: Modality = Modality.other
    contrast: Presence = U
    level: str | None = Field(
        default=None, description="Segment or range (L4-L5, L4-S1), one vertebra (S1, for a screw) or pelvis"
    )
    side: Side = Side.unknown
    date: dt.date | None = None

    @field_validator("level")
    @classmethod
    def _level(cls, value: str | None) -> str | None:
        return None if value is None else parse_place(value)


class Study(_Model):
    """An imaging or electrodiagnostic study that was done.

    With `reported_in_full`, every finding it showed is listed in `diagnostics`: a finding this kind of study can
    show that is not listed counts as absent. Without it, unlisted findings stay unknown.
    """

    modality: Modality
    date: dt.date | None = None
    contrast: Presence = U
    levels: tuple[Segment, ...] = ()
    reported_in_full: bool = False

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_segments(list(value)))


class LabReading(StrEnum):
    """A laboratory result known only by its reading against the laboratory's reference range ('CRP normal')."""

    normal = "normal"
    raised = "raised"


class LabResult(_Model):
    lab: Lab
    value: float | None = None
    reading: LabReading | None = Field(
        default=None, description="When only the reading is known: normal or raised (above the reference range)"
    )
    date: dt.date | None = None

    @model_validator(mode="after")
    def _in_range(self) -> LabResult:
        if self.value is None:
            if self.reading is None:
                raise ValueError(f"{self.lab.value}: give the value or the reading (normal or raised)")
            return self
        low, high = LAB_RANGES[self.lab]
        if not low <= self.value <= high:
            raise ValueError(f"{self.lab.value} must be between {low} and {high}, got {self.value}")
        return self


class Case(_Model):
    """One patient's case at one visit."""

    schema_version: str = SCHEMA_VERSION
    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    assessment_date: dt.date | None = None
    patient: Patient = Patient()
    index_surgery: Surgery
    earlier_surgeries: tuple[Surgery, ...] = ()
    total_spine_operations: int | None = Field(default=None, ge=1, le=30)
    course: Course = Course()
    pain: Pain = Pain()
    exam: Examination = Examination()
    red_flags: RedFlagItems = RedFlagItems()
    risk_factors: RiskFactors = RiskFactors()
    psychosocial: Psychosocial = Psychosocial()
    planning: Planning = Planning()
    prior_treatments: tuple[PriorTreatment, ...] = ()
    studies: tuple[Study, ...] = ()
    diagnostics: tuple[DiagnosticResult, ...] = ()
    labs: tuple[LabResult, ...] = ()
    notes: str | None = Field(default=None, max_length=5000)

    @field_validator("schema_version")
    @classmethod
    def _schema(cls, value: str) -> str:
        if value != SCHEMA_VERSION:
            raise ValueError(f"this version reads case schema {SCHEMA_VERSION!r}, got {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        if self.total_spine_operations is not None and self.total_spine_operations < 1 + len(self.earlier_surgeries):
            raise ValueError(
                "total_spine_operations is smaller than the operations listed "
                f"({1 + len(self.earlier_surgeries)}: the index surgery and the earlier ones)"
            )
        surgery_date = self.index_surgery.date
        if surgery_date and self.assessment_date and self.assessment_date < surgery_date:
            raise ValueError("assessment_date is before index_surgery.date")
        if self.patient.sex is Sex.male and self.patient.pregnant is Presence.present:
            raise ValueError("patient.pregnant is 'present' but patient.sex is 'male'")
        return self
