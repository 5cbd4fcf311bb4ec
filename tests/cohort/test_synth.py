"""The synthetic population: seeded, independent of the number of workers, and importing gives each case back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fbss.cohort.synth import bulk_resources, synth_cases, write_population
from fbss.errors import FbssError
from fbss.fhir.importer import import_resources
from tests.cohort.conftest import PATIENTS, SEED


def _contents(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.ndjson"))}


def test_the_same_seed_gives_the_same_export_whatever_the_workers(clean_export: Path, tmp_path: Path) -> None:
    write_population(PATIENTS, tmp_path / "again", seed=SEED, workers=1)
    assert _contents(tmp_path / "again") == _contents(clean_export)
    write_population(20, tmp_path / "other", seed=SEED + 1, workers=1)
    assert _contents(tmp_path / "other")["Patient.ndjson"] != _contents(clean_export)["Patient.ndjson"]


def test_export_is_bulk_data_shaped(clean_export: Path) -> None:
    names = {p.name for p in clean_export.glob("*.ndjson")}
    assert {"Patient.ndjson", "Procedure.ndjson", "Observation.ndjson", "Organization.ndjson"} <= names
    for path in clean_export.glob("*.ndjson"):
        for line in path.read_text(encoding="utf-8").splitlines()[:50]:
            resource = json.loads(line)
            assert path.name == f"{resource['resourceType']}.ndjson"
            for key in ("subject", "patient"):
                if key in resource:
                    assert resource[key]["reference"].startswith("Patient/")
    patients = (clean_export / "Patient.ndjson").read_text(encoding="utf-8").splitlines()
    assert len(patients) == PATIENTS


def test_importing_each_patient_gives_back_the_generated_case() -> None:
    for case, clinic in synth_cases(60, seed=SEED):
        imported = import_resources([(None, r) for r in bulk_resources(case, clinic)])
        assert imported.case == case
        assert not imported.report.unmapped


def test_the_population_varies_the_examples() -> None:
    cases = [case for case, _clinic in synth_cases(200, seed=SEED)]
    ages = {case.patient.age for case in cases}
    dates = {case.index_surgery.date for case in cases}
    assert len(ages) > 30 and len(dates) > 100


def test_refuses_to_mix_with_an_existing_export(clean_export: Path) -> None:
    with pytest.raises(FbssError, match="already holds NDJSON"):
        write_population(5, clean_export)
