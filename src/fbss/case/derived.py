"""Facts computed once from a case (time since surgery, what was fused, ...), read by knowledge as `derived.*`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from enum import StrEnum

from fbss.case.levels import LevelRelation, relation_to_spans, span
from fbss.case.model import (
    Approach,
    Case,
    DiagnosticResult,
    Intensity,
    Patient,
    Presence,
    RedFlagScreen,
    Sex,
    SpineRegion,
    Surgery,
    SurgeryType,
)
from fbss.case.vocabulary import (
    MODALITY_LABEL,
    REGIONS,
    ROOT_OF_REFLEX,
    DiagnosticFinding,
    Modality,
    ReflexState,
    level_index,
    segment_regions,
)

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
    SurgeryType.discectomy: SurgeryGroup.discectomy,
    SurgeryType.laminotomy: SurgeryGroup.decompression,
    SurgeryType.laminectomy: SurgeryGroup.decompression,
    SurgeryType.foraminotomy: SurgeryGroup.decompression,
    SurgeryType.fusion: SurgeryGroup.fusion,
    SurgeryType.disc_arthroplasty: SurgeryGroup.arthroplasty,
    SurgeryType.dynamic_stabilisation: SurgeryGroup.other,
    SurgeryType.interspinous_device: SurgeryGroup.other,
    SurgeryType.implant_removal: SurgeryGroup.other,
    SurgeryType.other: SurgeryGroup.other,
    SurgeryType.unknown: SurgeryGroup.other,
}

_P, _A, _U = Presence.present, Presence.absent, Presence.unknown
_NOT = {_P: _A, _A: _P, _U: _U}


def _any(values: Iterable[Presence]) -> Presence:
    seen = set(values)
    if _P in seen:
        return _P
    return _U if _U in seen else _A


@dataclass(frozen=True, slots=True)
class LevelledFinding:
    """A study finding with a level, and where that level lies relative to the operated segments."""

    finding: DiagnosticFinding
    presence: Presence
    level: str
    relation: LevelRelation


@dataclass(frozen=True, slots=True)
class DerivedFacts:
    """Values the engine needs that are not typed in directly."""

    surgery_group: SurgeryGroup
    months_since_surgery: float | None
    timing_unknown: Presence  # present when neither the interval nor both dates are recorded
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
    decompression_performed: Presence  # a laminotomy, laminectomy or foraminotomy, alone or with another procedure
    anterior_or_lateral_access: Presence  # ALIF, OLIF or lateral transpsoas: retroperitoneal access to the spine
    staged_operation: Presence
    dural_tear: Presence  # in any operation
    implants_removed: Presence  # in any operation
    back_pain: Presence  # as stated, else from the NRS, the words or the back share
    leg_pain: Presence
    back_pain_band: Intensity  # the NRS in bands (Serlin 1995), else the words
    leg_pain_band: Intensity
    worst_pain_band: Intensity  # the worse of back and leg, or the single overall score when not scored apart
    neurological_deficit: Presence  # motor, sensory, of unstated type, or a reduced or absent reflex
    reflex_reduced: Presence  # any tendon reflex reduced or absent
    reflex_reduced_l4: Presence  # knee jerk
    reflex_reduced_s1: Presence  # ankle jerk
    reflex_brisk: Presence
    areflexia: Presence  # knee and ankle jerks reduced or absent, none normal
    pi_ll_mismatch_deg: float | None  # pelvic incidence minus lumbar lordosis
    operated_segments: tuple[str, ...]  # every operated segment, index and earlier operations
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
    pregnant: Presence  # as answered; absent for a man or from 55 when not answered


def pregnancy_ruled_out(patient: Patient) -> bool:
    """True when pregnancy need not be asked about: a man, or a patient aged 55 or more."""
    return patient.sex is Sex.male or (patient.age is not None and patient.age >= NO_PREGNANCY_FROM_AGE)


def _procedures(surgery: Surgery) -> set[SurgeryType]:
    return {surgery.type, *surgery.combined_with}


def _done(every: set[SurgeryType], kinds: set[SurgeryType]) -> Presence:
    """Present if any operation included one of `kinds`; unknown if an operation of unknown type might have."""
    if every & kinds:
        return _P
    return _U if SurgeryType.unknown in every else _A


def _fusion_extent(fusions: list[Surgery], fusion: Presence) -> tuple[Presence, Presence]:
    """(fused to the sacrum, fused over two or more segments), unknown where a fusion's levels are not known."""
    if fusion is _A:
        return _A, _A
    levels = [lvl for s in fusions for lvl in s.levels]
    levels_missing = fusion is _U or any(not s.levels for s in fusions)
    to_sacrum = _P if any(lvl.endswith(("S1", "S2")) for lvl in levels) else (_U if levels_missing else _A)
    spans = sum(level_index(lvl.split("-")[1]) - level_index(lvl.split("-")[0]) for lvl in levels)
    multilevel = _P if spans >= 2 else (_U if levels_missing else _A)
    return to_sacrum, multilevel


