"""Report wordings of the presentation vocabulary, and the look-alikes that must not be read as them."""

from __future__ import annotations

import pytest

from fbss.case.vocabulary import Modality
from fbss.nlp import extract, present_findings


def codes(text: str) -> set[str]:
    return {str(f.code) for f in present_findings(extract(text))}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Erosion of the L4 and L5 endplates.", "vertebral_erosion"),
        ("Thickened, enhancing dura along the laminectomy.", "dural_enhancement"),
        ("Syringomyelia from T8 to T11.", "intradural_lesion"),
        ("Spinal dural arteriovenous fistula with perimedullary flow voids.", "intradural_lesion"),
        ("The L4-5 herniation is unchanged compared with the pre-operative MRI.", "original_lesion_persists"),
        ("Coronal decompensation to the left.", "coronal_imbalance"),
        ("Marked osteopenia.", "low_bone_density"),
        ("Migration of the disc prosthesis anteriorly.", "prosthesis_subsidence_or_migration"),
        ("Right psoas haematoma, 8 cm.", "retroperitoneal_mass"),
        ("Pseudoaneurysm of the left common iliac artery.", "vascular_injury"),
        ("Free intraperitoneal air after the anterior approach.", "visceral_injury"),
        ("Cortical SSEPs are absent on the left.", "ssep_abnormal"),
        ("MEPs were lost in the right leg.", "mep_abnormal"),
        ("L4-5 injection reproduced his usual back pain.", "discography_concordant_pain"),
    ],
)
def test_a_wording_reports_the_finding(text: str, expected: str) -> None:
    assert expected in codes(text)


@pytest.mark.parametrize(
    ("text", "not_expected"),
    [
        ("Non-concordant pain at L5-S1.", "discography_concordant_pain"),
        ("A non-enhancing fragment persists in the left lateral recess at L4-5.", "original_lesion_persists"),
        (
            "Soft tissue in the epidural space which enhances homogeneously, consistent with scar.",
            "epidural_soft_tissue",
        ),
        ("No pseudoaneurysm. No retroperitoneal haematoma.", "vascular_injury"),
        ("No syrinx. The conus is normal.", "intradural_lesion"),
        ("The endplates are intact without erosion.", "vertebral_erosion"),
        ("Osteoporosis screening is recommended.", "low_bone_density"),
        ("Tibial SSEPs are normal.", "ssep_abnormal"),
    ],
)
def test_a_look_alike_is_not_read_as_the_finding(text: str, not_expected: str) -> None:
    assert not_expected not in codes(text)


def test_the_study_is_recognised_from_its_heading() -> None:
    assert extract("LUMBAR DISCOGRAPHY\nL4-5: concordant pain.").modality is Modality.discography
    assert extract("EVOKED POTENTIALS\nTibial SSEPs are delayed.").modality is Modality.evoked_potentials
