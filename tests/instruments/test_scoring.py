"""Worked scoring examples, band boundaries, and bad input for every instrument."""

from __future__ import annotations

import itertools

import pytest

from fbss.instruments import AnswerError, MissingAnswersError, UnknownInstrumentError, score

ODI_16 = {
    "pain_intensity": 2, "personal_care": 1, "lifting": 3, "walking": 1, "sitting": 2,
    "standing": 2, "sleeping": 1, "sex_life": 1, "social_life": 2, "travelling": 1,
}  # fmt: skip


def odi_with(**changes: int | None) -> dict[str, int | None]:
    return {**ODI_16, **changes}


# --- Oswestry Disability Index ---


def test_odi_worked_example_all_sections_16_of_50_is_32_percent() -> None:
    result = score("odi", ODI_16)
    assert result.total == pytest.approx(32.0)
    assert result.scale_id == "percent"
    assert result.band == "moderate disability"
    assert result.value("raw") == 16
    raw_band = result.band_for("odi_loinc_raw_bands")
    assert raw_band is not None and raw_band.label == "moderate"


def test_odi_worked_example_one_section_missing_16_of_45_is_35_6_percent() -> None:
    # sex life left blank, the other nine sections still sum to 16
    result = score("odi", odi_with(sex_life=None, pain_intensity=3))
    assert result.total == pytest.approx(16 / 45 * 100)
    assert round(result.total or 0, 1) == 35.6
    assert result.missing_items == ("sex_life",)
    assert result.value("raw") is None  # the LOINC raw sum needs a complete form
    assert result.band_for("odi_loinc_raw_bands") is None


def test_odi_missing_sections_may_be_left_out_of_the_mapping() -> None:
    answers = {k: v for k, v in ODI_16.items() if k not in {"sex_life", "sleeping"}}
    assert score("odi", answers).total == pytest.approx(14 / 40 * 100)


def test_odi_refuses_more_than_two_missing_sections() -> None:
    with pytest.raises(MissingAnswersError, match=r"answers: 3 of 10 items unanswered for odi .*at most 2"):
        score("odi", odi_with(sex_life=None, lifting=None, travelling=None))


@pytest.mark.parametrize(
    ("raw_total", "percent_band", "loinc_band"),
    [
        (0, "minimal disability", "no disability"),
        (4, "minimal disability", "no disability"),
        (5, "minimal disability", "mild"),
        (10, "minimal disability", "mild"),  # 20 %
        (11, "moderate disability", "mild"),  # 22 %
        (14, "moderate disability", "mild"),
        (15, "moderate disability", "moderate"),
        (20, "moderate disability", "moderate"),  # 40 %
        (21, "severe disability", "moderate"),
        (25, "severe disability", "severe"),
        (30, "severe disability", "severe"),  # 60 %
        (31, "crippled", "severe"),
        (35, "crippled", "completely disabled"),
        (40, "crippled", "completely disabled"),  # 80 %
        (41, "bed-bound or exaggerating symptoms", "completely disabled"),
        (50, "bed-bound or exaggerating symptoms", "completely disabled"),
    ],
)
def test_odi_percent_and_loinc_raw_bands_are_separate(raw_total: int, percent_band: str, loinc_band: str) -> None:
    answers = dict.fromkeys(ODI_16, 0)
    remaining = raw_total
    for key in answers:
        answers[key] = min(5, remaining)
        remaining -= answers[key]
    result = score("odi", answers)
    assert result.total == pytest.approx(raw_total * 2)
    assert result.band == percent_band
    loinc = result.band_for("odi_loinc_raw_bands")
    assert loinc is not None and loinc.label == loinc_band


def test_odi_score_between_published_whole_number_bands_goes_to_the_higher_band() -> None:
    # 9 / 45 = 20.0 %; 10 / 45 = 22.2 %; 37 / 45 = 82.2 %
    nine = {"pain_intensity": 5, "lifting": 4, "personal_care": 0, "walking": 0, "sitting": 0, "standing": 0,
            "sleeping": 0, "social_life": 0, "travelling": 0}  # fmt: skip
    assert score("odi", nine).band == "minimal disability"
    assert score("odi", {**nine, "walking": 1}).band == "moderate disability"


