"""The care-planning files load, and a bad entry is refused with its file, line and entry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fbss.errors import KnowledgeError
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.loader import DATA_DIR, load_knowledge


def test_packaged_care_knowledge_loads(kb: KnowledgeBase) -> None:
    care = kb.care
    assert {c.id.value for c in care.appropriateness.categories} == {
        "conservative",
        "minimally_invasive",
        "neurostimulation",
        "reoperation",
    }
    assert len(care.scs.factors) == 8
    assert {t.id for t in care.tests.tests} >= {
        "mri_gadolinium",
        "ct_myelography",
        "sij_block",
        "mbb",
        "dexa",
        "bladder_scan",
        "blood_cultures",
        "xray_full_length",
        "ct_implant",
    }
    assert {t.id for t in care.treatments} >= {
        "scs_conventional",
        "scs_10khz",
        "revision_discectomy",
        "haematoma_evacuation",
        "infection_management",
    }
    assert kb.entry("sij_block").model_dump()["id"] == "sij_block"  # type: ignore[attr-defined]


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("tests.yaml", "reveals: [hip_exam_painful]", "reveals: [hip_exam_hurts]", "entry 'ex_hip'"),
        ("tests.yaml", "urgent_for: [cauda_equina,", "urgent_for: [caudaequina,", "unknown red flag"),
        ("treatments.yaml", "sources: [kumar_process_2007]}", "sources: [kumar_2007]}", "unknown source"),
        (
            "appropriateness.yaml",
            "when: target_recurrent_disc\n        set: 6",
            "when: target_recurent_disc\n        set: 6",
            "unknown finding or concept",
        ),
        ("appropriateness.yaml", "causes: [instability]}", "causes: [instabilty]}", "unknown cause"),
        (
            "scs.yaml",
            "appropriate: [strongly_recommended, recommended,",
            "appropriate: [recommended, strongly_recommended,",
            "must not improve",
        ),
        (
            "appropriateness.yaml",
            '        set: 6\n        because: "Recurrent',
            '        set: 12\n        because: "Recurrent',
            "less than or equal to 9",
        ),
    ],
)
def test_a_bad_care_entry_is_refused_with_its_place(
    tmp_path: Path, file: str, old: str, new: str, expected: str
) -> None:
    directory = _copy(tmp_path)
    _replace(directory / file, old, new)
    with pytest.raises(KnowledgeError) as error:
        load_knowledge(directory)
    message = str(error.value)
    assert file in message
    assert expected in message
    assert "line" in message