# Serlin RC et al. Pain 1995;61:277-84: on the 0-10 NRS, 1-4 is mild, 5-6 moderate, 7-10 severe
_BAND_FLOORS = ((7, Intensity.severe), (5, Intensity.moderate), (1, Intensity.mild), (0, Intensity.none))


def _band(nrs: int | None, words: Intensity, stated: Presence) -> Intensity:
    if nrs is None:
        return Intensity.none if stated is _A else words
    return next(band for floor, band in _BAND_FLOORS if nrs >= floor)


_BAND_ORDER = {Intensity.none: 0, Intensity.mild: 1, Intensity.moderate: 2, Intensity.severe: 3}


def _worst_band(back: Intensity, leg: Intensity, overall: int | None) -> Intensity:
    """The worse band; unknown unless it is settled by both parts, a severe part, or the overall score."""
    known = [b for b in (back, leg, _band(overall, Intensity.unknown, _U)) if b is not Intensity.unknown]
    worst = max(known, key=_BAND_ORDER.__getitem__, default=Intensity.unknown)
    settled = overall is not None or worst is Intensity.severe or len(known) >= 2
    return worst if settled else Intensity.unknown


def _pain_present(stated: Presence, band: Intensity, share: int | None) -> Presence:
    if stated is not _U:
        return stated
    if band is not Intensity.unknown:
        return _A if band is Intensity.none else _P
    if share is not None:
        return _P if share > 0 else _A
    return _U


def _deficit(case: Case, reflex_reduced: Presence) -> Presence:
    exam = case.exam
    stated = (exam.motor_deficit, exam.sensory_change, exam.deficit_type_unstated, exam.peripheral_nerve_deficit)
    if _P in stated or reflex_reduced is _P:
        return _P
    return _A if exam.motor_deficit is _A and exam.sensory_change is _A else _U


_LOW = {ReflexState.reduced, ReflexState.absent}


def _reflexes(case: Case) -> tuple[Presence, Presence, Presence, Presence, Presence]:
    """(any reduced, knee reduced, ankle reduced, any brisk, areflexia) from the reflexes examined."""
    rows = case.exam.reflexes
    if not rows:
        return _U, _U, _U, _U, _U

    def reduced_at(root: str | None) -> Presence:
        chosen = [r for r in rows if root is None or ROOT_OF_REFLEX.get(r.reflex) == root]
        if any(r.state in _LOW for r in chosen):
            return _P
        return _A if chosen else _U

    brisk = _P if any(r.state is ReflexState.brisk for r in rows) else _A
    knee, ankle = reduced_at("L4"), reduced_at("S1")
    some_normal = any(r.state not in _LOW for r in rows)
    areflexia = _A if some_normal else (_P if knee is _P and ankle is _P else _U)
    return reduced_at(None), knee, ankle, brisk, areflexia


def levelled_findings(case: Case, derived: DerivedFacts) -> tuple[LevelledFinding, ...]:
    """Every study finding with a level, and where that level lies relative to the operated segments.

    Computed on request rather than in `derive` (most assessments do not need it).
    """
    with_level = [d for d in case.diagnostics if d.level is not None]
    if not with_level:
        return ()
    spans = [span(s) for s in derived.operated_segments]
    return tuple(
        LevelledFinding(d.finding, d.presence, d.level, relation_to_spans(d.level, spans))
        for d in with_level
        if d.level is not None
    )


def _access(operations: list[tuple[Surgery, set[SurgeryType]]], approaches: set[Approach]) -> Presence:
    """Retroperitoneal access (ALIF, OLIF, lateral); unknown when a fusion or disc replacement gives no approach."""
    if approaches & _RETROPERITONEAL:
        return _P
    if any(s.approach is Approach.unknown and done & _MAY_BE_ANTERIOR for s, done in operations):
        return _U
    return _A


