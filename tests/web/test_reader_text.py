"""The assessment page as a clinician reads it: values with units and rules by name, never a raw value or code."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from fbss.case.parse import read_case
from fbss.store.database import Database
from fbss.store.repository import Repository
from tests.conftest import EXAMPLES
from tests.reports.test_reader_text import raw_in, visible

PAGES = [
    "cold_leg_day1_after_alif",
    "cauda_equina_retention_day2_after_microdiscectomy",
    "adjacent_segment_stenosis_above_l4_5_fusion",
    "misplaced_pedicle_screw_day3_after_tlif",
]


@pytest.mark.parametrize("name", PAGES)
def test_the_assessment_page_shows_no_raw_value_or_code(
    name: str,
    clinician: TestClient,
    database: Database,
) -> None:
    repo = Repository(database, user="test")
    patient = repo.add_patient(f"READ-{name[:20]}")
    repo.save_case(patient.identifier, read_case(EXAMPLES / f"{name}.json"))
    page = clinician.get(f"/patients/{patient.id}/assessment")
    assert page.status_code == 200
    found = raw_in(visible(page.text))
    assert not found, "\n".join(found[:8])
    assert 'data-effect="set ' in page.text or "data-effect=" not in page.text  # the code stays machine-readable


def test_the_page_says_the_day_after_surgery_and_the_rule_effect_in_words(
    clinician: TestClient,
    database: Database,
) -> None:
    repo = Repository(database, user="test")
    patient = repo.add_patient("READ-cold-leg-words")
    repo.save_case(patient.identifier, read_case(EXAMPLES / "cold_leg_day1_after_alif.json"))
    text = visible(clinician.get(f"/patients/{patient.id}/assessment").text)
    assert "day 1 after fusion" in text
    assert "score set to 9/9" in text


def test_a_note_in_quotes_is_not_quoted_twice(clinician: TestClient, database: Database) -> None:
    repo = Repository(database, user="test")
    patient = repo.add_patient("READ-quoted-note")
    repo.save_case(patient.identifier, read_case(EXAMPLES / f"{PAGES[0]}.json"), note='"Imported from the EHR"')
    for path in ("assessment", "history"):
        page = clinician.get(f"/patients/{patient.id}/{path}")
        assert "<q>Imported from the EHR</q>" in page.text, path
