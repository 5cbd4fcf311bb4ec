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
    # fractures and tumour
    vertebral_fracture = "vertebral_fracture"
    sacral_fracture = "sacral_fracture"
    pars_or_pedicle_fracture = "pars_or_pedicle_fracture"
    metastasis_or_tumour = "metastasis_or_tumour"
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
    Modality.other: "other study",
}


class Lab(StrEnum):
    """Laboratory values the engine reads, with the unit each is expected in."""

    crp = "crp"  # mg/L
    esr = "esr"  # mm/h
    wbc = "wbc"  # 10^9/L


LAB_UNITS: dict[Lab, str] = {Lab.crp: "mg/L", Lab.esr: "mm/h", Lab.wbc: "10^9/L"}
LAB_RANGES: dict[Lab, tuple[float, float]] = {Lab.crp: (0, 600), Lab.esr: (0, 200), Lab.wbc: (0, 200)}


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
