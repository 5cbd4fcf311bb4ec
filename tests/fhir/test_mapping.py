"""The mapping file: loads, every code carries a verification status, unverified codes are marked and documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from fbss.errors import KnowledgeError
from fbss.fhir.codes import Coding
from fbss.fhir.mapping import MAPPING_FILE, Verification, default_mapping, load_mapping

DOCS = Path(__file__).resolve().parents[2] / "docs" / "fhir.md"


def test_the_packaged_mapping_loads() -> None:
    mapping = default_mapping()
    assert {s.id for s in mapping.data.systems} >= {"snomed", "loinc", "icd10cm", "icd11"}


def test_fbss_condition_codes_and_their_status() -> None:
    codes = {(mapping_ref.system, mapping_ref.code): mapping_ref for _, _, mapping_ref in default_mapping().all_codes()}
    assert codes[("icd10cm", "M96.1")].status is Verification.verified
    assert codes[("icd11", "MG30.21")].status is Verification.verified
    child = codes[("icd11", "MG30.211")]
    assert child.status is Verification.unverified
    assert child.import_ is False
    assert codes[("snomed", "55705006")].import_ is False


def test_every_verified_code_names_its_source() -> None:
    for _, _, ref in default_mapping().all_codes():
        if ref.status is Verification.verified:
            assert ref.source, ref.code


def test_every_code_is_in_the_documentation_table() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [ref.code for _, _, ref in default_mapping().all_codes() if f"`{ref.code}`" not in text]
    assert not missing, f"docs/fhir.md lacks {missing}"


def test_a_target_that_is_not_a_case_field_is_refused(tmp_path: Path) -> None:
    text = MAPPING_FILE.read_text(encoding="utf-8").replace(
        "target: risk_factors.diabetes", "target: risk_factors.sugar"
    )
    bad = tmp_path / "mapping.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"condition 'diabetes'.*sugar"):
        load_mapping(bad)


def test_an_unknown_code_system_is_refused(tmp_path: Path) -> None:
    text = MAPPING_FILE.read_text(encoding="utf-8").replace('{system: atc, code: "N02A"', '{system: ndc, code: "N02A"')
    bad = tmp_path / "mapping.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError, match="unknown code system 'ndc'"):
        load_mapping(bad)


def test_the_code_index_finds_what_a_scan_of_every_rule_finds_in_the_same_order() -> None:
    mapping = default_mapping()
    sections = [
        mapping.data.conditions,
        mapping.data.observations,
        mapping.data.surgeries,
        mapping.data.medications,
        mapping.data.procedures,
        mapping.data.allergies,
    ]
    probes = {mapping.coding(ref) for _, _, ref in mapping.all_codes()}
    # longer and shorter codes than the mapping's (prefix matches), other systems, no code at all
    probes |= {Coding(p.system, (p.code or "") + "9", None) for p in list(probes)}
    probes |= {Coding(p.system, (p.code or "")[:-1], None) for p in list(probes)}
    probes |= {Coding("http://example.org/other", p.code, None) for p in list(probes)} | {Coding(None, None, None)}
    for rules in sections:
        for coding in probes:
            scanned = [(rule, ref) for rule in rules for ref in rule.codes if mapping.matches(ref, coding)]
            assert list(mapping.find(rules, coding)) == scanned, coding
