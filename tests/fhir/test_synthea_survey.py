"""Opt-in: draft every bundle of the public Synthea R4 sample (FBSS_SYNTHEA_DIR=/path/to/R4/SYNTHEA; not committed)
and check that nothing crashes and that what the records hold reaches the drafts (figures: docs/fhir.md)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from fbss.fhir.survey import ITEMS, Survey, bundle_files, last_entry_date, survey_one

DIRECTORY = os.environ.get("FBSS_SYNTHEA_DIR")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DIRECTORY, reason="set FBSS_SYNTHEA_DIR to a directory of Synthea R4 bundles"),
]
ALWAYS_READ = ("anticoagulant", "antiplatelet", "opioid", "NSAID", "eGFR", "smoking", "BMI", "diabetes")


def _recent_pain_score(path: Path) -> bool:
    """Whether the record has a pain score (72514-3) in the 90 days before its last entry."""
    bundle = json.loads(path.read_bytes())
    resources = [(e.get("fullUrl"), e.get("resource")) for e in bundle.get("entry", [])]
    opened = last_entry_date(resources)
    for _, r in resources:
        if isinstance(r, dict) and r.get("resourceType") == "Observation" and '"72514-3"' in json.dumps(r["code"]):
            when = dt.date.fromisoformat(str(r.get("effectiveDateTime", ""))[:10] or "0001-01-01")
            if opened and 0 <= (opened - when).days <= 90:
                return True
    return False


def test_every_synthea_bundle_drafts_without_a_crash_and_what_it_holds_is_read() -> None:
    assert DIRECTORY
    paths = bundle_files(Path(DIRECTORY))
    assert paths, f"{DIRECTORY}: no JSON files"
    result = Survey()
    pain_missed = []
    for path in paths:
        draft = survey_one(path, result)
        if draft is not None and _recent_pain_score(path) and "nrs_back" not in draft.data.get("pain", {}):
            pain_missed.append(path.name)
    assert result.crashes == [], result.crashes[:3]
    assert result.drafted + result.not_applicable + len(result.rejected) == len(paths)
    for item in ITEMS:
        if item.name.startswith(ALWAYS_READ):
            assert result.read.get(item.name, 0) == result.held.get(item.name, 0), item.name
    assert pain_missed == []
