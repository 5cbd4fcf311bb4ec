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


def test_synthetic_patients_use_the_presentation_vocabulary_plausibly() -> None:
    cases = [case for case, _clinic in synth_cases(400, seed=SEED)]
    assert sum(c.work.status.value != "unknown" for c in cases) > 150
    assert sum(c.function.odi_percent is not None for c in cases) > 120
    assert sum(c.pain.back_intensity.value != "unknown" for c in cases) > 40  # words instead of a number
    for case in cases:
        if case.work.status.value == "retired":
            assert case.patient.age is not None and case.patient.age >= 55
        if case.pain.neurogenic_claudication.value == "present" and case.function.walking_distance_m is not None:
            assert case.function.walking_distance_m <= 500
        if case.pain.neurogenic_claudication.value == "present":
            assert case.pain.worse_standing.value == "present"
    flatbacks = [
        c
        for c in cases
        if any(d.finding.value == "sagittal_imbalance" and d.presence.value == "present" for d in c.diagnostics)
    ]
    others = [c for c in cases if c.alignment.pelvic_incidence_deg is not None and c not in flatbacks]
    mismatch = [
        (c.alignment.pelvic_incidence_deg or 0) - (c.alignment.lumbar_lordosis_deg or 0)
        for c in flatbacks
        if c.alignment.pelvic_incidence_deg is not None
    ]
    assert flatbacks and others and min(mismatch) >= 20
    assert max((c.alignment.pelvic_incidence_deg or 0) - (c.alignment.lumbar_lordosis_deg or 0) for c in others) < 10