def derive(case: Case) -> DerivedFacts:
    """Compute the derived facts of a case (pure)."""
    surgeries = (case.index_surgery, *case.earlier_surgeries)
    index = case.index_surgery
    months = case.course.months_since_surgery
    if months is None and index.date and case.assessment_date:
        months = round((case.assessment_date - index.date).days / DAYS_PER_MONTH, 2)
    operations = [(s, _procedures(s)) for s in surgeries]
    every = {kind for _, done in operations for kind in done}
    fusions = [s for s, done in operations if SurgeryType.fusion in done]
    fusion = _done(every, {SurgeryType.fusion})
    instrumented = _any(s.instrumented for s, done in operations if done & _MAY_BE_INSTRUMENTED or s.instrumented is _P)
    if instrumented is not _P and SurgeryType.dynamic_stabilisation in every:
        instrumented = _P
    if fusions and instrumented is _U and any(s.approach in _INSTRUMENTED_APPROACHES for s in fusions):
        instrumented = _P
    to_sacrum, multilevel = _fusion_extent(fusions, fusion)
    cage = _any(s.interbody_cage for s in fusions) if fusions else _A
    if fusions and cage is _U and any(s.approach in _CAGE_APPROACHES for s in fusions):
        cage = _P
    approaches = {a for s in surgeries for a in (s.approach, *s.other_approaches)}
    graft = _any(s.iliac_crest_graft for s in fusions) if fusions else _A
    pain = case.pain
    back_share = pain.back_share_percent
    leg_share = None if back_share is None else 100 - back_share
    back_band = _band(pain.nrs_back, pain.back_intensity, pain.back_pain)
    leg_band = _band(pain.nrs_leg, pain.leg_intensity, pain.leg_pain)
    removed = [s.implants_removed for s in surgeries if s.type is not SurgeryType.implant_removal]
    any_removed = _P if any(s.type is SurgeryType.implant_removal for s in surgeries) else _any(removed)
    reduced, knee, ankle, brisk, areflexia = _reflexes(case)
    alignment = case.alignment
    mismatch = (
        None
        if alignment.pelvic_incidence_deg is None or alignment.lumbar_lordosis_deg is None
        else round(alignment.pelvic_incidence_deg - alignment.lumbar_lordosis_deg, 1)
    )
    operated = tuple(dict.fromkeys(lvl for s in surgeries for lvl in s.levels))
    regions = operated_regions(index)
    return DerivedFacts(
        surgery_group=_GROUP[index.type],
        months_since_surgery=months,
        timing_unknown=_P if months is None else _A,
        operations=case.total_spine_operations or len(surgeries),
        fusion_performed=fusion,
        instrumented=instrumented,
        interbody_cage=cage,
        lateral_approach=_P if Approach.lateral in approaches else _A,
        fused_to_sacrum=to_sacrum,
        multilevel_fusion=multilevel,
        iliac_crest_graft=graft,
        discectomy_performed=_done(every, _DISCECTOMIES),
        leg_share_percent=leg_share,
        mri_unsafe_device=_any(_NOT[d.mri_conditional] for d in case.patient.devices),
        decompression_performed=_done(every, _DECOMPRESSIONS),
        anterior_or_lateral_access=_access(operations, approaches),
        staged_operation=_any(s.staged for s in surgeries),
        dural_tear=_any(s.dural_tear for s in surgeries),
        implants_removed=any_removed,
        back_pain=_pain_present(pain.back_pain, back_band, back_share),
        leg_pain=_pain_present(pain.leg_pain, leg_band, leg_share),
        back_pain_band=back_band,
        leg_pain_band=leg_band,
        worst_pain_band=_worst_band(back_band, leg_band, pain.nrs_overall),
        neurological_deficit=_deficit(case, reduced),
        reflex_reduced=reduced,
        reflex_reduced_l4=knee,
        reflex_reduced_s1=ankle,
        reflex_brisk=brisk,
        areflexia=areflexia,
        pi_ll_mismatch_deg=mismatch,
        operated_segments=operated,
        region=regions[-1],
        cervical_operated=_P if SpineRegion.cervical in regions else _A,
        thoracic_operated=_P if SpineRegion.thoracic in regions else _A,
        lumbar_operated=_P if SpineRegion.lumbar in regions else _A,
        anterior_cervical_approach=_anterior_cervical(index, regions),
        anterior_or_lateral_lumbar_approach=_P if approaches & _RETROPERITONEAL else _A,
        red_flag_screen_negative=_screen(case),
        red_flag_screen=case.red_flag_screen,
        study_days=_study_days(case),
        seen_on=_seen_on(case),
        pregnant=_A if case.patient.pregnant is _U and pregnancy_ruled_out(case.patient) else case.patient.pregnant,
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
    """Where a diagnostic finding was seen: 'L4-L5, left, CT'."""
    side = result.side.value if result.side.value != "unknown" else None
    study = MODALITY_LABEL[result.modality] if result.modality is not Modality.other else None
    return ", ".join(x for x in (result.level, side, study) if x) or None


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
_MAY_BE_INSTRUMENTED = {SurgeryType.fusion, SurgeryType.disc_arthroplasty, SurgeryType.other, SurgeryType.unknown}
_INTERBODY = {Approach.anterior, Approach.tlif, Approach.plif, Approach.alif, Approach.lateral, Approach.olif}
_INSTRUMENTED_APPROACHES = _INTERBODY  # an anterior cervical fusion has a cage and usually a plate
_CAGE_APPROACHES = _INTERBODY
_RETROPERITONEAL = {Approach.alif, Approach.lateral, Approach.olif}
_MAY_BE_ANTERIOR = {SurgeryType.fusion, SurgeryType.disc_arthroplasty, SurgeryType.other, SurgeryType.unknown}
_DISCECTOMIES = {SurgeryType.microdiscectomy, SurgeryType.endoscopic_discectomy, SurgeryType.discectomy}
_DECOMPRESSIONS = {SurgeryType.laminotomy, SurgeryType.laminectomy, SurgeryType.foraminotomy}

DERIVED_FIELDS: dict[str, str] = {f.name: str(f.type) for f in fields(DerivedFacts)}
