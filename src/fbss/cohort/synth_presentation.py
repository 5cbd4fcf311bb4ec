"""The presentation vocabulary for a synthetic patient, filled in from what the case already says.

The example cases were written before the vocabulary existed; a synthetic variant gains pain in words, qualities,
onset and trend, posture, walking and disability scores, work, comorbidities, bone density, general signs and
spinopelvic numbers that agree with its story (a claudicant walks little and is worse standing; a flatback has a
large PI-LL mismatch; a 70-year-old is usually retired). The shares are plausible choices for test data, not
epidemiology. Only items that travel through the FHIR export are filled (section fields, not operative details,
reflex rows or treatment responses), so that importing the export still gives the case back. Anything the example
states is kept; nothing contradicts it.
"""

from __future__ import annotations

import random
from typing import Any

# NRS -> words, the same bands the derived facts use (Serlin 1995: 1-4 mild, 5-6 moderate, 7-10 severe)
_WORDS = ((7, "severe"), (5, "moderate"), (1, "mild"), (0, "none"))
WORDS_INSTEAD_OF_NUMBER = 0.3
RECORDED = 0.7


def _words(nrs: int) -> str:
    return next(word for floor, word in _WORDS if nrs >= floor)


def _said(section: dict[str, Any], key: str) -> bool:
    return section.get(key) == "present"


def _put(section: dict[str, Any], key: str, value: Any) -> None:
    section.setdefault(key, value)  # what the example states wins


def _maybe(rng: random.Random, section: dict[str, Any], key: str, present: float) -> None:
    """Record the item (present with probability `present`) in RECORDED of patients; leave it unknown otherwise."""
    if key not in section and rng.random() < RECORDED:
        section[key] = "present" if rng.random() < present else "absent"


def _pain(data: dict[str, Any], rng: random.Random) -> None:
    pain = data.setdefault("pain", {})
    for where in ("back", "leg"):
        nrs = pain.get(f"nrs_{where}")
        if not isinstance(nrs, int):
            continue
        _put(pain, f"{where}_pain", "present" if nrs > 0 else "absent")
        if rng.random() < WORDS_INSTEAD_OF_NUMBER:
            del pain[f"nrs_{where}"]  # the notes give words, not a number
            _put(pain, f"{where}_intensity", _words(nrs))
    radicular = _said(pain, "dermatomal") or (pain.get("nrs_leg") or 0) >= 5
    _maybe(rng, pain, "shooting", 0.7 if radicular else 0.1)
    _maybe(rng, pain, "tingling", 0.6 if radicular or _said(pain, "numbness") else 0.15)
    _maybe(rng, pain, "aching", 0.8 if (pain.get("back_share_percent") or 0) >= 50 else 0.4)
    _maybe(rng, pain, "constant", 0.7 if _said(pain, "night_or_rest_pain") else 0.3)
    claudicant = _said(pain, "neurogenic_claudication")
    if claudicant:
        _put(pain, "worse_standing", "present")
        _put(pain, "worse_walking", "present")
        _put(pain, "worse_bending_forward", "absent")
    elif _said(pain, "mechanical"):
        _maybe(rng, pain, "worse_bending_forward", 0.6)
        _maybe(rng, pain, "worse_twisting", 0.5)
    if radicular and not claudicant:
        _maybe(rng, pain, "worse_coughing_or_straining", 0.4)
    course = data.get("course") or {}
    if "onset" not in pain and rng.random() < RECORDED:
        pain["onset"] = (
            "sudden"
            if _said(course, "fall_or_injury_since_surgery")
            else rng.choice(["gradual", "gradual", "gradual", "sudden"])
        )
    if "trend" not in pain and rng.random() < RECORDED:
        exam = data.get("exam") or {}
        worse = _said(exam, "motor_deficit_progressive") or _said(data.get("red_flags") or {}, "fever")
        pain["trend"] = (
            "worsening" if worse else rng.choice(["stable", "stable", "fluctuating", "worsening", "improving"])
        )
    if _said(course, "relief_after_surgery"):
        _maybe(rng, course, "uneventful_early_recovery", 0.85)
        data["course"] = course


def _function(data: dict[str, Any], rng: random.Random) -> None:
    if rng.random() > 0.6:
        return  # no questionnaire at this visit
    pain = data.get("pain") or {}
    worst = max(pain.get("nrs_back") or 0, pain.get("nrs_leg") or 0)
    function = data.setdefault("function", {})
    odi = max(0.0, min(100.0, 8 + 5 * worst + rng.gauss(0, 8)))
    _put(function, "odi_percent", round(odi))
    _put(function, "rmdq_total", max(0, min(24, round(odi * 24 / 100 + rng.gauss(0, 2)))))
    if _said(pain, "neurogenic_claudication") or _said(pain, "vascular_claudication"):
        _put(function, "walking_distance_m", rng.choice([50, 100, 150, 200, 300, 500]))
    elif rng.random() < 0.5:
        _put(function, "walking_distance_m", rng.choice([500, 1000, 2000, 5000]))
    if (pain.get("nrs_leg") or 0) >= 5 and rng.random() < 0.4:
        _put(function, "lefs_total", max(0, min(80, round(80 - odi * 0.7 + rng.gauss(0, 6)))))
    _maybe(rng, function, "walking_aid", 0.5 if odi > 50 else 0.1)


