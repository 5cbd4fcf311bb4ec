"""Shared fixtures: the packaged knowledge base, the example cases, and a builder for vignette cases."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from fbss.case.model import Case, UrgentSigns
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.loader import default_knowledge

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "cases"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return default_knowledge()


# A quiet baseline: every red-flag item answered "absent", so that a vignette only adds what it is about.
QUIET_RED_FLAGS = {
    k: "absent"
    for k in (
        "bladder_bowel_change",
        "urinary_retention",
        "saddle_anaesthesia",
        "bilateral_leg_symptoms",
        "sexual_dysfunction_new",
        "meningism",
        "fever",
        "wound_drainage",
        "clear_fluid_leak",
        "weight_loss",
        "cancer_history",
        "trauma",
        "immunosuppression",
        "iv_drug_use",
        "sepsis_signs",
    )
}


# ... and every sign that needs action today (urgent_signs) answered "absent" too.
QUIET_URGENT_SIGNS = {name: "absent" for name in UrgentSigns.model_fields}


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def make_case(**parts: Any) -> Case:
    """A case 14 months after an L5-S1 microdiscectomy with no red flags; keyword sections override it."""
    base: dict[str, Any] = {
        "id": "vignette",
        "assessment_date": "2026-03-01",
        "patient": {
            "age": 48,
            "sex": "female",
            "pregnant": "absent",
            "anticoagulant": "absent",
            "antiplatelet": "absent",
            "egfr": 90,
        },
        "index_surgery": {
            "type": "microdiscectomy",
            "date": "2025-01-01",
            "levels": ["L5-S1"],
            "side": "left",
        },
        "course": {"relief_after_surgery": "present", "fall_or_injury_since_surgery": "absent"},
        "exam": {
            "motor_deficit": "absent",
            "motor_deficit_new": "absent",
            "motor_deficit_progressive": "absent",
            "wound": "healed",
            "temperature_c": 36.8,
        },
        "red_flags": dict(QUIET_RED_FLAGS),
        "urgent_signs": dict(QUIET_URGENT_SIGNS),
        "psychosocial": {"phq9_item9": 0},
    }
    return Case.model_validate(_merge(base, parts))
