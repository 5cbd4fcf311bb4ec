"""Parts of a case that describe the presentation beyond pain and examination: function and work, general and
visceral signs, spinopelvic alignment, and the reflexes examined."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from fbss.case.base import CaseModel, Presence, Side, U
from fbss.case.vocabulary import Reflex, ReflexState


class ReflexExam(CaseModel):
    """One tendon reflex as examined, e.g. the left ankle jerk absent."""

    reflex: Reflex
    side: Side = Side.unknown
    state: ReflexState


class Function(CaseModel):
    """Walking and disability at this assessment."""

    walking_distance_m: int | None = Field(
        default=None, ge=0, le=50_000, description="How far the patient can walk before stopping, in metres"
    )
    unable_to_walk: Presence = U
    walking_aid: Presence = Field(default=U, description="Uses a stick, crutches, frame or wheelchair")
    odi_percent: float | None = Field(
        default=None, ge=0, le=100, description="Oswestry Disability Index at this assessment, 0-100 %"
    )
    rmdq_total: int | None = Field(
        default=None, ge=0, le=24, description="Roland-Morris Disability Questionnaire, 0-24 (24 = most disabled)"
    )
    lefs_total: int | None = Field(
        default=None, ge=0, le=80, description="Lower Extremity Functional Scale, 0-80 (0 = most disabled)"
    )

    @model_validator(mode="after")
    def _walking(self) -> Function:
        if self.unable_to_walk is Presence.present and self.walking_distance_m:
            raise ValueError(
                f"walking_distance_m is {self.walking_distance_m} but unable_to_walk is 'present'; "
                "give 0 or leave the distance out"
            )
        return self


class WorkStatus(StrEnum):
    working = "working"
    working_reduced = "working_reduced"  # reduced hours or modified duties
    off_sick = "off_sick"  # off work because of the pain
    unemployed = "unemployed"
    retired = "retired"
    student = "student"
    homemaker = "homemaker"
    unknown = "unknown"


class Work(CaseModel):
    """Occupation and work status."""

    occupation: str | None = Field(default=None, max_length=100, description="In the patient's words, e.g. 'nurse'")
    physically_demanding: Presence = Field(default=U, description="Heavy lifting, bending or long standing at work")
    status: WorkStatus = WorkStatus.unknown
    months_off_work: float | None = Field(default=None, ge=0, le=600)

    @model_validator(mode="after")
    def _off_work(self) -> Work:
        if self.months_off_work and self.status in (WorkStatus.working, WorkStatus.student):
            raise ValueError(f"months_off_work is {self.months_off_work} but status is '{self.status.value}'")
        return self


class SystemicSigns(CaseModel):
    """General, visceral and haemodynamic signs (e.g. after an anterior or lateral approach)."""

    nausea: Presence = U
    vomiting: Presence = U
    abdominal_distension: Presence = Field(default=U, description="Distended abdomen or ileus")
    haematuria: Presence = U
    hypotension: Presence = Field(default=U, description="Low blood pressure")
    tachycardia: Presence = U
    haemoglobin_falling: Presence = Field(default=U, description="Haemoglobin falling on repeated measurements")
    headache: Presence = Field(default=U, description="Headache of any kind (positional headache is under pain)")
    dizziness: Presence = U
    peritoneal_signs: Presence = Field(default=U, description="Abdominal tenderness with guarding or rebound")
    reduced_consciousness: Presence = Field(default=U, description="Drowsy, confused or less responsive")


class Alignment(CaseModel):
    """Spinopelvic parameters measured on standing full-length films, and coronal balance."""

    pelvic_incidence_deg: float | None = Field(default=None, ge=10, le=110, description="Pelvic incidence (PI), °")
    lumbar_lordosis_deg: float | None = Field(
        default=None, ge=-60, le=110, description="Lumbar lordosis (LL, L1-S1), ° (negative = kyphosis)"
    )
    pelvic_tilt_deg: float | None = Field(default=None, ge=-30, le=70, description="Pelvic tilt (PT), °")
    sagittal_vertical_axis_mm: float | None = Field(
        default=None, ge=-200, le=400, description="C7 sagittal vertical axis (SVA), mm (positive = forward)"
    )
    coronal_offset_mm: float | None = Field(
        default=None, ge=0, le=300, description="C7 plumb line to the central sacral vertical line, mm"
    )
    coronal_imbalance: Presence = Field(default=U, description="Trunk shifted to one side (clinical or on films)")