# --- pain NRS ---


@pytest.mark.parametrize(
    ("value", "label", "code"),
    [
        (0, "no present pain", "snomed:301379001"),
        (1, "mild", "snomed:40196000"),
        (3, "mild", "snomed:40196000"),
        (4, "moderate", "snomed:50415004"),
        (6, "moderate", "snomed:50415004"),
        (7, "severe", "snomed:76948002"),
        (9, "severe", "snomed:76948002"),
        (10, "excruciating", "snomed:67849003"),
    ],
)
@pytest.mark.parametrize("instrument", ["nrs_back", "nrs_leg"])
def test_nrs_bands_with_snomed_codes(instrument: str, value: int, label: str, code: str) -> None:
    result = score(instrument, {"pain": value})
    assert result.total == value
    assert result.band == label
    assert result.bands[0].code == code


# --- PHQ-9 and GAD-7 ---


def phq9(total: int, item9: int = 0) -> dict[str, int | None]:
    answers: dict[str, int | None] = dict.fromkeys((f"item{i}" for i in range(1, 9)), 0)
    answers["item9"] = item9
    remaining = total - item9
    for key in list(answers)[:8]:
        answers[key] = min(3, remaining)
        remaining -= answers[key] or 0
    assert remaining == 0
    return answers


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
     (15, "moderately severe"), (19, "moderately severe"), (20, "severe"), (27, "severe")],
)  # fmt: skip
def test_phq9_loinc_bands(total: int, band: str) -> None:
    result = score("phq9", phq9(total, item9=3 if total == 27 else 0))
    assert result.total == total
    assert result.band == band


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
     (15, "severe"), (21, "severe")],
)  # fmt: skip
def test_gad7_cut_offs_5_10_15(total: int, band: str) -> None:
    answers = dict.fromkeys((f"item{i}" for i in range(1, 8)), 0)
    remaining = total
    for key in answers:
        answers[key] = min(3, remaining)
        remaining -= answers[key]
    result = score("gad7", answers)
    assert (result.total, result.band) == (total, band)


# --- Pain Catastrophizing Scale ---


def test_pcs_total_and_subscales() -> None:
    answers = {f"item{i}": i % 5 for i in range(1, 14)}  # 1,2,3,4,0,1,2,3,4,0,1,2,3
    result = score("pcs", answers)
    assert result.total == 26
    assert result.value("helplessness") == 1 + 2 + 3 + 4 + 0 + 2
    assert result.value("magnification") == 1 + 2 + 3
    assert result.value("rumination") == 3 + 4 + 0 + 1
    assert result.band == "below clinical threshold"


@pytest.mark.parametrize(("total", "band"), [(29, "below clinical threshold"),
                                             (30, "clinically relevant catastrophizing")])  # fmt: skip
def test_pcs_total_threshold_is_at_least_30(total: int, band: str) -> None:
    answers = dict.fromkeys((f"item{i}" for i in range(1, 14)), 0)
    remaining = total
    for key in answers:
        answers[key] = min(4, remaining)
        remaining -= answers[key]
    assert score("pcs", answers).band == band


def test_pcs_subscale_thresholds_helplessness_13_magnification_5() -> None:
    base = dict.fromkeys((f"item{i}" for i in range(1, 14)), 0)
    # helplessness 12 and magnification 4, then 13 and 5
    low = score("pcs", {**base, "item1": 4, "item2": 4, "item3": 4, "item6": 4})
    high = score("pcs", {**base, "item1": 4, "item2": 4, "item3": 4, "item4": 1, "item6": 4, "item7": 1})
    assert low.band_for("pcs_helplessness_threshold").label == "below clinical threshold"  # type: ignore[union-attr]
    assert low.band_for("pcs_magnification_threshold").label == "below clinical threshold"  # type: ignore[union-attr]
    assert high.band_for("pcs_helplessness_threshold").label == "clinically significant"  # type: ignore[union-attr]
    assert high.band_for("pcs_magnification_threshold").label == "clinically significant"  # type: ignore[union-attr]


