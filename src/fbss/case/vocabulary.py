"""The coded vocabularies a case is written in: diagnostic findings, modalities, labs, treatments, spine levels."""

from __future__ import annotations

import re
from enum import StrEnum


class DiagnosticFinding(StrEnum):
    """A finding reported by imaging, electrodiagnostics or another diagnostic study."""

    # disc and scar
    recurrent_disc_herniation = "recurrent_disc_herniation"
    residual_disc_herniation = "residual_disc_herniation"  # retained fragment / incomplete discectomy
    epidural_fibrosis = "epidural_fibrosis"  # enhancing epidural scar
    arachnoiditis = "arachnoiditis"  # clumped or peripherally adherent roots
    disc_degeneration = "disc_degeneration"
    annular_fissure = "annular_fissure"
    modic_changes = "modic_changes"
    # fusion and implants
    pseudarthrosis = "pseudarthrosis"
    screw_lucency = "screw_lucency"  # lucency or halo around a screw
    screw_loosening = "screw_loosening"
    screw_malposition = "screw_malposition"  # pedicle breach, foraminal or canal encroachment
    screw_fracture = "screw_fracture"
    rod_fracture = "rod_fracture"
    cage_migration = "cage_migration"
    cage_subsidence = "cage_subsidence"
    # degeneration, stenosis and alignment
    adjacent_segment_degeneration = "adjacent_segment_degeneration"
    adjacent_segment_stenosis = "adjacent_segment_stenosis"
    central_stenosis = "central_stenosis"
    lateral_recess_stenosis = "lateral_recess_stenosis"
    foraminal_stenosis = "foraminal_stenosis"
    spondylolisthesis = "spondylolisthesis"
    dynamic_instability = "dynamic_instability"  # abnormal motion on flexion-extension films
    facet_arthropathy = "facet_arthropathy"
    si_joint_arthropathy = "si_joint_arthropathy"
    sagittal_imbalance = "sagittal_imbalance"  # kyphosis, flatback, pelvic incidence-lumbar lordosis mismatch
    proximal_junctional_kyphosis = "proximal_junctional_kyphosis"
    paraspinal_muscle_atrophy = "paraspinal_muscle_atrophy"
    # complications
    discitis_osteomyelitis = "discitis_osteomyelitis"
    epidural_abscess = "epidural_abscess"
    epidural_haematoma = "epidural_haematoma"
    pseudomeningocele = "pseudomeningocele"
    fluid_collection = "fluid_collection"
    cauda_equina_compression = "cauda_equina_compression"  # severe compression of the cauda equina
    retroperitoneal_haematoma = "retroperitoneal_haematoma"  # retroperitoneal or psoas haematoma
    deep_vein_thrombosis = "deep_vein_thrombosis"
    pulmonary_embolism = "pulmonary_embolism"
    # fractures and tumour
    vertebral_fracture = "vertebral_fracture"
    sacral_fracture = "sacral_fracture"
    pars_or_pedicle_fracture = "pars_or_pedicle_fracture"
    metastasis_or_tumour = "metastasis_or_tumour"
    vertebral_erosion = "vertebral_erosion"  # erosion of an endplate or vertebral body (infection, tumour, wear)
    # soft tissue, dura and neural elements
    epidural_soft_tissue = "epidural_soft_tissue"  # epidural soft tissue not characterised as scar, disc or collection
    dural_enhancement = "dural_enhancement"  # thickened or enhancing dura or meninges
    intradural_lesion = "intradural_lesion"  # intradural or cord lesion: tumour, syrinx, tethering, dural AV fistula
    original_lesion_persists = "original_lesion_persists"  # the lesion operated on is still there, unchanged
    # alignment and bone
    coronal_imbalance = "coronal_imbalance"  # coronal malalignment on standing films
    low_bone_density = "low_bone_density"  # osteopenia or osteoporosis on imaging or densitometry
    # disc arthroplasty
    prosthesis_subsidence_or_migration = "prosthesis_subsidence_or_migration"  # of a disc replacement
    heterotopic_ossification = "heterotopic_ossification"
    # access complications (anterior and lateral approaches)
    retroperitoneal_mass = "retroperitoneal_mass"  # retroperitoneal or psoas mass or collection (haematoma, urinoma)
    vascular_injury = "vascular_injury"  # pseudoaneurysm, arteriovenous fistula, arterial or venous injury
    visceral_injury = "visceral_injury"  # bowel, ureter or bladder injury: free air, urinoma, contrast leak
    # normal
    postoperative_changes_only = "postoperative_changes_only"  # expected post-operative appearance, no complication
    # extraspinal
    hip_osteoarthritis = "hip_osteoarthritis"
    aortic_aneurysm = "aortic_aneurysm"
    peripheral_arterial_disease = "peripheral_arterial_disease"  # e.g. ankle-brachial index below 0.9
    # electrodiagnostics
    emg_active_radiculopathy = "emg_active_radiculopathy"
    emg_chronic_radiculopathy = "emg_chronic_radiculopathy"
    emg_peripheral_neuropathy = "emg_peripheral_neuropathy"
    emg_entrapment_neuropathy = "emg_entrapment_neuropathy"
    emg_lumbosacral_plexopathy = "emg_lumbosacral_plexopathy"
    ssep_abnormal = "ssep_abnormal"  # somatosensory evoked potentials delayed or lost
    mep_abnormal = "mep_abnormal"  # motor evoked potentials reduced or lost
    # provocative discography
    discography_concordant_pain = "discography_concordant_pain"  # injecting the disc reproduced the usual pain
    # microbiology
    blood_culture_positive = "blood_culture_positive"
    wound_culture_positive = "wound_culture_positive"
    csf_culture_positive = "csf_culture_positive"
    # the head after a leak of cerebrospinal fluid: subdural or remote cerebellar bleed, brain sag, hydrocephalus
    intracranial_complication = "intracranial_complication"


