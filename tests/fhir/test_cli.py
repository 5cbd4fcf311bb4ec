"""`fbss fhir import|export` and `fbss cds serve` as a user runs them."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.cli.test_cli import fbss
from tests.conftest import EXAMPLES
from tests.fhir.conftest import BUNDLES

EXAMPLE = EXAMPLES / "recurrent_herniation_after_discectomy.json"


def test_import_prints_the_case_and_lists_what_was_not_mapped() -> None:
    run = fbss("fhir", "import", str(BUNDLES / "unmappable_items.json"), "--date", "2026-10-02")
    assert run.returncode == 0, run.stderr
    case = json.loads(run.stdout)
    assert case["index_surgery"]["type"] == "laminectomy"
    assert "Not mapped" in run.stderr and "Encounter/visit" in run.stderr
    assert "not mapped" in run.stderr.splitlines()[0]


def test_import_as_json_has_case_and_report() -> None:
    run = fbss("fhir", "import", str(BUNDLES / "recurrent_herniation_after_microdiscectomy.json"), "-f", "json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["case"]["id"] == "rdh-1"
    assert data["report"]["unmapped"][0]["element"] == "conclusion/presentedForm"
    assert data["report"]["mapped"]


def test_export_then_import_gives_the_case_back(tmp_path: Path) -> None:
    run = fbss("fhir", "export", str(EXAMPLE), "--no-questionnaires")
    assert run.returncode == 0, run.stderr
    bundle = json.loads(run.stdout)
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"RiskAssessment", "ClinicalImpression", "CarePlan", "DocumentReference", "Provenance"} <= kinds
    assert "Questionnaire" not in kinds
    path = tmp_path / "bundle.json"
    path.write_text(run.stdout)
    back = fbss("fhir", "import", str(path), "-f", "json")
    original = json.loads(EXAMPLE.read_text())
    assert json.loads(back.stdout)["case"]["index_surgery"]["levels"] == original["index_surgery"]["levels"]


def test_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    for args in (("fhir", "import", str(bad)), ("fhir", "import", str(tmp_path / "missing.json"))):
        run = fbss(*args)
        assert run.returncode == 1
        assert run.stderr.startswith("error:") and len(run.stderr.strip().splitlines()) == 1, run.stderr
    run = fbss("fhir", "import", str(BUNDLES / "unmappable_items.json"), "--date", "02/10/2026")
    assert run.returncode == 1 and "YYYY-MM-DD" in run.stderr


def test_cds_serve_is_registered() -> None:
    run = fbss("cds", "serve", "--help")
    assert run.returncode == 0 and "--port" in run.stdout


def test_export_a_stored_patient(tmp_path: Path) -> None:
    env_url = f"sqlite:///{tmp_path / 'fbss.sqlite3'}"
    os.environ["FBSS_DATABASE_URL"] = env_url
    try:
        assert fbss("db", "upgrade").returncode == 0
        assert fbss("patient", "add", "MRN-42", "--user", "tester").returncode == 0
        assert fbss("case", "save", "MRN-42", str(EXAMPLE), "--user", "tester").returncode == 0
        run = fbss("fhir", "export", "MRN-42", "--no-questionnaires", "--user", "tester")
        assert run.returncode == 0, run.stderr
        kinds = {e["resource"]["resourceType"] for e in json.loads(run.stdout)["entry"]}
        assert "RiskAssessment" in kinds
        missing = fbss("fhir", "export", "MRN-0", "--user", "tester")
        assert missing.returncode == 1 and missing.stderr.startswith("error:")
    finally:
        del os.environ["FBSS_DATABASE_URL"]


def test_import_with_a_bad_date_names_the_option() -> None:
    run = fbss("fhir", "import", str(BUNDLES / "cauda_equina_after_microdiscectomy.json"), "--date", "2026-13-01")
    assert run.returncode == 1
    assert "--date: expected a date as YYYY-MM-DD, got '2026-13-01'" in run.stderr
    assert "Traceback" not in run.stderr
