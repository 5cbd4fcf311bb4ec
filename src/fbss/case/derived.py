"""Facts computed once from a case (time since surgery, what was fused, ...), read by knowledge as `derived.*`."""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum

from fbss.case.model import Approach, Case, Patient, Presence, Sex, SurgeryType
from fbss.case.vocabulary import level_index

DAYS_PER_MONTH = 30.4375
# Pregnancy is not asked about from this age on (expert estimate: spontaneous pregnancy after 55 is vanishingly rare;
# radiology pregnancy screening is usually for ages 12-50). An answer given is always used.
NO_PREGNANCY_FROM_AGE = 55


class SurgeryGroup(StrEnum):
    """Index surgeries grouped the way cause frequencies are reported."""

    discectomy = "discectomy"
    decompression = "decompression"
    fusion = "fusion"
    arthroplasty = "arthroplasty"
    other = "other"


_GROUP = {
    SurgeryType.microdiscectomy: SurgeryGroup.discectomy,
    SurgeryType.endoscopic_discectomy: SurgeryGroup.discectomy,
    SurgeryType.laminotomy: SurgeryGroup.decompression,
    SurgeryType.laminectomy: SurgeryGroup.decompression,
    SurgeryType.foraminotomy: SurgeryGroup.decompression,
    SurgeryType.fusion: SurgeryGroup.fusion,
    SurgeryType.disc_arthroplasty: SurgeryGroup.arthroplasty,
    SurgeryType.other: SurgeryGroup.other,
}

_P, _A, _U = Presence.present, Presence.absent, Presence.unknown
_NOT = {_P: _A, _A: _P, _U: _U}


def _any(values: list[Presence]) -> Presence:
    if _P in values:
        return _P
    return _U if _U in values else _A


@dataclass(frozen=True, slots=True)
class DerivedFacts:
    """Values the engine needs that are not typed in directly."""

    surgery_group: SurgeryGroup
    months_since_surgery: float | None
    operations: int
    fusion_performed: Presence
    instrumented: Presence
    interbody_cage: Presence
    lateral_approach: Presence
    fused_to_sacrum: Presence
    multilevel_fusion: Presence
    iliac_crest_graft: Presence
    discectomy_performed: Presence
    leg_share_percent: int | None
    mri_unsafe_device: Presence  # an implant that is not MRI-conditional (unknown if its status is unknown)
    pregnant: Presence  # as answered; absent for a man or from 55 when not answered


def pregnancy_ruled_out(patient: Patient) -> bool:
    """True when pregnancy need not be asked about: a man, or a patient aged 55 or more."""
    return patient.sex is Sex.male or (patient.age is not None and patient.age >= NO_PREGNANCY_FROM_AGE)


def derive(case: Case) -> DerivedFacts:
    """Compute the derived facts of a case (pure)."""
    surgeries = (case.index_surgery, *case.earlier_surgeries)
    index = case.index_surgery
    months = case.course.months_since_surgery
    if months is None and index.date and case.assessment_date:
        months = round((case.assessment_date - index.date).days / DAYS_PER_MONTH, 2)
    fusions = [s for s in surgeries if s.type is SurgeryType.fusion]
    fusion = _P if fusions else _A
    instrumented = _any([s.instrumented for s in surgeries if s.type in _MAY_BE_INSTRUMENTED or s.instrumented is _P])
    if fusions and instrumented is _U and any(s.approach in _INSTRUMENTED_APPROACHES for s in fusions):
        instrumented = _P
    to_sacrum = _A
    multilevel = _A
    if fusions:
        levels = [lvl for s in fusions for lvl in s.levels]
        if not levels:
            to_sacrum = multilevel = _U
        else:
            to_sacrum = _P if any(lvl.endswith("S1") or lvl.endswith("S2") for lvl in levels) else _A
            spans = [level_index(lvl.split("-")[1]) - level_index(lvl.split("-")[0]) for lvl in levels]
            multilevel = _P if sum(spans) >= 2 else _A
    cage = _any([s.interbody_cage for s in fusions]) if fusions else _A
    if fusions and cage is _U and any(s.approach in _CAGE_APPROACHES for s in fusions):
        cage = _P
    lateral = _P if any(s.approach is Approach.lateral for s in surgeries) else _A
    graft = _any([s.iliac_crest_graft for s in fusions]) if fusions else _A
    discectomy = _P if any(_GROUP[s.type] is SurgeryGroup.discectomy for s in surgeries) else _A
    back = case.pain.back_share_percent
    return DerivedFacts(
        surgery_group=_GROUP[index.type],
        months_since_surgery=months,
        operations=case.total_spine_operations or len(surgeries),
        fusion_performed=fusion,
        instrumented=instrumented,
        interbody_cage=cage,
        lateral_approach=lateral,
        fused_to_sacrum=to_sacrum,
        multilevel_fusion=multilevel,
        iliac_crest_graft=graft,
        discectomy_performed=discectomy,
        leg_share_percent=None if back is None else 100 - back,
        mri_unsafe_device=_any([_NOT[d.mri_conditional] for d in case.patient.devices]),
        pregnant=_A if case.patient.pregnant is _U and pregnancy_ruled_out(case.patient) else case.patient.pregnant,
    )


# decompressions and discectomies carry no implants unless the case says so
_MAY_BE_INSTRUMENTED = {SurgeryType.fusion, SurgeryType.disc_arthroplasty, SurgeryType.other}
_INSTRUMENTED_APPROACHES = {Approach.tlif, Approach.plif, Approach.alif, Approach.lateral, Approach.olif}
_CAGE_APPROACHES = {Approach.tlif, Approach.plif, Approach.alif, Approach.lateral, Approach.olif}

DERIVED_FIELDS: dict[str, str] = {f.name: str(f.type) for f in fields(DerivedFacts)}