class Modality(StrEnum):
    """The kind of study a diagnostic finding comes from."""

    xray = "xray"
    flexion_extension_xray = "flexion_extension_xray"
    standing_full_length_xray = "standing_full_length_xray"
    mri = "mri"
    ct = "ct"
    ct_myelography = "ct_myelography"
    bone_scan = "bone_scan"
    ultrasound = "ultrasound"
    emg_ncs = "emg_ncs"
    ankle_brachial_index = "ankle_brachial_index"
    dexa = "dexa"
    discography = "discography"
    evoked_potentials = "evoked_potentials"  # SSEP and MEP
    microbiology = "microbiology"  # blood, wound or CSF culture
    other = "other"


MODALITY_LABEL: dict[Modality, str] = {
    Modality.xray: "X-ray",
    Modality.flexion_extension_xray: "flexion-extension X-rays",
    Modality.standing_full_length_xray: "standing full-length X-ray",
    Modality.mri: "MRI",
    Modality.ct: "CT",
    Modality.ct_myelography: "CT myelography",
    Modality.bone_scan: "bone scan",
    Modality.ultrasound: "ultrasound",
    Modality.emg_ncs: "EMG/NCS",
    Modality.ankle_brachial_index: "ankle-brachial index",
    Modality.dexa: "DEXA",
    Modality.discography: "discography",
    Modality.evoked_potentials: "evoked potentials (SSEP/MEP)",
    Modality.microbiology: "culture",
    Modality.other: "other study",
}


class Lab(StrEnum):
    """Laboratory values the engine reads, with the unit each is expected in."""

    crp = "crp"  # mg/L
    esr = "esr"  # mm/h
    wbc = "wbc"  # 10^9/L
    csf_wbc = "csf_wbc"  # cerebrospinal fluid white cells, cells/µL
    csf_protein = "csf_protein"  # cerebrospinal fluid protein, g/L
    csf_glucose_ratio = "csf_glucose_ratio"  # cerebrospinal fluid to blood glucose ratio


LAB_UNITS: dict[Lab, str] = {
    Lab.crp: "mg/L",
    Lab.esr: "mm/h",
    Lab.wbc: "10^9/L",
    Lab.csf_wbc: "cells/µL",
    Lab.csf_protein: "g/L",
    Lab.csf_glucose_ratio: "ratio",
}
LAB_RANGES: dict[Lab, tuple[float, float]] = {
    Lab.crp: (0, 600),
    Lab.esr: (0, 200),
    Lab.wbc: (0, 200),
    Lab.csf_wbc: (0, 100_000),
    Lab.csf_protein: (0, 50),
    Lab.csf_glucose_ratio: (0, 2),
}


