"""The rule files load, and a broken rule file is refused with its file name and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from fbss.case.vocabulary import DiagnosticFinding
from fbss.errors import KnowledgeError
from fbss.nlp.rules import CONTEXT_FILE, TARGETS_FILE, load_rules

REQUIRED = {
    "recurrent_disc_herniation",
    "residual_disc_herniation",
    "epidural_fibrosis",
    "arachnoiditis",
    "pseudarthrosis",
    "screw_lucency",
    "screw_loosening",
    "screw_malposition",
    "screw_fracture",
    "rod_fracture",
    "cage_migration",
    "cage_subsidence",
    "adjacent_segment_degeneration",
    "adjacent_segment_stenosis",
    "central_stenosis",
    "lateral_recess_stenosis",
    "foraminal_stenosis",
    "spondylolisthesis",
    "dynamic_instability",
    "discitis_osteomyelitis",
    "epidural_abscess",
    "epidural_haematoma",
    "pseudomeningocele",
    "fluid_collection",
    "modic_changes",
    "facet_arthropathy",
    "si_joint_arthropathy",
    "sagittal_imbalance",
    "vertebral_fracture",
    "sacral_fracture",
    "metastasis_or_tumour",
    "cauda_equina_compression",
    "postoperative_changes_only",
    # the presentation vocabulary that reports state
    "vertebral_erosion",
    "epidural_soft_tissue",
    "dural_enhancement",
    "intradural_lesion",
    "original_lesion_persists",
    "coronal_imbalance",
    "low_bone_density",
    "prosthesis_subsidence_or_migration",
    "heterotopic_ossification",
    "retroperitoneal_mass",
    "vascular_injury",
    "visceral_injury",
    "ssep_abnormal",
    "mep_abnormal",
    "discography_concordant_pain",
}


def test_shipped_rules_cover_every_required_finding() -> None:
    rules = load_rules()
    assert {str(target.code) for target in rules.targets} >= REQUIRED
    assert {s.id for s in rules.sections if not s.read} >= {"history"}


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = TARGETS_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "nlp_targets.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_unknown_code_names_file_and_line(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "- code: arachnoiditis", "- code: arachnitis")
    with pytest.raises(KnowledgeError, match=r"nlp_targets.yaml, line \d+: 'arachnitis' is not a DiagnosticFinding"):
        load_rules(path, CONTEXT_FILE)


def test_bad_regex_is_refused(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "'\\bclump(?:ed|ing)", "'(\\bclump(?:ed|ing)")
    with pytest.raises(KnowledgeError, match="not a valid regular expression"):
        load_rules(path, CONTEXT_FILE)


def test_unknown_piece_is_refused(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "@screw'", "@screwdriver'")
    with pytest.raises(KnowledgeError, match="@screwdriver"):
        load_rules(path, CONTEXT_FILE)


def test_every_vocabulary_code_used_is_valid() -> None:
    for target in load_rules().targets:
        assert isinstance(target.code, DiagnosticFinding)
