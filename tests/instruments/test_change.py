"""Change that matters: every success / grey zone / failure boundary, MCIDs, and bad input."""

from __future__ import annotations

import math

import pytest

from fbss.instruments import (
    ChangeError,
    InstrumentCatalogue,
    Outcome,
    UnknownInstrumentError,
    classify_change,
    score,
)
from fbss.instruments.models import Measure, Scale, SuccessDefinition

S, G, F, N = Outcome.success, Outcome.grey_zone, Outcome.failure, Outcome.not_success


def outcome_of(instrument: str, definition: str, baseline: float | None, follow_up: float) -> Outcome | None:
    result = classify_change(instrument, baseline, follow_up)
    return next(d.outcome for d in result.definitions if d.definition_id == definition)


# Every boundary of every definition, at the boundary and one step either side.
BOUNDARIES = [
    # ODI, Werner 2017: success >= 20 points, grey [13, 20), failure < 13 (ODI % scale, points)
    ("odi", "odi_werner_2017", 50, 30, S),
    ("odi", "odi_werner_2017", 50, 30.5, G),
    ("odi", "odi_werner_2017", 50, 29.5, S),
    ("odi", "odi_werner_2017", 50, 37, G),
    ("odi", "odi_werner_2017", 50, 37.5, F),
    ("odi", "odi_werner_2017", 50, 36.5, G),
    ("odi", "odi_werner_2017", 50, 50, F),
    ("odi", "odi_werner_2017", 40, 60, F),
    ("odi", "odi_werner_2017", 100, 0, S),
    ("odi", "odi_werner_2017", 0, 100, F),
    # ODI PASS (NORspine): <= 22 at follow-up
    ("odi", "odi_pass_norspine", 60, 22, S),
    ("odi", "odi_pass_norspine", 60, 22.2, N),
    ("odi", "odi_pass_norspine", 60, 21.8, S),
    ("odi", "odi_pass_norspine", 60, 0, S),
    ("odi", "odi_pass_norspine", 60, 100, N),
    # NRS, success for care other than SCS: >= 30 % lower (the minimal important change)
    ("nrs_back", "nrs_back_mic_30", 10, 7, S),  # exactly 30 %
    ("nrs_back", "nrs_back_mic_30", 7, 5, N),  # 29 %: an SCS-style 50 % would also fail, 2 points meets the MIC
    ("nrs_back", "nrs_back_mic_30", 8, 5, S),  # 38 %: success here although not an SCS responder
    ("nrs_leg", "nrs_leg_mic_30", 10, 7, S),
    ("nrs_leg", "nrs_leg_mic_30", 9, 7, N),  # 22 %
    ("nrs_leg", "nrs_leg_mic_30", 6, 4, S),  # 33 %
    # NRS back, SENZA responder: >= 50 % reduction
    ("nrs_back", "nrs_back_scs_responder", 8, 4, S),
    ("nrs_back", "nrs_back_scs_responder", 8, 5, N),
    ("nrs_back", "nrs_back_scs_responder", 7, 3, S),  # 57 %
    ("nrs_back", "nrs_back_scs_responder", 7, 4, N),  # 43 %
    ("nrs_back", "nrs_back_scs_responder", 6, 9, N),
    ("nrs_back", "nrs_back_scs_responder", 10, 0, S),
    # NRS leg, PROCESS responder: >= 50 % relief
    ("nrs_leg", "nrs_leg_scs_responder", 6, 3, S),
    ("nrs_leg", "nrs_leg_scs_responder", 6, 4, N),
    ("nrs_leg", "nrs_leg_scs_responder", 9, 5, N),  # 44 %
    ("nrs_leg", "nrs_leg_scs_responder", 9, 4, S),  # 56 %
    # Solberg 2013: back >= 2.5, leg >= 3.5 points
    ("nrs_back", "nrs_back_solberg_2013", 8, 5.5, S),
    ("nrs_back", "nrs_back_solberg_2013", 8, 6, N),
    ("nrs_back", "nrs_back_solberg_2013", 8, 5, S),
    ("nrs_back", "nrs_back_solberg_2013", 0, 10, N),
    ("nrs_leg", "nrs_leg_solberg_2013", 8, 4.5, S),
    ("nrs_leg", "nrs_leg_solberg_2013", 8, 5, N),
    ("nrs_leg", "nrs_leg_solberg_2013", 8, 4, S),
    # PGIC responder: 1-2
    ("pgic", "pgic_responder", None, 1, S),
    ("pgic", "pgic_responder", None, 2, S),
    ("pgic", "pgic_responder", None, 3, N),
    ("pgic", "pgic_responder", None, 7, N),
    # COMI (Mannion 2009): improvement >= 2.2 decrease; deterioration >= 0.3 increase
    ("comi", "comi_mannion_2009", 6, 3.8, S),
    ("comi", "comi_mannion_2009", 6, 3.9, G),
    ("comi", "comi_mannion_2009", 6, 3.7, S),
    ("comi", "comi_mannion_2009", 6, 6.3, F),
    ("comi", "comi_mannion_2009", 6, 6.2, G),
    ("comi", "comi_mannion_2009", 6, 6.4, F),
    ("comi", "comi_mannion_2009", 6, 6, G),
    ("comi", "comi_mannion_2009", 0, 10, F),
    ("comi", "comi_mannion_2009", 10, 0, S),
]


