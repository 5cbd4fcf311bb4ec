"""The patient case: everything the engine may read about one patient, with unknown kept distinct from absent."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from fbss.case.base import CaseModel, Segment, U, check_segments
from fbss.case.base import Presence as Presence  # re-exported: the rest of the code imports it from here
from fbss.case.base import Side as Side
from fbss.case.migrate import SCHEMA_VERSION, migrate
from fbss.case.presentation import Alignment, Function, ReflexExam, SystemicSigns, Work
from fbss.case.vocabulary import (
    LAB_RANGES,
    RESPONSE_RELIEF,
    DiagnosticFinding,
    Lab,
    Modality,
    PeripheralNerve,
    Treatment,
    TreatmentResponse,
    parse_place,
    segment_regions,
)

_Model = CaseModel
_check_segments = check_segments


class Sex(StrEnum):
    female = "female"
    male = "male"
    other = "other"
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
    discectomy = "discectomy"  # technique not stated
    fusion = "fusion"
    disc_arthroplasty = "disc_arthroplasty"
    dynamic_stabilisation = "dynamic_stabilisation"  # pedicle-screw based, non-fusion
    interspinous_device = "interspinous_device"
    implant_removal = "implant_removal"
    other = "other"
    unknown = "unknown"  # an operation whose type is not stated


class Approach(StrEnum):
    posterior = "posterior"
    anterior = "anterior"  # anterior cervical (ACDF, corpectomy, disc arthroplasty)
    posterolateral = "posterolateral"
    tlif = "tlif"
    plif = "plif"
    alif = "alif"
    lateral = "lateral"  # LLIF / XLIF (transpsoas)
    olif = "olif"
    unknown = "unknown"


class SpineRegion(StrEnum):
    """The operated region of the spine; lumbosacral operations count as lumbar."""

    cervical = "cervical"
    thoracic = "thoracic"
    lumbar = "lumbar"


class SymptomPattern(StrEnum):
    leg_dominant = "leg_dominant"
    back_dominant = "back_dominant"
    back_and_leg = "back_and_leg"
    unknown = "unknown"


class Technique(StrEnum):
    open = "open"
    minimally_invasive = "minimally_invasive"  # tubular or mini-open
    endoscopic = "endoscopic"
    percutaneous = "percutaneous"
    unknown = "unknown"


class Position(StrEnum):
    """How the patient lay on the operating table."""

    prone = "prone"
    lateral = "lateral"
    supine = "supine"
    knee_chest = "knee_chest"  # kneeling
    unknown = "unknown"


class Neuromonitoring(StrEnum):
    """Intra-operative neuromonitoring (SSEP/MEP) and what it showed."""

    not_used = "not_used"
    no_change = "no_change"
    alert_recovered = "alert_recovered"  # a significant change that recovered before the end of the operation
    alert_persistent = "alert_persistent"  # a significant change still present at the end
    unknown = "unknown"


class Surgery(_Model):
    """One spine operation."""

    type: SurgeryType
    combined_with: tuple[SurgeryType, ...] = Field(
        default=(), description="Other procedures done in the same operation, e.g. a laminectomy with a fusion"
    )
    staged: Presence = Field(default=U, description="Done in two or more stages on different days")
    technique: Technique = Technique.unknown
    date: dt.date | None = None
    levels: tuple[Segment, ...] = Field(default=(), description="Operated segments, e.g. ['L5-S1'] or ['C5-C6']")
    region: SpineRegion | None = Field(
        default=None,
        description="Operated region; derived from the levels when not given (lumbar when neither is given)",
    )
    side: Side = Side.unknown
    approach: Approach = Approach.unknown
    other_approaches: tuple[Approach, ...] = Field(
        default=(), description="Further approaches in the same or a staged operation, e.g. ALIF then posterior"
    )
    position: Position = Position.unknown
    instrumented: Presence = U
    interbody_cage: Presence = U
    iliac_crest_graft: Presence = U
    implants_removed: Presence = Field(default=U, description="Screws, rods or other implants were taken out")
    indication: str | None = Field(default=None, max_length=500)
    preoperative_symptoms: SymptomPattern = SymptomPattern.unknown
    preoperative_imaging_concordant: Presence = Field(
        default=U, description="Pre-operative imaging showed a lesion that matched the symptoms and signs"
    )
    level_confirmed: Presence = Field(default=U, description="The level was confirmed with intra-operative imaging")
    target_lesion_found: Presence = Field(
        default=U, description="The lesion the operation was for was found and dealt with"
    )
    dural_tear: Presence = Field(default=U, description="Incidental durotomy or CSF leak during the operation")
    excessive_bleeding: Presence = Field(default=U, description="Heavy bleeding during the operation")
    bmp_used: Presence = Field(default=U, description="Bone morphogenetic protein (rhBMP-2) used in the fusion")
    neuromonitoring: Neuromonitoring = Neuromonitoring.unknown

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_segments(list(value)))

    @model_validator(mode="after")
    def _combined(self) -> Surgery:
        if self.type in self.combined_with:
            raise ValueError(f"combined_with repeats the operation's own type '{self.type.value}'")
        vague = {SurgeryType.unknown} & set(self.combined_with)
        if vague:
            raise ValueError("combined_with lists 'unknown'; leave out what is not known")
        if self.approach in self.other_approaches:
            raise ValueError(f"other_approaches repeats the main approach '{self.approach.value}'")
        if Approach.unknown in self.other_approaches:
            raise ValueError("other_approaches lists 'unknown'; leave out what is not known")
        if self.type is SurgeryType.implant_removal and self.implants_removed is Presence.absent:
            raise ValueError("implants_removed is 'absent' but the operation is an implant removal")
        if self.region is not None and self.levels:
            reached = frozenset().union(*(segment_regions(level) for level in self.levels))
            if self.region.value not in reached:
                raise ValueError(
                    f"region is '{self.region.value}' but the levels {', '.join(self.levels)} are "
                    f"{' and '.join(sorted(reached))}"
                )
        return self


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
    uneventful_early_recovery: Presence = Field(
        default=U, description="The first weeks after the operation went as expected"
    )


class Intensity(StrEnum):
    """Pain intensity in words, as the patient or the notes give it."""

    none = "none"
    mild = "mild"
    moderate = "moderate"
    severe = "severe"
    unknown = "unknown"


class Onset(StrEnum):
    sudden = "sudden"
    gradual = "gradual"
    unknown = "unknown"


class Trend(StrEnum):
    """How the pain has been changing recently."""

    improving = "improving"
    stable = "stable"
    fluctuating = "fluctuating"
    worsening = "worsening"  # getting worse
    progressive = "progressive"  # steadily worse over weeks to months
    unknown = "unknown"


class Pain(_Model):
    """The pain now."""

    back_pain: Presence = Field(default=U, description="Back pain now, whatever its intensity")
    leg_pain: Presence = Field(default=U, description="Leg pain now, whatever its intensity")
    back_intensity: Intensity = Field(default=Intensity.unknown, description="Back pain in words")
    leg_intensity: Intensity = Field(default=Intensity.unknown, description="Leg pain in words")
    back_share_percent: int | None = Field(default=None, ge=0, le=100, description="Back pain as % of the total")
    side: Side = Side.unknown
    dermatomal: Presence = U
    burning: Presence = U
    electric: Presence = U
    numbness: Presence = U
    allodynia: Presence = U
    shooting: Presence = U
    tingling: Presence = Field(default=U, description="Pins and needles (paraesthesia)")
    aching: Presence = U
    deep: Presence = Field(default=U, description="Deep, boring pain")
    sharp: Presence = Field(default=U, description="Sharp or stabbing")
    cramping: Presence = U
    constant: Presence = Field(default=U, description="Present all the time rather than coming and going")
    radiates_below_knee: Presence = Field(default=U, description="Leg pain reaching below the knee")
    onset: Onset = Field(default=Onset.unknown, description="How the current pain began")
    onset_after_lifting_or_strain: Presence = Field(default=U, description="Began on lifting, bending or a strain")
    trend: Trend = Field(default=Trend.unknown, description="How the pain has been changing")
    mechanical: Presence = Field(default=U, description="Worse with movement or loading, eased by rest")
    worse_sitting: Presence = U
    worse_standing: Presence = U
    worse_walking: Presence = U
    worse_bending_forward: Presence = U
    worse_extension: Presence = U
    worse_twisting: Presence = U
    worse_coughing_or_straining: Presence = Field(default=U, description="Worse on coughing, sneezing or straining")
    eased_lying_down: Presence = U
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
    nrs_overall: int | None = Field(
        default=None, ge=0, le=10, description="One 0-10 score when back and leg pain are not scored apart"
    )
    duration_months: float | None = Field(
        default=None, ge=0, le=1200, description="How long the current pain has lasted"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Pain:
        for where, said, nrs, words in (
            ("back", self.back_pain, self.nrs_back, self.back_intensity),
            ("leg", self.leg_pain, self.nrs_leg, self.leg_intensity),
        ):
            if said is Presence.absent and nrs:
                raise ValueError(f"{where}_pain is 'absent' but nrs_{where} is {nrs}")
            if said is Presence.absent and words not in (Intensity.none, Intensity.unknown):
                raise ValueError(f"{where}_pain is 'absent' but {where}_intensity is '{words.value}'")
            if said is Presence.present and (nrs == 0 or words is Intensity.none):
                shown = f"nrs_{where} is 0" if nrs == 0 else f"{where}_intensity is 'none'"
                raise ValueError(f"{where}_pain is 'present' but {shown}")
            if nrs == 0 and words not in (Intensity.none, Intensity.unknown):
                raise ValueError(f"nrs_{where} is 0 but {where}_intensity is '{words.value}'")
        no_pain = self.back_pain is Presence.absent and self.leg_pain is Presence.absent
        if no_pain and self.nrs_overall:
            raise ValueError(f"back_pain and leg_pain are 'absent' but nrs_overall is {self.nrs_overall}")
        return self


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
    motor_grade_weakest: int | None = Field(
        default=None, ge=0, le=5, description="MRC grade of the weakest muscle, 0-5 (5 = normal power)"
    )
    sensory_change: Presence = U
    deficit_type_unstated: Presence = Field(
        default=U, description="A neurological deficit is reported without saying whether motor or sensory"
    )
    peripheral_nerve_deficit: Presence = Field(
        default=U, description="A deficit confined to one peripheral nerve's territory"
    )
    peripheral_nerve: PeripheralNerve = Field(
        default=PeripheralNerve.unknown, description="Which nerve's territory the deficit follows"
    )
    arm_signs: Presence = Field(default=U, description="Weakness, numbness or reflex change in an arm")
    four_limb_signs: Presence = Field(default=U, description="Weakness or sensory change in all four limbs")
    bulbar_signs: Presence = Field(default=U, description="Facial weakness, dysarthria or other cranial nerve signs")
    reflexes: tuple[ReflexExam, ...] = Field(default=(), description="Tendon reflexes examined, e.g. left ankle absent")
    straight_leg_raise: Presence = U
    crossed_straight_leg_raise: Presence = Field(default=U, description="Raising the other leg brings on the pain")
    femoral_stretch_test: Presence = Field(default=U, description="Positive femoral nerve stretch test")
    spinal_tenderness: Presence = Field(default=U, description="Tenderness over the spinous processes")
    lumbar_movement_restricted: Presence = Field(default=U, description="Lumbar range of movement limited or stiff")
    ascending_weakness: Presence = Field(
        default=U, description="Weakness spreading upwards from the feet over days (as in Guillain-Barré syndrome)"
    )
    operative_site_swelling: Presence = Field(default=U, description="Swelling or a mass at the operative site")
    functional_signs: Presence = Field(
        default=U, description="Positive signs of functional weakness: Hoover's sign, give-way weakness, inconsistency"
    )
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

    @model_validator(mode="after")
    def _consistent(self) -> Examination:
        grade = self.motor_grade_weakest
        if grade is not None and grade < 5 and self.motor_deficit is Presence.absent:
            raise ValueError(f"motor_deficit is 'absent' but motor_grade_weakest is {grade}/5")
        if grade == 5 and self.motor_deficit is Presence.present:
            raise ValueError("motor_deficit is 'present' but motor_grade_weakest is 5/5 (normal power)")
        nerve = self.peripheral_nerve
        if nerve is not PeripheralNerve.unknown and self.peripheral_nerve_deficit is Presence.absent:
            raise ValueError(f"peripheral_nerve is '{nerve.value}' but peripheral_nerve_deficit is 'absent'")
        return self


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


# ---- signs that call for action today, beyond the red-flag questions above (DVT/PE, limb ischaemia, bleeding after
# an anterior or lateral approach, airway and swallowing after anterior cervical surgery, myelopathy, suicide) ----


class UrgentSigns(_Model):
    """Signs of complications that need action today; each is read by a red flag in red_flags.yaml."""

    bilateral_leg_symptoms_new: Presence = Field(
        default=U, description="Pain, numbness or weakness in both legs, new since the operation or worse in 14 days"
    )
    dvt_signs: Presence = Field(default=U, description="A swollen, tender or painful leg (calf or whole leg)")
    pe_signs: Presence = Field(
        default=U, description="Sudden breathlessness, pleuritic chest pain, haemoptysis, or unexplained tachycardia"
    )
    limb_ischaemia: Presence = Field(default=U, description="A new cold, pale, pulseless or numb leg")
    haemodynamic_instability: Presence = Field(
        default=U, description="Hypotension, tachycardia or a falling haemoglobin"
    )
    neck_swelling: Presence = Field(
        default=U, description="Swelling of the neck or wound after anterior cervical surgery"
    )
    airway_compromise: Presence = Field(default=U, description="Stridor, noisy or laboured breathing, or choking")
    dysphagia_new: Presence = Field(default=U, description="New or worsening difficulty swallowing")
    myelopathy_signs_new: Presence = Field(
        default=U,
        description="New or worsening gait disturbance, hand clumsiness, Hoffmann sign, hyperreflexia or Lhermitte",
    )
    shoulder_abduction_weakness_new: Presence = Field(
        default=U, description="New deltoid or biceps weakness after cervical surgery (C5 palsy)"
    )
    recent_bacteraemia: Presence = Field(
        default=U, description="Bacteraemia, endocarditis or an infection elsewhere in the last 3 months"
    )
    suicidal_plan_or_intent: Presence = Field(default=U, description="A plan or intent to act on thoughts of suicide")


class RedFlagScreen(_Model):
    """The whole red-flag screen answered 'no' in one step, by whom and when; an item recorded present still counts."""

    result: Literal["negative"] = "negative"
    by: str = Field(min_length=1, max_length=200)
    at: dt.datetime = Field(description="When it was recorded; a time without a zone is read as UTC")

    @field_validator("at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class RiskFactors(_Model):
    """Risk factors and other conditions (comorbidities)."""

    diabetes: Presence = U
    osteoporosis: Presence = U
    osteopenia: Presence = Field(default=U, description="Low bone density short of osteoporosis")
    dexa_t_score: float | None = Field(default=None, ge=-8, le=5, description="Lowest DEXA T-score (spine or hip)")
    osteoporosis_treated: Presence = Field(
        default=U, description="On bone-protective treatment (bisphosphonate, denosumab, teriparatide ...)"
    )
    hypertension: Presence = U
    heart_disease: Presence = U
    chronic_kidney_disease: Presence = U
    inflammatory_arthritis: Presence = Field(default=U, description="Rheumatoid arthritis or spondyloarthritis")
    parkinsons_disease: Presence = U
    fibromyalgia: Presence = U
    other_conditions: tuple[str, ...] = Field(
        default=(), max_length=30, description="Other conditions, in words (e.g. 'prostate hyperplasia')"
    )
    smoking: Presence = U
    bmi: float | None = Field(default=None, ge=10, le=90)
    peripheral_vascular_disease: Presence = U
    peripheral_neuropathy: Presence = U
    hip_arthritis: Presence = U
    long_term_steroids: Presence = U

    @field_validator("other_conditions")
    @classmethod
    def _conditions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(v.strip() for v in value)
        for item in cleaned:
            if not item or len(item) > 100:
                raise ValueError(f"each condition needs 1-100 characters, got {item!r}")
        return cleaned

    @model_validator(mode="after")
    def _bone(self) -> RiskFactors:
        t = self.dexa_t_score
        if t is not None and t <= -2.5 and self.osteoporosis is Presence.absent:
            raise ValueError(f"osteoporosis is 'absent' but dexa_t_score {t} is in its range (-2.5 or less)")
        if t is not None and t > -1 and Presence.present in (self.osteoporosis, self.osteopenia):
            raise ValueError(f"dexa_t_score {t} is normal (above -1) but osteoporosis or osteopenia is 'present'")
        return self


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
    response: TreatmentResponse = Field(
        default=TreatmentResponse.unknown,
        description="The response in words when no percentage is given: worse, none, partial, marked, complete",
    )
    relief_weeks: float | None = Field(default=None, ge=0, le=1000)
    side: Side = Side.unknown
    levels: tuple[Segment, ...] = ()
    note: str | None = Field(default=None, max_length=500)

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_segments(list(value)))

    @model_validator(mode="after")
    def _response_matches_relief(self) -> PriorTreatment:
        band = RESPONSE_RELIEF.get(self.response)
        if band is not None and self.relief_percent is not None and not band[0] <= self.relief_percent <= band[1]:
            raise ValueError(
                f"response '{self.response.value}' means {band[0]:g}-{band[1]:g} % relief, "
                f"but relief_percent is {self.relief_percent}"
            )
        return self


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

    schema_version: str = Field(
        default=SCHEMA_VERSION, description="Case schema version; files without one are version 1 and are migrated"
    )
    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    assessment_date: dt.date | None = None
    patient: Patient = Patient()
    index_surgery: Surgery
    earlier_surgeries: tuple[Surgery, ...] = ()
    total_spine_operations: int | None = Field(default=None, ge=1, le=30)
    course: Course = Course()
    pain: Pain = Pain()
    exam: Examination = Examination()
    function: Function = Function()
    systemic: SystemicSigns = SystemicSigns()
    red_flags: RedFlagItems = RedFlagItems()
    urgent_signs: UrgentSigns = UrgentSigns()
    red_flag_screen: RedFlagScreen | None = None
    risk_factors: RiskFactors = RiskFactors()
    alignment: Alignment = Alignment()
    psychosocial: Psychosocial = Psychosocial()
    work: Work = Work()
    planning: Planning = Planning()
    prior_treatments: tuple[PriorTreatment, ...] = ()
    studies: tuple[Study, ...] = ()
    diagnostics: tuple[DiagnosticResult, ...] = ()
    labs: tuple[LabResult, ...] = ()
    notes: str | None = Field(default=None, max_length=5000)

    @model_validator(mode="before")
    @classmethod
    def _migrate(cls, data: Any) -> Any:
        return migrate(data) if isinstance(data, dict) else data

    @field_validator("schema_version")
    @classmethod
    def _schema(cls, value: str) -> str:
        if value != SCHEMA_VERSION:
            raise ValueError(
                f"this version reads case schema {SCHEMA_VERSION!r} (and migrates older ones), got {value!r}"
            )
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