class Treatment(StrEnum):
    """Treatments and diagnostic procedures a patient may already have had."""

    physiotherapy = "physiotherapy"
    home_exercise = "home_exercise"
    nsaid = "nsaid"
    paracetamol = "paracetamol"
    neuropathic_medication = "neuropathic_medication"
    opioid = "opioid"
    pain_psychology = "pain_psychology"
    tens = "tens"
    acupuncture = "acupuncture"
    chiropractic = "chiropractic"
    rest_or_activity_restriction = "rest_or_activity_restriction"
    bracing = "bracing"
    conservative_unspecified = "conservative_unspecified"  # conservative care of a kind not stated
    oral_steroid_course = "oral_steroid_course"  # a systemic corticosteroid course
    antibiotics = "antibiotics"
    interlaminar_epidural_steroid = "interlaminar_epidural_steroid"
    facet_joint_injection = "facet_joint_injection"  # intra-articular
    si_joint_injection = "si_joint_injection"  # therapeutic (steroid); the diagnostic block is si_joint_block
    transforaminal_epidural_steroid = "transforaminal_epidural_steroid"
    caudal_epidural = "caudal_epidural"
    selective_nerve_root_block = "selective_nerve_root_block"
    medial_branch_block = "medial_branch_block"
    facet_radiofrequency_ablation = "facet_radiofrequency_ablation"
    si_joint_block = "si_joint_block"
    si_joint_radiofrequency_ablation = "si_joint_radiofrequency_ablation"
    trigger_point_injection = "trigger_point_injection"
    drg_pulsed_radiofrequency = "drg_pulsed_radiofrequency"
    epidural_adhesiolysis = "epidural_adhesiolysis"
    hip_injection = "hip_injection"
    scs_trial = "scs_trial"
    scs_implant = "scs_implant"
    intrathecal_therapy = "intrathecal_therapy"
    revision_surgery = "revision_surgery"
    other = "other"


class TreatmentResponse(StrEnum):
    """How a treatment worked, in the words clinicians use when no percentage is given.

    Each word stands for a band of relief, so that a threshold on % relief can be read from it when the band lies
    wholly on one side: worse and none = 0 %; partial = some relief, not complete (1-99 %); marked = half or more
    (50-100 %); complete = 100 %.
    """

    worse = "worse"
    none = "none"
    partial = "partial"
    marked = "marked"
    complete = "complete"
    unknown = "unknown"


RESPONSE_RELIEF: dict[TreatmentResponse, tuple[float, float]] = {
    TreatmentResponse.worse: (0, 0),
    TreatmentResponse.none: (0, 0),
    TreatmentResponse.partial: (1, 99),
    TreatmentResponse.marked: (50, 100),
    TreatmentResponse.complete: (100, 100),
}
"""The % relief band each response word stands for (inclusive)."""


class Reflex(StrEnum):
    """A tendon reflex, named as examined; `ROOT_OF_REFLEX` gives the root it tests."""

    patellar = "patellar"  # knee jerk
    achilles = "achilles"  # ankle jerk
    medial_hamstring = "medial_hamstring"
    biceps = "biceps"
    brachioradialis = "brachioradialis"
    triceps = "triceps"
    unspecified = "unspecified"  # "reflexes reduced" without saying which


ROOT_OF_REFLEX: dict[Reflex, str] = {
    Reflex.patellar: "L4",
    Reflex.achilles: "S1",
    Reflex.medial_hamstring: "L5",
    Reflex.biceps: "C5",
    Reflex.brachioradialis: "C6",
    Reflex.triceps: "C7",
}


class ReflexState(StrEnum):
    normal = "normal"
    reduced = "reduced"
    absent = "absent"
    brisk = "brisk"  # pathologically brisk (upper motor neurone)


