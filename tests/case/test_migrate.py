"""Case schema versions: old files load exactly as before, newer ones are refused by name."""

from __future__ import annotations

import json

import pytest

from fbss.case.migrate import SCHEMA_VERSION, migrate
from fbss.case.parse import parse_case, read_case
from fbss.errors import CaseError
from tests.conftest import EXAMPLES


def test_a_file_without_a_version_is_version_1_and_means_the_same_in_the_current_schema() -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert "schema_version" not in data, "the examples stay version 1 files, to keep the migration tested"
        old = read_case(path)
        assert old.schema_version == SCHEMA_VERSION
        labelled = parse_case({**data, "schema_version": "1"})
        current = parse_case({**data, "schema_version": SCHEMA_VERSION})
        assert old == labelled == current, path.name


def test_migration_keeps_every_value_and_only_sets_the_version() -> None:
    data = {"id": "p1", "index_surgery": {"type": "laminectomy"}, "pain": {"nrs_leg": 7}}
    migrated = migrate(data)
    assert migrated == {**data, "schema_version": SCHEMA_VERSION}
    assert "schema_version" not in data  # the input is not changed in place
    assert migrate({**data, "schema_version": 1})["schema_version"] == SCHEMA_VERSION


def test_a_saved_case_says_its_version_and_reloads() -> None:
    case = parse_case({"id": "p1", "index_surgery": {"type": "laminectomy"}})
    saved = json.loads(case.model_dump_json())
    assert saved["schema_version"] == SCHEMA_VERSION
    assert parse_case(saved) == case


@pytest.mark.parametrize("version", ["3", "0", "two"])
def test_an_unknown_version_is_refused_by_name(version: str) -> None:
    with pytest.raises(CaseError, match=f"schema_version: this version reads case schema '{SCHEMA_VERSION}'"):
        parse_case({"id": "p1", "schema_version": version, "index_surgery": {"type": "laminectomy"}})
