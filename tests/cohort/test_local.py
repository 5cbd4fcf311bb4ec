"""The local engine: one row per patient, the same answers as assessing each case directly, broken lines reported."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from fbss.cohort.local import RunSummary, run_local
from fbss.cohort.patient import COLUMNS, SCHEMA
from fbss.cohort.routing import bucket_of
from fbss.cohort.synth import synth_cases
from fbss.errors import FbssError
from fbss.fhir.resources import Validation
from fbss.knowledge.base import KnowledgeBase
from fbss.reasoning.assess import assess
from tests.cohort.conftest import AS_OF, PATIENTS, SEED, read_rows


def test_one_row_per_patient_and_every_patient_once(local_result: RunSummary) -> None:
    rows = read_rows(local_result.out)
    assert len(rows) == PATIENTS == local_result.patients
    ids = [row[COLUMNS.index("patient_id")] for row in rows]
    assert len(set(ids)) == len(ids)
    assert local_result.statuses == {"assessed": PATIENTS}
    assert not local_result.out.with_name(local_result.out.name + ".work").exists(), "work directory left behind"


def test_rows_match_assessing_each_synthetic_case_directly(local_result: RunSummary, kb: KnowledgeBase) -> None:
    by_case = {
        row[COLUMNS.index("case_id")]: dict(zip(COLUMNS, row, strict=True)) for row in read_rows(local_result.out)
    }
    for case, clinic in synth_cases(PATIENTS, seed=SEED):
        assessment = assess(case, kb)
        row = by_case[case.id]
        causes = assessment.differential.causes
        if causes:
            assert row["cause_1"] == causes[0].cause
            assert row["cause_3_probability"] == pytest.approx(causes[2].probability, abs=1e-6)
        else:  # a cervical or thoracic operation: the causes describe the lumbar spine and are not ranked
            assert row["cause_1"] is None and assessment.differential.not_ranked
        assert row["red_flags"] == [flag.flag for flag in assessment.triage.fired]
        assert row["ask_now_count"] == len(assessment.triage.ask_now)
        assert row["organization"] == (f"Organization/{clinic}" if clinic else None)
        assert (row["clinic"] is None) == (clinic is None)
        assert row["knowledge_fingerprint"] == kb.fingerprint
        assert row["assessment_date"] == case.assessment_date
        scs = assessment.scs
        assert row["scs_advice"] == (scs.advice.value if scs.advice else None)
        assert row["scs_stopped_by"] == [basis.rule for basis in scs.stopped_by]
        for rating in assessment.options.categories:
            assert row[f"rating_{rating.category.value}"] == rating.label.value
        options = assessment.options.options
        assert row["appropriate_options"] == [o.id for o in options if o.label == "appropriate"]
        assert row["uncertain_options"] == [o.id for o in options if o.label == "uncertain"]
        assert len(row["appropriate_options"]) + len(row["uncertain_options"]) + row["inappropriate_count"] == len(
            options
        )
        workup = assessment.workup
        assert row["urgent_tests"] == [t.test for t in workup.urgent]
        assert row["ranked_tests"] == [t.test for t in workup.ranked]
        assert row["next_test"] == (row["urgent_tests"] + row["ranked_tests"] + [None])[0]
        assert row["missing_data"] == [q.finding for q in assessment.differential.ask_next]
        assert row["missing_count"] >= len(row["missing_data"]) > (0 if causes else -1)


def test_a_population_has_several_clinics_causes_and_a_few_red_flags(local_result: RunSummary) -> None:
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in read_rows(local_result.out)]
    assert len({r["clinic"] for r in rows}) >= 5
    assert len({r["cause_1"] for r in rows}) >= 12
    assert 0.02 < local_result.red_flag_patients / PATIENTS < 0.25
    assert len({r["scs_advice"] for r in rows}) >= 3
    assert any(r["urgent_tests"] for r in rows)
    assert len({r["next_test"] for r in rows}) >= 3


def test_every_column_is_documented_in_the_cohort_guide() -> None:
    guide = (Path(__file__).parents[2] / "docs" / "cohort.md").read_text(encoding="utf-8")
    undocumented = [c.name for c in SCHEMA if f"`{c.name}`" not in guide and not c.name.startswith("cause_")]
    assert not undocumented, "add these columns to the Output table of docs/cohort.md"


def test_malformed_lines_are_reported_with_file_and_line_and_skipped(
    local_result: RunSummary, broken_lines: dict[str, list[int]]
) -> None:
    found = {(p.file, p.line): p.reason for p in local_result.problems}
    obs = broken_lines["Observation.ndjson"]
    assert "not valid JSON" in found[("Observation.ndjson", obs[0])]
    assert "not valid JSON" in found[("Observation.ndjson", obs[1])]
    assert found[("Observation.ndjson", obs[2])] == "empty line"
    assert "without a subject" in found[("Observation.ndjson", obs[3])]
    assert "not valid JSON" in found[("Condition.ndjson", broken_lines["Condition.ndjson"][0])]
    assert local_result.problem_count == 5
    written = [json.loads(line) for line in local_result.errors_file.read_text(encoding="utf-8").splitlines()]
    assert {(w["file"], w["line"]) for w in written} == set(found)
    attributed = [w for w in written if w["patient"]]
    assert len(attributed) == 2  # the broken Observation and Condition of a real patient
    rows = {r[0]: dict(zip(COLUMNS, r, strict=True)) for r in read_rows(local_result.out)}
    assert rows[attributed[0]["patient"]]["skipped_lines"] == 2
    assert rows[attributed[0]["patient"]]["status"] == "assessed"


def test_a_record_without_a_spine_operation_is_a_row_not_a_crash(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    (export / "Patient.ndjson").write_text('{"resourceType":"Patient","id":"p1","gender":"female"}\n')
    (export / "Condition.ndjson").write_text(
        '{"resourceType":"Condition","subject":{"reference":"Patient/p1"},"code":{"text":"asthma"}}\n'
    )
    summary = run_local(export, tmp_path / "out.parquet", workers=1, as_of=AS_OF)
    (row,) = [dict(zip(COLUMNS, r, strict=True)) for r in read_rows(summary.out)]
    assert row["status"] == "not_applicable"
    assert "no spine operation" in row["problem"]
    assert row["cause_1"] is None and row["resources"] == 2


def test_strict_validation_refuses_what_the_lean_one_does_not_read_and_a_run_resumes_only_as_it_began(
    tmp_path: Path,
) -> None:
    export = tmp_path / "export"
    export.mkdir()
    # a narrative whose div is not a string: invalid FHIR, in an element the importer does not read
    (export / "Patient.ndjson").write_text(
        '{"resourceType":"Patient","id":"p1","gender":"female","text":{"status":"generated","div":12}}\n'
    )
    (export / "Procedure.ndjson").write_text(
        '{"resourceType":"Procedure","status":"completed","subject":{"reference":"Patient/p1"},"code":{"coding":'
        '[{"system":"http://fbss-navigator.org/fhir/CodeSystem/surgery-type","code":"microdiscectomy"}]}}\n'
    )
    lean = run_local(export, tmp_path / "lean.parquet", workers=1, as_of=AS_OF)
    strict = run_local(export, tmp_path / "strict.parquet", workers=1, as_of=AS_OF, validation=Validation.strict)
    lean_row, strict_row = (dict(zip(COLUMNS, read_rows(s.out)[0], strict=True)) for s in (lean, strict))
    assert lean_row["status"] == strict_row["status"] == "assessed"
    # strict validation refuses the Patient (its sex is then unknown) and lists it as invalid FHIR
    assert strict_row["unmapped"] == lean_row["unmapped"] + 1
    work = tmp_path / "work"
    run_local(export, tmp_path / "again.parquet", workers=1, as_of=AS_OF, work_dir=work, keep_work=True)
    with pytest.raises(FbssError, match="started without --strict"):
        run_local(export, tmp_path / "again.parquet", workers=1, work_dir=work, validation=Validation.strict)


def test_an_export_directory_without_ndjson_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FbssError, match=r"no \.ndjson files"):
        run_local(tmp_path, tmp_path / "out.parquet")


def test_the_result_file_holds_bucket_after_bucket_each_ordered_by_patient(local_result: RunSummary) -> None:
    # the assembly streams the parts in bucket order instead of sorting every row (which would hold them all in memory)
    ids = [row[0] for row in duckdb.sql(f"SELECT patient_id FROM read_parquet('{local_result.out}')").fetchall()]
    keys = [(bucket_of(pid, local_result.buckets), pid) for pid in ids]
    assert keys == sorted(keys)
