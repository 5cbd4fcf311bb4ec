"""Facts computed once from a case (time since surgery, what was fused, ...), read by knowledge as `derived.*`."""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum

from fbss.case.model import (
    Approach,
    Case,
    DiagnosticResult,
    Presence,
    RedFlagScreen,
    SpineRegion,
    Surgery,
    SurgeryType,
)
from fbss.case.vocabulary import REGIONS, level_index, segment_regions

DAYS_PER_MONTH = 30.4375


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
    # ---- the operated region and the approach (red flags differ by region) ----
    region: SpineRegion  # the index operation's region: given, else the most caudal region its levels reach
    cervical_operated: Presence  # the index operation reaches the cervical spine
    thoracic_operated: Presence
    lumbar_operated: Presence
    anterior_cervical_approach: Presence  # ACDF, corpectomy or cervical disc arthroplasty from the front
    anterior_or_lateral_lumbar_approach: Presence  # ALIF, OLIF or lateral transpsoas: great vessels and retroperitoneum
    red_flag_screen_negative: Presence  # the red-flag screen was answered 'no' for this visit
    red_flag_screen: RedFlagScreen | None  # who recorded it and when (also when it is from an earlier visit)
    study_days: dict[str, int | None]  # modality -> days before the assessment of its latest study (None: undated)
    seen_on: dict[str, dict[str, str]]  # diagnostic finding -> modality it was recorded present on -> where


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
    regions = operated_regions(index)
    region = regions[-1]
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
        region=region,
        cervical_operated=_P if SpineRegion.cervical in regions else _A,
        thoracic_operated=_P if SpineRegion.thoracic in regions else _A,
        lumbar_operated=_P if SpineRegion.lumbar in regions else _A,
        anterior_cervical_approach=_anterior_cervical(index, regions),
        anterior_or_lateral_lumbar_approach=_P if any(s.approach in _ABDOMINAL_APPROACHES for s in surgeries) else _A,
        red_flag_screen_negative=_screen(case),
        red_flag_screen=case.red_flag_screen,
        study_days=_study_days(case),
        seen_on=_seen_on(case),
    )


def operated_regions(surgery: Surgery) -> tuple[SpineRegion, ...]:
    """The regions an operation reaches, head to tail: the given region, else its levels, else lumbar."""
    if surgery.region is not None:
        return (surgery.region,)
    found = frozenset().union(*(segment_regions(level) for level in surgery.levels))
    return tuple(SpineRegion(r) for r in REGIONS if r in found) or (SpineRegion.lumbar,)


def _anterior_cervical(index: Surgery, regions: tuple[SpineRegion, ...]) -> Presence:
    if SpineRegion.cervical not in regions:
        return _A
    if index.approach is Approach.anterior:
        return _P
    return _U if index.approach is Approach.unknown else _A


def _study_days(case: Case) -> dict[str, int | None]:
    """How many days before the assessment each kind of study was last done; None when undated (or no date to
    count from), which is read as done at this visit."""
    latest: dict[str, int | None] = {}
    dated = [(s.modality.value, s.date) for s in case.studies]
    dated += [(d.modality.value, d.date) for d in case.diagnostics if d.presence is Presence.present]
    for modality, when in dated:
        days = None if when is None or case.assessment_date is None else (case.assessment_date - when).days
        seen = latest.get(modality, days)
        if modality not in latest or days is None or (seen is not None and days < seen):
            latest[modality] = days
    return latest


def where(result: DiagnosticResult) -> str | None:
    """Where a diagnostic finding was seen: 'L4-L5 left ct'."""
    side = result.side.value if result.side.value != "unknown" else None
    return " ".join(x for x in (result.level, side, result.modality.value) if x) or None


def _seen_on(case: Case) -> dict[str, dict[str, str]]:
    """Each diagnostic finding recorded present, by the kind of study that showed it (its first such result)."""
    seen: dict[str, dict[str, str]] = {}
    for d in case.diagnostics:
        if d.presence is Presence.present:
            seen.setdefault(d.finding.value, {}).setdefault(d.modality.value, where(d) or d.modality.value)
    return seen


def _screen(case: Case) -> Presence:
    """A negative screen counts for the visit it was recorded at (on the assessment date or later)."""
    screen = case.red_flag_screen
    if screen is None:
        return _U
    if case.assessment_date is not None and screen.at.date() < case.assessment_date:
        return _U
    return _P


# decompressions and discectomies carry no implants unless the case says so
_MAY_BE_INSTRUMENTED = {SurgeryType.fusion, SurgeryType.disc_arthroplasty, SurgeryType.other}
_INTERBODY = {Approach.anterior, Approach.tlif, Approach.plif, Approach.alif, Approach.lateral, Approach.olif}
_INSTRUMENTED_APPROACHES = _INTERBODY
_CAGE_APPROACHES = _INTERBODY
_ABDOMINAL_APPROACHES = {Approach.alif, Approach.lateral, Approach.olif}

DERIVED_FIELDS: dict[str, str] = {f.name: str(f.type) for f in fields(DerivedFacts)}