@pytest.mark.parametrize(("instrument", "definition", "baseline", "follow_up", "expected"), BOUNDARIES)
def test_success_boundaries(
    instrument: str, definition: str, baseline: float | None, follow_up: float, expected: Outcome
) -> None:
    assert outcome_of(instrument, definition, baseline, follow_up) is expected


def test_every_definition_has_a_boundary_test(catalogue: InstrumentCatalogue) -> None:
    defined = {d.id for i in catalogue if i.change for d in i.change.definitions}
    assert defined == {row[1] for row in BOUNDARIES}


def _pair_for(measure: Measure, scale: Scale, value: float) -> tuple[float | None, float]:
    """Baseline and follow-up on a lower-is-better scale that give `value` on `measure`."""
    if measure is Measure.follow_up_score:
        return scale.max, value
    if measure is Measure.improvement_points:
        return (scale.max, scale.max - value) if value >= 0 else (scale.min, scale.min - value)
    baseline = scale.max if value >= 0 else scale.max / 4
    return baseline, baseline * (1 - value / 100)


def test_every_band_edge_in_the_data_goes_to_the_band_that_owns_it(catalogue: InstrumentCatalogue) -> None:
    """Over the data: at each finite edge, and 1e-6 either side, exactly the owning band answers."""
    checked = 0
    for instrument in catalogue:
        if instrument.change is None:
            continue
        scale = next(s for s in instrument.scales if s.id == instrument.change.scale)
        for definition in instrument.change.definitions:
            for band in definition.bands:
                interval = band.interval
                for edge in (interval.low, interval.high):
                    if math.isinf(edge):
                        continue
                    for value in (edge - 1e-6, edge, edge + 1e-6):
                        owner = _owner(definition, value)
                        if owner is None:
                            continue  # outside the measure's range
                        baseline, follow_up = _pair_for(definition.measure, scale, value)
                        if not scale.min <= follow_up <= scale.max:
                            continue
                        assert outcome_of(instrument.id, definition.id, baseline, follow_up) is owner, (
                            definition.id,
                            value,
                        )
                        checked += 1
    assert checked > 40


def _owner(definition: SuccessDefinition, value: float) -> Outcome | None:
    owners = [b.outcome for b in definition.bands if b.interval.contains(value)]
    assert len(owners) <= 1
    return owners[0] if owners else None


# --- MCID ---