# --- DN4 ---

DN4_INTERVIEW = [
    "burning",
    "painful_cold",
    "electric_shocks",
    "tingling",
    "pins_and_needles",
    "numbness",
    "itching",
]
DN4_ALL = [*DN4_INTERVIEW, "hypoaesthesia_touch", "hypoaesthesia_pinprick", "brushing_pain"]


@pytest.mark.parametrize(("yes", "likely"), [(0, False), (3, False), (4, True), (10, True)])
def test_dn4_positive_from_4_of_10(yes: int, likely: bool) -> None:
    result = score("dn4", {item: int(n < yes) for n, item in enumerate(DN4_ALL)})
    assert result.total == yes
    assert (result.band == "neuropathic pain likely") is likely


@pytest.mark.parametrize(("yes", "likely"), [(0, False), (2, False), (3, True), (7, True)])
def test_dn4_interview_positive_from_3_of_7(yes: int, likely: bool) -> None:
    result = score("dn4_interview", {item: int(n < yes) for n, item in enumerate(DN4_INTERVIEW)})
    assert (result.band == "neuropathic pain likely") is likely


def test_dn4_interview_version_refuses_examination_items() -> None:
    with pytest.raises(AnswerError, match=r"answers.brushing_pain: unknown item for dn4_interview"):
        score("dn4_interview", {**dict.fromkeys(DN4_INTERVIEW, 0), "brushing_pain": 1})


# --- STarT Back ---


def published_startback_group(items_1_8: tuple[int, ...], item9: int) -> str:
    """The published rule, written independently of the data file."""
    bother = 1 if item9 >= 3 else 0  # "very much" or "extremely"
    total = sum(items_1_8) + bother
    distress = sum(items_1_8[4:]) + bother
    if total <= 3:
        return "low risk"
    return "high risk" if distress >= 4 else "medium risk"


def test_startback_every_possible_form_matches_the_published_rule() -> None:
    for items in itertools.product((0, 1), repeat=8):
        for item9 in range(5):
            answers = {f"item{i + 1}": v for i, v in enumerate(items)} | {"item9": item9}
            result = score("startback", answers)
            assert result.band == published_startback_group(items, item9), answers


def test_startback_subscale_and_bothersomeness_points() -> None:
    answers = dict.fromkeys((f"item{i}" for i in range(1, 9)), 0) | {"item5": 1, "item9": 2}
    result = score("startback", answers)
    assert (result.total, result.value("distress")) == (1, 1)  # "moderately" bothersome scores 0
    assert score("startback", answers | {"item9": 3}).value("distress") == 2


# --- TSK-17 ---


def test_tsk17_reverse_items_and_range() -> None:
    all_ones = dict.fromkeys((f"item{i}" for i in range(1, 18)), 1)
    # 13 ordinary items at 1, 4 reversed items at 1 -> 4 each
    assert score("tsk17", all_ones).total == 13 + 16
    assert score("tsk17", dict.fromkeys(all_ones, 4)).total == 52 + 4
    lowest = all_ones | {"item4": 4, "item8": 4, "item12": 4, "item16": 4}
    assert score("tsk17", lowest).total == 17


@pytest.mark.parametrize(("total", "band"), [(17, "not high"), (37, "not high"), (38, "high kinesiophobia"),
                                             (68, "high kinesiophobia")])  # fmt: skip
def test_tsk17_high_above_37(total: int, band: str) -> None:
    answers = dict.fromkeys((f"item{i}" for i in range(1, 18)), 1) | dict.fromkeys(
        ("item4", "item8", "item12", "item16"), 4
    )
    extra = total - 17
    for key in answers:
        if key in {"item4", "item8", "item12", "item16"}:
            step = min(3, extra)
            answers[key] = 4 - step
        else:
            step = min(3, extra)
            answers[key] = 1 + step
        extra -= step
    result = score("tsk17", answers)
    assert (result.total, result.band) == (total, band)


