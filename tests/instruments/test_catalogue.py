"""The instrument catalogue loads, cites known sources, respects licences, and refuses bad files precisely."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fbss.errors import KnowledgeError
from fbss.instruments import InstrumentCatalogue, UnknownInstrumentError, load_instruments
from fbss.instruments.catalogue import INSTRUMENTS_FILE, SOURCES_FILE, load_crisis_contacts
from fbss.instruments.models import LicenceStatus

from .conftest import write_variant

EXPECTED = {
    "odi", "nrs_back", "nrs_leg", "phq9", "gad7", "pcs", "dn4", "dn4_interview", "startback", "tsk17",
    "eq5d5l", "pgic", "comi", "work_status", "analgesic_use", "global_assessment", "satisfaction",
    "complications",
}  # fmt: skip


def test_catalogue_holds_every_instrument(catalogue: InstrumentCatalogue) -> None:
    assert set(catalogue.instruments) == EXPECTED


def test_licensed_instruments_ship_no_wording_and_say_where_the_form_is_obtained(
    catalogue: InstrumentCatalogue,
) -> None:
    licensed = {i.id for i in catalogue if i.licence.status is LicenceStatus.licensed}
    assert {"odi", "pcs", "eq5d5l", "tsk17", "startback", "dn4", "dn4_interview", "comi"} <= licensed
    for instrument in catalogue:
        if instrument.id in licensed:
            assert instrument.stem is None
            assert all(item.text is None for item in instrument.items), instrument.id
            assert len(instrument.licence.note) > 30


def test_public_domain_wording_is_shipped_for_phq9_and_gad7(catalogue: InstrumentCatalogue) -> None:
    phq9 = catalogue.get("phq9")
    assert phq9.licence.status is LicenceStatus.public_domain
    assert all(item.text for item in phq9.items)
    assert all(item.text for item in catalogue.get("gad7").items)


def test_loinc_codes_from_the_research_brief(catalogue: InstrumentCatalogue) -> None:
    def codes(instrument_id: str) -> set[str]:
        instrument = catalogue.get(instrument_id)
        found = {s.code for s in instrument.scales} | {i.code for i in instrument.items}
        return {c for c in found | {instrument.panel_code} if c}

    assert {"loinc:97908-8", "loinc:97909-6"} <= codes("odi")
    assert "loinc:72514-3" in codes("nrs_back") and "loinc:72514-3" in codes("nrs_leg")
    assert {"loinc:44249-1", "loinc:44261-6", "loinc:44260-8"} <= codes("phq9")
    assert {"loinc:70274-6", "loinc:69729-2"} <= codes("gad7")
    assert {"loinc:91349-1", "loinc:91351-7", "loinc:91350-9"} <= codes("startback")
    assert "fbss-local:pcs-total" in codes("pcs")


def test_eq5d5l_has_no_index_value(catalogue: InstrumentCatalogue) -> None:
    eq5d = catalogue.get("eq5d5l")
    assert [s.id for s in eq5d.scales] == ["vas"]
    assert eq5d.scoring.note is not None and "No index value" in eq5d.scoring.note


def test_own_source_ids_do_not_collide_with_the_bibliography(catalogue: InstrumentCatalogue) -> None:
    bibliography = {s["id"] for s in yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8"))["sources"]}
    own = {s["id"] for s in yaml.safe_load(INSTRUMENTS_FILE.read_text(encoding="utf-8"))["sources"]}
    assert not bibliography & own
    assert {"norspine_reoperation_2023", "kumar_process_2007", "kapural_senza_2015"} <= set(catalogue.sources)


def test_unknown_instrument_names_the_known_ones(catalogue: InstrumentCatalogue) -> None:
    with pytest.raises(UnknownInstrumentError, match=r"instrument_id: unknown instrument 'odx'.*odi"):
        catalogue.get("odx")


def test_default_crisis_contacts_tell_the_patient_to_call_the_local_emergency_number() -> None:
    contacts = load_crisis_contacts()
    assert "local emergency number" in contacts.default_message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            '{label: moderate disability, range: "(20, 40]"}',
            '{label: moderate disability, range: "(21, 40]"}',
            r"instrument 'odi' \(line \d+\).*gap between \[0, 20\] and \(21, 40\]",
            id="gap-in-score-bands",
        ),
        pytest.param(
            '{label: moderate disability, range: "(20, 40]"}',
            '{label: moderate disability, range: "[20, 40]"}',
            r"overlap: 20 belongs to both",
            id="overlap-in-score-bands",
        ),
        pytest.param(
            '{outcome: grey_zone, range: "[13, 20)"}',
            '{outcome: grey_zone, range: "[13, 19)"}',
            r"change definition odi_werner_2017.*gap",
            id="gap-in-success-bands",
        ),
        pytest.param(
            '{outcome: success, range: "[50, 100]"}\n'
            '            - {outcome: not_success, range: "(-inf, 50)"}\n'
            "        - id: nrs_back_solberg_2013",
            '{outcome: success, range: "[50, 90]"}\n'
            '            - {outcome: not_success, range: "(-inf, 50)"}\n'
            "        - id: nrs_back_solberg_2013",
            r"the bands end at \[50, 90\] but the scale ends at \(-inf, 100\]",
            id="success-bands-short-of-the-scale",
        ),
        pytest.param(
            "sources: [ostelo_2008]",
            "sources: [ostelo_2009]",
            r"instrument 'odi' \(line \d+\): cites unknown source 'ostelo_2009'",
            id="dangling-source",
        ),
        pytest.param(
            "  - id: ostelo_2008\n",
            "  - id: kumar_process_2007\n",
            r"sources entry 'kumar_process_2007' \(line \d+\): id already used in sources.yaml",
            id="source-id-collision",
        ),
        pytest.param(
            "{id: lifting, label: Lifting, min: 0, max: 5}",
            '{id: lifting, label: Lifting, min: 0, max: 5, text: "copied wording"}',
            r"licensed instrument must not ship item wording",
            id="licensed-wording",
        ),
        pytest.param(
            '{label: mild, range: "[5, 15)"}',
            '{label: mild, range: "5 to 15"}',
            r"at band_sets.1.bands.1.range: Value error, '5 to 15' is not an interval",
            id="unparseable-interval",
        ),
        pytest.param(
            "      window_before_days: 14\n      window_after_days: 14\n",
            "      window_before_days: 14\n      window_after_days: 40\n",
            r"schedule \(line \d+\): windows of week_6 and month_3 overlap",
            id="overlapping-time-point-windows",
        ),
        pytest.param(
            '{label: low risk, when: {total: "[0, 4)"}}',
            '{label: low risk, when: {total: "[0, 3)"}}',
            r"rule set 'startback_risk' \(line \d+\): no rule covers",
            id="rule-set-gap",
        ),
        pytest.param(
            "    max_missing: 2\n",
            "    max_missing: -1\n",
            r"instrument 'odi' \(line \d+\) at missing.max_missing",
            id="number-out-of-range",
        ),
    ],
)
def test_bad_file_is_refused_with_file_entry_line_and_reason(
    tmp_path: Path, yaml_text: str, old: str, new: str, expected: str
) -> None:
    path = write_variant(tmp_path, yaml_text, old, new)
    with pytest.raises(KnowledgeError, match=r"^instruments\.yaml: ") as caught:
        load_instruments(path)
    assert caught.match(expected)


def test_error_line_points_into_the_offending_entry(tmp_path: Path, yaml_text: str) -> None:
    path = write_variant(tmp_path, yaml_text, "{id: walking, label: Walking, min: 0, max: 5}", "{id: walking}")
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "{id: walking}" in text)
    with pytest.raises(KnowledgeError, match=rf"instrument 'odi' \(line {line}\) at items.3.label"):
        load_instruments(path)
