"""Vignettes: what a clinician expects the reader to make of short report passages."""

from __future__ import annotations

from fbss.case.vocabulary import DiagnosticFinding as F
from fbss.case.vocabulary import Modality
from fbss.nlp import Contrast, Extraction, ProposedFinding, Side, extract, present_findings


def _one(extraction: Extraction, code: F) -> ProposedFinding:
    found = [f for f in extraction.findings if f.code == code]
    assert found, f"{code} not found in {[f.code for f in extraction.findings]}"
    return found[0]


def _present_codes(text: str) -> set[F]:
    return {f.code for f in present_findings(extract(text))}


def test_recurrent_herniation_with_level_side_modality_and_span() -> None:
    text = "MRI LUMBAR SPINE WITH AND WITHOUT GADOLINIUM\nFINDINGS: Recurrent left disc extrusion at L5-S1."
    extraction = extract(text)
    finding = _one(extraction, F.recurrent_disc_herniation)
    assert extraction.modality is Modality.mri and extraction.contrast is Contrast.with_and_without
    assert finding.levels == ("L5-S1",) and finding.side is Side.left and finding.section == "findings"
    assert text[finding.span.start : finding.span.end] == finding.span.text
    assert finding.affirmed


def test_negated_finding_is_returned_flagged_but_not_present() -> None:
    extraction = extract("FINDINGS: No recurrent disc herniation. No evidence of pseudarthrosis or screw loosening.")
    assert {f.code for f in extraction.findings} >= {
        F.recurrent_disc_herniation,
        F.pseudarthrosis,
        F.screw_loosening,
    }
    assert all(f.negated for f in extraction.findings)
    assert present_findings(extraction) == ()


def test_hedged_finding_is_uncertain() -> None:
    finding = _one(extract("IMPRESSION: Early discitis at L4-5 cannot be excluded."), F.discitis_osteomyelitis)
    assert finding.uncertain and not finding.negated and not finding.affirmed


def test_indication_is_not_a_finding() -> None:
    extraction = extract("CLINICAL HISTORY: Rule out epidural abscess.\nFINDINGS: Postoperative changes only.")
    abscess = _one(extraction, F.epidural_abscess)
    assert abscess.historical and abscess.section == "history"
    assert _present_codes("INDICATION: pseudarthrosis?\nFINDINGS: Solid fusion.") == {F.postoperative_changes_only}


def test_negation_on_the_other_side_does_not_negate_this_side() -> None:
    finding = _one(
        extract("At L5-S1 foraminal narrowing is severe on the right and absent on the left."),
        F.foraminal_stenosis,
    )
    assert finding.side is Side.right and not finding.negated


def test_negation_at_another_level_stays_there() -> None:
    extraction = extract("No canal stenosis at L2-3. At L4-5 there is severe spinal stenosis.")
    present = present_findings(extraction)
    assert [f.levels for f in present if f.code == F.central_stenosis] == [("L4-L5",)]


def test_but_and_semicolon_end_the_negation() -> None:
    assert F.epidural_fibrosis in _present_codes("No recurrent herniation, but there is epidural fibrosis.")
    assert F.foraminal_stenosis in _present_codes("No central stenosis; severe right foraminal stenosis at L4-5.")


def test_no_change_in_is_not_a_negation() -> None:
    assert F.foraminal_stenosis in _present_codes("No interval change in the moderate left foraminal stenosis.")


def test_hard_wrapped_lines_keep_the_negation() -> None:
    text = "Findings: No recurrent disc herniation, epidural fibrosis or\nfluid collection."
    assert _present_codes(text) == set()


def test_level_heading_applies_to_its_lines() -> None:
    extraction = extract("FINDINGS:\nL4-5: Mild facet arthropathy. Moderate central stenosis.\nL5-S1: Normal.")
    assert _one(extraction, F.central_stenosis).levels == ("L4-L5",)


def test_range_is_expanded_into_segments() -> None:
    finding = _one(extract("Arachnoiditis from L3 to L5."), F.arachnoiditis)
    assert finding.levels == ("L3-L4", "L4-L5")


def test_coordinated_findings_share_the_level() -> None:
    extraction = extract("There is pseudarthrosis and screw loosening at L4-5.")
    assert _one(extraction, F.pseudarthrosis).levels == ("L4-L5",)


def test_postoperative_changes_only_withdrawn_when_complication_present() -> None:
    text = "Findings: Postoperative changes at L4-5. Large recurrent disc herniation at L4-5."
    assert F.postoperative_changes_only not in _present_codes(text)
    assert F.postoperative_changes_only in _present_codes("Findings: Postoperative changes at L4-5. No complication.")


def test_adjacent_segment_stenosis_is_derived_from_position() -> None:
    codes = _present_codes("Severe central stenosis at L3-4, the level above the fusion.")
    assert {F.central_stenosis, F.adjacent_segment_stenosis} <= codes


def test_us_and_uk_spellings() -> None:
    assert F.epidural_haematoma in _present_codes("Dorsal epidural hematoma at L3-4.")
    assert F.epidural_haematoma in _present_codes("Dorsal epidural haematoma at L3-4.")


def test_flexion_extension_modality_and_instability() -> None:
    extraction = extract("FLEXION-EXTENSION RADIOGRAPHS\nAnterolisthesis of L4 on L5 increases to 8 mm on flexion.")
    assert extraction.modality is Modality.flexion_extension_xray and extraction.contrast is None
    assert _one(extraction, F.dynamic_instability).levels == ("L4-L5",)


def test_emg_report() -> None:
    extraction = extract("EMG/NCS\nImpression: Active left L5 radiculopathy. No peripheral neuropathy.")
    assert extraction.modality is Modality.emg_ncs
    radiculopathy = _one(extraction, F.emg_active_radiculopathy)
    assert radiculopathy.levels == ("L5",) and radiculopathy.side is Side.left
    assert _one(extraction, F.emg_peripheral_neuropathy).negated


def test_mri_sequence_names_are_not_levels() -> None:
    finding = _one(extract("T2 hyperintense fluid collection."), F.fluid_collection)
    assert finding.levels == ()


def test_operative_report_findings() -> None:
    text = "OPERATIVE REPORT\nFINDINGS: Dense epidural scar over the left S1 root. Recurrent disc fragment."
    assert {F.epidural_fibrosis, F.recurrent_disc_herniation} <= _present_codes(text)


def test_pipeline_is_built_once() -> None:
    from fbss.nlp.pipeline import get_pipeline

    assert get_pipeline() is get_pipeline()