# --- EQ-5D-5L, PGIC, COMI, registry items ---


def test_eq5d5l_profile_digits_and_vas_without_index() -> None:
    result = score(
        "eq5d5l",
        {"mobility": 2, "self_care": 1, "usual_activities": 1, "pain_discomfort": 4, "anxiety_depression": 3,
         "vas": 65},
    )  # fmt: skip
    assert result.profile == "21143"
    assert result.total == 65 and result.scale_id == "vas"
    assert [v.scale_id for v in result.values] == ["vas"]


def test_pgic_answer_label() -> None:
    result = score("pgic", {"rating": 2})
    assert result.total == 2
    assert result.answers[0].label == "Much improved"


def test_comi_index_accepts_decimals() -> None:
    assert score("comi", {"index": 6.3}).total == pytest.approx(6.3)


def test_registry_items_record_labelled_answers() -> None:
    work = score("work_status", {"status": 3})
    assert work.total is None and work.answers[0].label == "on sick leave"
    complications = score("complications", {"reoperation": 1})
    assert complications.missing_items == ("patient_reported", "surgeon_reported", "device_revision")
    assert score("global_assessment", {"leg": 2}).answers[1].label == "much better"


# --- bad input ---


@pytest.mark.parametrize(
    ("instrument", "answers", "message"),
    [
        (
            "odi",
            odi_with(lifting=6),
            r"answers.lifting: 6 is out of range; expected a whole number from 0 to 5",
        ),
        ("odi", odi_with(lifting=-1), r"answers.lifting: -1 is out of range"),
        ("odi", {**ODI_16, "lifting": 2.5}, r"answers.lifting: 2.5 is not a whole number"),
        ("odi", {**ODI_16, "lifting": True}, r"answers.lifting: True is not a number"),
        ("odi", {**ODI_16, "lifting": "2"}, r"answers.lifting: '2' is not a number"),
        (
            "odi",
            {**ODI_16, "lifitng": 2},
            r"answers.lifitng: unknown item for odi; expected one of: pain_intensity",
        ),
        (
            "tsk17",
            {f"item{i}": 0 for i in range(1, 18)},
            r"answers.item1: 0 is out of range; expected .* 1 to 4",
        ),
        ("eq5d5l", {"mobility": 6}, r"answers.mobility: 6 is out of range"),
        ("nrs_back", {"pain": 11}, r"answers.pain: 11 is out of range; expected a whole number from 0 to 10"),
        ("comi", {"index": 10.5}, r"answers.index: 10.5 is out of range; expected a number from 0 to 10"),
    ],
)
def test_bad_answers_name_the_field_and_what_was_expected(
    instrument: str, answers: dict[str, object], message: str
) -> None:
    with pytest.raises(AnswerError, match=message):
        score(instrument, answers)  # type: ignore[arg-type]


def test_several_bad_answers_are_reported_together() -> None:
    with pytest.raises(AnswerError, match=r"answers.lifting: 9 .*; answers.walking: 7 "):
        score("odi", odi_with(lifting=9, walking=7))


@pytest.mark.parametrize("instrument", ["phq9", "gad7", "pcs", "dn4", "startback", "tsk17", "eq5d5l", "pgic"])
def test_incomplete_forms_without_a_missing_item_rule_are_refused(instrument: str) -> None:
    with pytest.raises(MissingAnswersError, match=rf"unanswered for {instrument}.*at most 0 may be missing"):
        score(instrument, {})


def test_unknown_instrument() -> None:
    with pytest.raises(UnknownInstrumentError, match="instrument_id: unknown instrument 'oswestry'"):
        score("oswestry", {})


def test_score_explains_itself_and_cites_sources() -> None:
    result = score("odi", ODI_16)
    assert any("16 / 50" in line for line in result.because)
    assert any("fairbank_2000_odi" in line for line in result.because)
    assert "fairbank_2000_odi" in result.sources
