"""UCUM conversion for the case's units, and the RxNorm -> ATC table: lookups, name matching, validation on load."""

from __future__ import annotations

from pathlib import Path

import pytest

from fbss.errors import KnowledgeError
from fbss.fhir.codes import Coding
from fbss.fhir.medicines import RXNORM, TABLE_FILE, default_table, load_table
from fbss.fhir.units import convert, is_ucum


@pytest.mark.parametrize(
    ("value", "unit", "target", "expected"),
    [
        (0.3, "mg/dL", "mg/L", 3.0),
        (101.7, "[degF]", "Cel", 38.72),
        (15.8, "10*3/uL", "10*9/L", 15.8),
        (64.8, "mL/min", "mL/min/{1.73_m2}", 64.8),  # an annotation carries no unit
        (5, "/nL", "10*9/L", 5.0),
    ],
)
def test_ucum_units_convert_to_the_case_unit(value: float, unit: str, target: str, expected: float) -> None:
    assert convert(value, unit, target) == pytest.approx(expected, abs=0.01)


def test_units_that_cannot_be_converted_say_why() -> None:
    assert "not convertible to mg/L" in str(convert(3, "nmol", "mg/L"))
    assert "not a UCUM unit" in str(convert(3, "milligrams please", "mg/L"))
    assert is_ucum("mm/h") and not is_ucum("mm/hr")


def test_rxnorm_products_reach_their_atc_codes() -> None:
    table = default_table()
    warfarin = table.atc_of(Coding(RXNORM, "855332", "Warfarin Sodium 5 MG Oral Tablet"))
    assert warfarin is not None and (warfarin.atc, warfarin.how) == ("B01AA03", "rxcui")
    combination = table.atc_of(Coding(RXNORM, "1049221"))
    assert combination is not None and combination.atc == "N02AJ17"


def test_an_unlisted_product_is_read_by_its_single_ingredient_name_only() -> None:
    table = default_table()
    apixaban = table.atc_of(Coding(RXNORM, "1364445", "apixaban 5 MG Oral Tablet"))
    assert apixaban is not None and (apixaban.atc, apixaban.status) == ("B01AF02", "matched by name")
    assert table.atc_of(Coding(RXNORM, "1", "Acetaminophen 325 MG / Codeine Phosphate 30 MG Oral Tablet")) is None
    assert table.atc_of(Coding(RXNORM, "2", "Simvastatin 20 MG Oral Tablet")) is None


def test_the_table_is_validated_on_load(tmp_path: Path) -> None:
    text = TABLE_FILE.read_text(encoding="utf-8")
    bad = tmp_path / "rxnorm_atc.yaml"
    bad.write_text(
        text.replace(
            "atc: B01AA03, status: corroborated, sources: [rxnorm, who_atc_index]",
            "atc: B01AA03, status: corroborated, sources: [a_blog]",
            1,
        ),
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError, match="unknown source"):
        load_table(bad)
    bad.write_text(text.replace("atc: B01AA03", "atc: warfarin", 1), encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"rxnorm_atc\.yaml"):
        load_table(bad)