def _work(data: dict[str, Any], rng: random.Random) -> None:
    age = (data.get("patient") or {}).get("age")
    if not isinstance(age, int) or rng.random() > RECORDED:
        return
    work = data.setdefault("work", {})
    if age >= 66:
        status = rng.choices(["retired", "working"], weights=[0.9, 0.1])[0]
    else:
        status = rng.choices(
            ["working", "working_reduced", "off_sick", "unemployed", "homemaker"], weights=[0.4, 0.15, 0.3, 0.1, 0.05]
        )[0]
    _put(work, "status", status)
    if work["status"] == "off_sick":
        _put(work, "months_off_work", float(rng.randint(1, 24)))
    if work["status"] in ("working", "working_reduced", "off_sick"):
        _maybe(rng, work, "physically_demanding", 0.35)


def _comorbidities(data: dict[str, Any], rng: random.Random) -> None:
    age = (data.get("patient") or {}).get("age") or 50
    risk = data.setdefault("risk_factors", {})
    pain = data.get("pain") or {}
    _maybe(rng, risk, "hypertension", 0.45 if age >= 60 else 0.2)
    _maybe(rng, risk, "heart_disease", 0.15 if age >= 65 else 0.04)
    _maybe(rng, risk, "chronic_kidney_disease", 0.08 if age >= 65 else 0.02)
    _maybe(rng, risk, "inflammatory_arthritis", 0.03)
    _maybe(rng, risk, "fibromyalgia", 0.4 if _said(pain, "widespread_pain") else 0.03)
    if age >= 60:
        _maybe(rng, risk, "parkinsons_disease", 0.02)
    _bone(data, risk, rng, age)


def _bone(data: dict[str, Any], risk: dict[str, Any], rng: random.Random, age: int) -> None:
    female = (data.get("patient") or {}).get("sex") == "female"
    if "dexa_t_score" in risk or not (risk.get("osteoporosis") == "present" or (age >= 60 and rng.random() < 0.3)):
        return
    if risk.get("osteoporosis") == "present":
        t = rng.uniform(-3.8, -2.5)
    else:
        t = rng.uniform(-2.4, 0.5) - (0.5 if female else 0)
        if t <= -2.5 and risk.get("osteoporosis") == "absent":
            t = -2.4
    t = round(t, 1)
    risk["dexa_t_score"] = t
    if t <= -2.5:
        _put(risk, "osteoporosis", "present")
    elif t < -1:
        _put(risk, "osteopenia", "present")
    else:
        _put(risk, "osteopenia", "absent")
    if risk.get("osteoporosis") == "present":
        _maybe(rng, risk, "osteoporosis_treated", 0.6)


def _alignment(data: dict[str, Any], rng: random.Random) -> None:
    surgery = data.get("index_surgery") or {}
    if surgery.get("type") != "fusion":
        return
    findings = {d.get("finding") for d in data.get("diagnostics") or [] if d.get("presence", "present") == "present"}
    stooped = "sagittal_imbalance" in findings or _said(data.get("exam") or {}, "sagittal_imbalance_clinical")
    if not stooped and rng.random() > 0.4:
        return
    alignment = data.setdefault("alignment", {})
    incidence = rng.uniform(55, 70) if stooped else rng.uniform(40, 65)
    mismatch = rng.uniform(20, 35) if stooped else rng.uniform(-5, 9)
    _put(alignment, "pelvic_incidence_deg", round(incidence, 1))
    _put(alignment, "lumbar_lordosis_deg", round(incidence - mismatch, 1))
    _put(alignment, "pelvic_tilt_deg", round(rng.uniform(25, 35) if stooped else rng.uniform(10, 19), 1))
    _put(alignment, "sagittal_vertical_axis_mm", round(rng.uniform(60, 150) if stooped else rng.uniform(-20, 35)))
    _put(alignment, "coronal_offset_mm", round(rng.uniform(0, 15)))


def _systemic(data: dict[str, Any], rng: random.Random) -> None:
    systemic = data.setdefault("systemic", {})
    pain = data.get("pain") or {}
    flags = data.get("red_flags") or {}
    if _said(pain, "positional_headache"):
        _put(systemic, "headache", "present")
        _maybe(rng, systemic, "nausea", 0.5)
    if _said(flags, "sepsis_signs"):
        _put(systemic, "tachycardia", "present")
        _maybe(rng, systemic, "hypotension", 0.5)
    elif rng.random() < 0.3:
        for key in ("nausea", "vomiting", "hypotension"):
            _put(systemic, key, "absent")
    if not systemic:
        del data["systemic"]


def _exam(data: dict[str, Any], rng: random.Random) -> None:
    exam = data.setdefault("exam", {})
    if _said(exam, "straight_leg_raise"):
        _maybe(rng, exam, "crossed_straight_leg_raise", 0.25)
    if _said(data.get("pain") or {}, "anterior_thigh_pain"):
        _maybe(rng, exam, "femoral_stretch_test", 0.5)
    if _said(data.get("red_flags") or {}, "fever"):
        _maybe(rng, exam, "spinal_tenderness", 0.8)


def add_presentation(data: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The case data (changed in place and returned) with the presentation vocabulary filled in plausibly."""
    _pain(data, rng)
    _function(data, rng)
    _work(data, rng)
    _comorbidities(data, rng)
    _alignment(data, rng)
    _systemic(data, rng)
    _exam(data, rng)
    return data
