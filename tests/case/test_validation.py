"""Invalid cases are refused with one message that names the field and what was expected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fbss.case.parse import parse_case, read_case
from fbss.errors import CaseError

MINIMAL = {"id": "p1", "index_surgery": {"type": "microdiscectomy"}}


def with_(path: str, value: object) -> dict[str, object]:
    data = json.loads(json.dumps(MINIMAL))
    node = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value
    return data


def test_minimal_case_is_valid_and_everything_else_unknown() -> None:
    case = parse_case(MINIMAL)
    assert case.red_flags.urinary_retention.value == "unknown"
    assert case.pain.nrs_leg is None


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("pain.nrs_leg", 11, "pain.nrs_leg: Input should be less than or equal to 10 (got 11)"),
        ("pain.nrs_back", -1, "pain.nrs_back: Input should be greater than or equal to 0"),
        ("patient.age", 12, "patient.age: Input should be greater than or equal to 18"),
        ("patient.egfr", 400, "patient.egfr"),
        (
            "red_flags.fever",
            "yes",
            "red_flags.fever: Input should be 'present', 'absent' or 'unknown' (got \"yes\")",
        ),
        ("index_surgery.type", "spinal fusion", "index_surgery.type: Input should be 'microdiscectomy'"),
        ("index_surgery.levels", ["L6-S1"], "'L6' is not a spinal level"),
        ("index_surgery.levels", ["L5-L4"], "the lower level must lie below the upper level"),
        ("index_surgery.levels", ["lumbar"], "'lumbar' is not a spinal segment"),
        ("index_surgery.date", "yesterday", "index_surgery.date: Input should be a valid date"),
        ("psychosocial.phq9_item9", 4, "psychosocial.phq9_item9: Input should be less than or equal to 3"),
        ("course.pain_free_interval_months", "six", "course.pain_free_interval_months"),
        ("pain.colour", "red", "pain.colour: is not a known field"),
        ("schema_version", "9", "schema_version: this version reads case schema '2' (and migrates older ones)"),
        ("id", "has space", "id: String should match pattern"),
    ],
)
def test_bad_field_names_the_field(path: str, value: object, expected: str) -> None:
    with pytest.raises(CaseError) as raised:
        parse_case(with_(path, value))
    assert expected in str(raised.value)


def test_cross_field_rules() -> None:
    data = with_("psychosocial", {"phq9_total": 2, "phq9_item9": 3})
    with pytest.raises(CaseError, match="phq9_item9 cannot exceed phq9_total"):
        parse_case(data)
    data = with_("assessment_date", "2020-01-01")
    data["index_surgery"] = {"type": "fusion", "date": "2021-01-01"}
    with pytest.raises(CaseError, match=r"assessment_date is before index_surgery\.date"):
        parse_case(data)
    data = with_("patient", {"sex": "male", "pregnant": "present"})
    with pytest.raises(CaseError, match="pregnant"):
        parse_case(data)
    data = with_("total_spine_operations", 1)
    data["earlier_surgeries"] = [{"type": "laminectomy"}]
    with pytest.raises(CaseError, match="total_spine_operations is smaller"):
        parse_case(data)


def test_lab_value_out_of_its_range() -> None:
    with pytest.raises(CaseError, match="crp must be between 0 and 600"):
        parse_case(with_("labs", [{"lab": "crp", "value": 9000}]))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('"case"', "expected a JSON object"),
        ("{}", "id: Field required"),
        ("", "not valid JSON"),
    ],
)
def test_not_a_case(text: str, expected: str) -> None:
    with pytest.raises(CaseError, match=expected):
        parse_case(text, origin="input.json")


def test_many_problems_are_counted(tmp_path: Path) -> None:
    data = with_("pain", {"nrs_leg": 20, "nrs_back": 20, "back_share_percent": 300, "side": "up"})
    with pytest.raises(CaseError, match="and 1 more problem"):
        parse_case(data)


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(CaseError, match="cannot read"):
        read_case(tmp_path / "missing.json")
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"id": "é"}'.encode("latin-1"))
    with pytest.raises(CaseError, match="not UTF-8"):
        read_case(latin)


def test_schema_round_trip() -> None:
    case = parse_case(with_("diagnostics", [{"finding": "pseudarthrosis", "modality": "ct", "level": "l4-l5"}]))
    assert case.diagnostics[0].level == "L4-L5"
    again = parse_case(case.model_dump_json())
    assert again == case


def test_the_moment_a_red_flag_screen_was_recorded_is_checked_like_a_date() -> None:
    recorded = {"result": "negative", "by": "dr.lee", "at": "2026-10-02T09:30:00Z"}
    assert parse_case(with_("red_flag_screen", recorded)).red_flag_screen is not None
    with pytest.raises(CaseError, match=r"red_flag_screen\.at: a date from 1900-01-01 to 2100-12-31"):
        parse_case(with_("red_flag_screen", {**recorded, "at": "2199-01-01T00:00:00Z"}))