@pytest.mark.parametrize(
    ("baseline", "follow_up", "met"),
    [
        (50, 40, True),  # 10 points
        (50, 40.5, False),  # 9.5 points, 19 %
        (20, 14, True),  # 6 points but 30 %
        (20, 14.5, False),  # 27.5 %
        (70, 49, True),  # 30 % with floating-point residue
        (100, 90, True),
        (0, 0, False),  # percentage undefined, no points gained
    ],
)
def test_odi_mcid_10_points_or_30_percent(baseline: float, follow_up: float, met: bool) -> None:
    result = classify_change("odi", baseline, follow_up)
    assert result.mcid_met is met
    assert result.mcid is not None and result.mcid.sources == ("ostelo_2008",)


@pytest.mark.parametrize(
    ("baseline", "follow_up", "met"),
    [(9, 7, True), (9, 8, False), (3, 2, True), (4, 3, False), (10, 7, True), (0, 0, False), (2, 4, False)],
)
def test_nrs_mcid_2_points_or_30_percent(baseline: int, follow_up: int, met: bool) -> None:
    assert classify_change("nrs_leg", baseline, follow_up).mcid_met is met


def test_comi_mcid_2_2_points() -> None:
    assert classify_change("comi", 7, 4.8).mcid_met is True
    assert classify_change("comi", 7, 4.9).mcid_met is False


# --- result shape ---


def test_change_result_from_scores_carries_primary_outcome_and_sources() -> None:
    sections = ["pain_intensity", "personal_care", "lifting", "walking", "sitting", "standing", "sleeping",
                "sex_life", "social_life", "travelling"]  # fmt: skip
    baseline = score("odi", dict.fromkeys(sections, 3))
    follow_up = score("odi", dict.fromkeys(sections, 1))
    result = classify_change("odi", baseline, follow_up)
    assert (result.baseline, result.follow_up) == (60, 20)
    assert result.improvement_points == 40
    assert result.improvement_percent == pytest.approx(200 / 3)
    assert result.outcome is Outcome.success
    assert result.primary_definition == "odi_werner_2017"
    assert result.mcid_met is True
    assert {"werner_2017", "norspine_reoperation_2023", "ostelo_2008"} <= set(result.sources)
    assert any("werner_2017" in line for line in result.because)


def test_percentage_change_from_zero_is_not_applicable() -> None:
    result = classify_change("nrs_back", 0, 3)
    responder = next(d for d in result.definitions if d.definition_id == "nrs_back_scs_responder")
    assert responder.outcome is None and responder.value is None
    assert result.outcome is None
    assert "undefined" in responder.because


# --- bad input ---


def test_instrument_without_change_definition() -> None:
    with pytest.raises(ChangeError, match=r"instrument_id: 'phq9' has no definition of important change.*odi"):
        classify_change("phq9", 10, 5)


def test_unknown_instrument() -> None:
    with pytest.raises(UnknownInstrumentError):
        classify_change("odx", 10, 5)


def test_baseline_required_for_change_measures() -> None:
    with pytest.raises(ChangeError, match=r"baseline: required for odi_werner_2017"):
        classify_change("odi", None, 20)


@pytest.mark.parametrize(
    ("baseline", "follow_up", "message"),
    [
        (120, 20, r"baseline: 120 is out of range; expected ODI score \(%\) from 0 to 100"),
        (50, -1, r"follow_up: -1 is out of range"),
        (50, float("nan"), r"follow_up: nan is not a number"),
    ],
)
def test_out_of_range_values(baseline: float, follow_up: float, message: str) -> None:
    with pytest.raises(ChangeError, match=message):
        classify_change("odi", baseline, follow_up)


def test_score_from_another_instrument_is_refused() -> None:
    nrs = score("nrs_leg", {"pain": 5})
    with pytest.raises(ChangeError, match="baseline: a nrs_leg score cannot be compared on nrs_back"):
        classify_change("nrs_back", nrs, 3)