class PeripheralNerve(StrEnum):
    """Peripheral nerves whose territory a deficit may follow (positioning, retractor or graft-site injuries)."""

    common_peroneal = "common_peroneal"
    tibial = "tibial"
    sciatic = "sciatic"
    femoral = "femoral"
    obturator = "obturator"
    lateral_femoral_cutaneous = "lateral_femoral_cutaneous"
    genitofemoral = "genitofemoral"
    ilioinguinal_or_iliohypogastric = "ilioinguinal_or_iliohypogastric"
    cluneal = "cluneal"
    ulnar = "ulnar"
    median = "median"
    radial = "radial"
    brachial_plexus = "brachial_plexus"
    other = "other"
    unknown = "unknown"


SPINE_LEVELS: tuple[str, ...] = (
    *(f"C{i}" for i in range(1, 8)),
    *(f"T{i}" for i in range(1, 13)),
    *(f"L{i}" for i in range(1, 6)),
    "S1",
    "S2",
)
_LEVEL_INDEX = {name: i for i, name in enumerate(SPINE_LEVELS)}
# Written as people write them: 'L4-L5', 'L4–S1' (en dash), 'L4/5', 'L4-5', 'l5 - s1'.
_SEGMENT = re.compile(r"^(?P<upper>[CTLS]\d{1,2})\s*[-‐‑‒–—−/]\s*(?P<lower>[CTLS]?\d{1,2})$")
PELVIS = "pelvis"  # iliac and S2-alar-iliac screws are anchored beyond S1


def parse_segment(text: str) -> tuple[str, str]:
    """Parse a motion segment or range such as 'L4-L5', 'L4–S1' or 'L4/5'; raise ValueError with the reason."""
    match = _SEGMENT.match(text.strip().upper())
    if not match:
        raise ValueError(f"'{text}' is not a spinal segment; expected e.g. 'L4-L5' or 'L5-S1'")
    upper, lower = match["upper"], match["lower"]
    if lower.isdigit():  # 'L4-5': the lower level is in the same region
        lower = upper[0] + lower
    for name in (upper, lower):
        if name not in _LEVEL_INDEX:
            raise ValueError(f"'{name}' is not a spinal level (C1-C7, T1-T12, L1-L5, S1-S2)")
    if _LEVEL_INDEX[lower] <= _LEVEL_INDEX[upper]:
        raise ValueError(f"'{text}': the lower level must lie below the upper level")
    return upper, lower


def parse_place(text: str) -> str:
    """Where a finding lies: a segment or range ('L5-S1'), one vertebra ('S1', for a screw), or 'pelvis' (an iliac
    screw); the canonical spelling, or ValueError with what is expected."""
    cleaned = text.strip()
    if cleaned.lower() in (PELVIS, "ilium", "iliac"):
        return PELVIS
    if cleaned.upper() in _LEVEL_INDEX:
        return cleaned.upper()
    try:
        upper, lower = parse_segment(cleaned)
    except ValueError:
        raise ValueError(
            f"'{text}' is not a spinal level; expected a segment such as 'L5-S1', one vertebra such as 'S1', "
            "or 'pelvis'"
        ) from None
    return f"{upper}-{lower}"


def level_index(name: str) -> int:
    """Position of a vertebral level from the skull down (C1 = 0)."""
    return _LEVEL_INDEX[name]


# The lower vertebra of each disc decides its region: C7-T1 is cervical, T12-L1 thoracic (the conus), L1-L2 lumbar.
_FIRST_THORACIC_LOWER = _LEVEL_INDEX["T2"]
_FIRST_LUMBAR_LOWER = _LEVEL_INDEX["L2"]
REGIONS: tuple[str, ...] = ("cervical", "thoracic", "lumbar")


def segment_regions(text: str) -> frozenset[str]:
    """The regions ('cervical', 'thoracic', 'lumbar') the discs of a segment or range belong to."""
    upper, lower = (_LEVEL_INDEX[v] for v in parse_segment(text))
    found = set()
    for below in range(upper + 1, lower + 1):
        if below >= _FIRST_LUMBAR_LOWER:
            found.add("lumbar")
        else:
            found.add("thoracic" if below >= _FIRST_THORACIC_LOWER else "cervical")
    return frozenset(found)
