"""The report commands as the clinician runs them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fbss.nlp.cli import nlp_app

runner = CliRunner()


def test_extract_json(tmp_path: Path) -> None:
    report = tmp_path / "mri.txt"
    report.write_text("MRI LUMBAR SPINE\nFINDINGS: Rod fracture at L4-5. No screw loosening.\n", encoding="utf-8")
    result = runner.invoke(nlp_app, ["extract", str(report), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["modality"] == "mri"
    codes = {(f["code"], f["negated"]) for f in data["findings"]}
    assert codes == {("rod_fracture", False), ("screw_loosening", True)}


def test_extract_text_table(tmp_path: Path) -> None:
    report = tmp_path / "ct.txt"
    report.write_text("CT LUMBAR SPINE\nPseudarthrosis at L5-S1.\n", encoding="utf-8")
    result = runner.invoke(nlp_app, ["extract", str(report)])
    assert result.exit_code == 0 and "pseudarthrosis" in result.output


def test_extract_refuses_latin1_file(tmp_path: Path) -> None:
    report = tmp_path / "latin1.txt"
    report.write_bytes("Fibrose épidurale".encode("latin-1"))
    result = runner.invoke(nlp_app, ["extract", str(report)])
    assert result.exit_code == 2 and "not UTF-8" in result.output


def test_extract_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(nlp_app, ["extract", str(tmp_path / "missing.txt")])
    assert result.exit_code == 2 and "cannot read" in result.output


def test_evaluate_prints_micro_f1() -> None:
    result = runner.invoke(nlp_app, ["evaluate"])
    assert result.exit_code == 0, result.output
    assert "micro" in result.output and "negated or hedged mentions reported as present: 0" in result.output
