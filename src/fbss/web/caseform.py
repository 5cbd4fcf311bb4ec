"""The new-case form: its fields and steps (read from the Case model), form data to case data, and the Case
model's validation errors mapped back to the form field that caused them."""

from __future__ import annotations

import datetime as dt
import json
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import annotated_types
from pydantic import BaseModel, ValidationError

from fbss.case.derived import NO_PREGNANCY_FROM_AGE
from fbss.case.model import (
    Case,
    Course,
    DiagnosticResult,
    Examination,
    LabReading,
    Pain,
    Patient,
    Presence,
    PriorTreatment,
    Psychosocial,
    RedFlagItems,
    RiskFactors,
    Study,
    Surgery,
    UrgentSigns,
)
from fbss.case.parse import data_problems, date_problems
from fbss.case.presentation import Alignment, Function, ReflexExam, SystemicSigns, Work
from fbss.case.vocabulary import LAB_UNITS, MODALITY_LABEL, Lab, Modality
from fbss.web import numbers

STEPS: tuple[tuple[str, str], ...] = (
    ("surgery", "Patient and surgery"),
    ("course", "Course and risk factors"),
    ("pain", "Pain"),
    ("exam", "Examination and red flags"),
    ("imaging", "Imaging, labs and treatments"),
    ("psychosocial", "Psychosocial"),
)
STEP_IDS = tuple(s for s, _ in STEPS)
SCREEN_FIELD = "red_flag_screen.negative"
SCREEN_HELP = (
    "Tick when the patient was asked every red-flag question of this step and answered no: unanswered ones are "
    "then recorded as 'no', with your name and the time. Anything you mark present still counts."
)

# Words that read better written out than as field names.
LABELS: dict[str, str] = {
    "assessment_date": "Date of this assessment",
    "total_spine_operations": "Spine operations in total",
    "patient.egfr": "eGFR (mL/min/1.73 m²)",
    "patient.anticoagulant_can_pause": "Anticoagulant can be paused",
    "patient.contrast_allergy": "Contrast allergy",
    "index_surgery.type": "Index operation",
    "index_surgery.date": "Date of the index operation",
    "index_surgery.levels": "Operated segments",
    "index_surgery.instrumented": "Instrumented (screws, rods)",
    "index_surgery.iliac_crest_graft": "Iliac crest bone graft",
    "index_surgery.preoperative_symptoms": "Symptoms before surgery",
    "course.relief_after_surgery": "Relief after surgery, even for a while",
    "course.pain_free_interval_months": "Pain-free interval (months)",
    "course.months_since_surgery": "Months since surgery (if no dates)",
    "course.pain_compared_with_before": "Pain compared with before surgery",
    "course.fall_or_injury_since_surgery": "Fall or injury since surgery",
    "risk_factors.bmi": "BMI (kg/m²)",
    "pain.back_share_percent": "Back pain as % of the total",
    "pain.nrs_back": "Back pain now, NRS 0-10",
    "pain.nrs_leg": "Leg pain now, NRS 0-10",
    "pain.duration_months": "Duration of the current pain (months)",
    "pain.buttock_or_groin_below_l5": "Buttock or groin pain below L5",
    "pain.night_or_rest_pain": "Night or rest pain",
    "exam.si_provocation_positive_tests": "Positive SI provocation tests (of 6)",
    "exam.tinel_or_entrapment_sign": "Tinel or entrapment sign",
    "exam.temperature_c": "Temperature (°C)",
    "exam.sagittal_imbalance_clinical": "Sagittal imbalance on examination",
    "red_flags.post_void_residual_ml": "Post-void residual (mL)",
    "red_flags.iv_drug_use": "Injecting drug use",
    "red_flags.bilateral_leg_symptoms": "Bilateral leg symptoms (any)",
    "urgent_signs.bilateral_leg_symptoms_new": "New bilateral leg symptoms (since surgery or in 14 days)",
    "urgent_signs.dvt_signs": "Swollen, tender or painful leg (DVT signs)",
    "urgent_signs.pe_signs": "PE signs (sudden breathlessness, pleuritic pain, haemoptysis, tachycardia)",
    "urgent_signs.limb_ischaemia": "Cold, pale or pulseless leg",
    "urgent_signs.shoulder_abduction_weakness_new": "New deltoid or biceps weakness (C5)",
    "urgent_signs.myelopathy_signs_new": "New or worsening myelopathy signs",
    "urgent_signs.suicidal_plan_or_intent": "Suicidal plan or intent",
    SCREEN_FIELD: "Red-flag screen negative",
    "psychosocial.phq9_total": "PHQ-9 total (0-27)",
    "psychosocial.phq9_item9": "PHQ-9 item 9 (0-3)",
    "psychosocial.gad7_total": "GAD-7 total (0-21)",
    "psychosocial.pcs_total": "Pain Catastrophizing Scale total (0-52)",
    "psychosocial.dn4_total": "DN4 total (0-10)",
    "psychosocial.startback_total": "STarT Back total (0-9)",
    "psychosocial.startback_distress": "STarT Back distress subscore (0-5)",
    "psychosocial.opioid_mme": "Opioids, oral morphine mg equivalents/day",
    "index_surgery.combined_with": "Done in the same operation",
    "index_surgery.other_approaches": "Further approaches",
    "index_surgery.preoperative_imaging_concordant": "Pre-operative imaging matched the symptoms",
    "index_surgery.level_confirmed": "Level confirmed with intra-operative imaging",
    "index_surgery.target_lesion_found": "Lesion found and dealt with at operation",
    "index_surgery.dural_tear": "Dural tear or CSF leak",
    "index_surgery.bmp_used": "BMP (rhBMP-2) used",
    "pain.nrs_overall": "Pain now, one NRS 0-10 (if not split)",
    "pain.radiates_below_knee": "Leg pain below the knee",
    "index_surgery.neuromonitoring": "Neuromonitoring (SSEP/MEP)",
    "course.uneventful_early_recovery": "Uneventful first weeks after surgery",
    "pain.back_intensity": "Back pain in words",
    "pain.leg_intensity": "Leg pain in words",
    "pain.onset_after_lifting_or_strain": "Began on lifting or a strain",
    "pain.worse_coughing_or_straining": "Worse on coughing or straining",
    "exam.motor_grade_weakest": "Weakest muscle, MRC grade 0-5",
    "exam.deficit_type_unstated": "Deficit of unstated type",
    "exam.peripheral_nerve_deficit": "Deficit in one peripheral nerve's territory",
    "exam.crossed_straight_leg_raise": "Crossed straight-leg raise",
    "exam.four_limb_signs": "Signs in all four limbs",
    "exam.bulbar_signs": "Bulbar or cranial nerve signs",
    "exam.operative_site_swelling": "Swelling at the operative site",
    "function.walking_distance_m": "Walking distance (m)",
    "function.odi_percent": "Oswestry Disability Index (0-100 %)",
    "function.rmdq_total": "Roland-Morris (0-24)",
    "function.lefs_total": "Lower Extremity Functional Scale (0-80)",
    "systemic.haemoglobin_falling": "Haemoglobin falling",
    "alignment.pelvic_incidence_deg": "Pelvic incidence (°)",
    "alignment.lumbar_lordosis_deg": "Lumbar lordosis L1-S1 (°)",
    "alignment.pelvic_tilt_deg": "Pelvic tilt (°)",
    "alignment.sagittal_vertical_axis_mm": "Sagittal vertical axis (mm)",
    "alignment.coronal_offset_mm": "C7 plumb line to central sacral line (mm)",
    "risk_factors.dexa_t_score": "Lowest DEXA T-score",
    "risk_factors.osteoporosis_treated": "On bone-protective treatment",
    "risk_factors.other_conditions": "Other conditions",
    "work.months_off_work": "Months off work",
    "notes": "Notes",
}
WORDS = {
    "nrs": "NRS",
    "mri": "MRI",
    "ct": "CT",
    "si": "SI",
    "emg": "EMG",
    "ncs": "NCS",
    "scs": "SCS",
    "drg": "DRG",
    "nsaid": "NSAID",
    "tens": "TENS",
    "dexa": "DEXA",
    "crp": "CRP",
    "esr": "ESR",
    "wbc": "WBC",
    "xray": "X-ray",
    "alif": "ALIF",
    "plif": "PLIF",
    "tlif": "TLIF",
    "olif": "OLIF",
    "iv": "IV",
    "csf": "CSF",
    "ssep": "SSEP",
    "mep": "MEP",
    "esi": "ESI",
}

ROW_MODELS: dict[str, type[BaseModel]] = {
    "reflexes": ReflexExam,
    "studies": Study,
    "diagnostics": DiagnosticResult,
    "prior_treatments": PriorTreatment,
}
ROW_KEY = {"reflexes": "reflex", "studies": "modality", "diagnostics": "finding", "prior_treatments": "treatment"}
ROW_NOUN = {"reflexes": "Reflex", "studies": "Study", "diagnostics": "Finding", "prior_treatments": "Treatment"}
BLANK_ROWS = {"reflexes": 2, "studies": 1, "diagnostics": 2, "prior_treatments": 1}
ROW_PATH = {"reflexes": "exam.reflexes"}
"""Where a list of rows lives in the case when it is not a top-level list."""
MAX_BASE = 2_000_000  # characters of the `_base` field (the case the form was opened on, as JSON)
MAX_ROWS = 100  # rows per list the form accepts: far more than a case has, and a bound on the work per request
ROW_NAME = re.compile(rf"({'|'.join(ROW_MODELS)})-([0-9]{{1,3}})-([a-z_]{{1,40}})")
LIST_STEP = "imaging"
ROW_STEP = {"reflexes": "exam"}
"""The step a list of rows is entered on (default: LIST_STEP)."""
MULTI_SEPARATOR = ";"
TEMPLATE_INDEX = 999  # the index of the blank row the browser copies to add a row (replaced before it is used)
SEGMENTS_HELP = "Comma-separated, e.g. L4-L5, L5-S1 (L4–S1 and L4/5 are read too)"
LEVEL_HELP = "A segment (L5-S1), one vertebra (S1, for a screw) or pelvis"

# Questions shown only when they apply: field -> conditions that must all hold. A condition names another field and
# the answers that keep the question (`is`), the answers that hide it (`is_not`), or a number it must stay below.
# A question hidden keeps its answer (unknown unless given) and is never read as absent by the form.
RELEVANT_WHEN: dict[str, tuple[dict[str, Any], ...]] = {
    "patient.pregnant": (
        {"field": "patient.sex", "is_not": ["male"]},
        {"field": "patient.age", "below": NO_PREGNANCY_FROM_AGE},
    ),
    "patient.anticoagulant_can_pause": ({"field": "patient.anticoagulant", "is": ["present"]},),
    "exam.motor_deficit_new": ({"field": "exam.motor_deficit", "is": ["present"]},),
    "exam.motor_deficit_progressive": ({"field": "exam.motor_deficit", "is": ["present"]},),
    "course.pain_free_interval_months": ({"field": "course.relief_after_surgery", "is_not": ["absent"]},),
    "index_surgery.approach": ({"field": "index_surgery.type", "is": ["", "fusion", "disc_arthroplasty", "other"]},),
    "index_surgery.instrumented": (
        {"field": "index_surgery.type", "is": ["", "fusion", "disc_arthroplasty", "other"]},
    ),
    "index_surgery.interbody_cage": ({"field": "index_surgery.type", "is": ["", "fusion", "other"]},),
    "index_surgery.iliac_crest_graft": ({"field": "index_surgery.type", "is": ["", "fusion", "other"]},),
}


def relevant(name: str, values: Mapping[str, str]) -> bool:
    """Whether a question applies, given the answers so far (the browser applies the same rules as they change)."""
    for condition in RELEVANT_WHEN.get(name, ()):
        given = values.get(condition["field"], "").strip()
        if "is" in condition and given not in condition["is"]:
            return False
        if "is_not" in condition and given in condition["is_not"]:
            return False
        if "below" in condition and given:
            try:
                if float(given) >= condition["below"]:
                    return False
            except ValueError:
                pass
    return True


def humanise(text: str) -> str:
    words = [WORDS.get(w, w) for w in text.split("_")]
    words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words)


@dataclass(frozen=True)
class FieldSpec:
    """One form control: its name (a dotted case path), label, kind, allowed values and bounds."""

    name: str
    label: str
    kind: str  # presence, enum, multi, int, float, date, text, textlist, textarea, segments, segment, bool
    step: str
    help: str | None = None
    options: tuple[tuple[str, str], ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False

    @property
    def dom_id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.name)

    @property
    def names(self) -> tuple[str, ...]:
        """The form names this control posts: one per choice for `multi`, else its own name."""
        if self.kind == "multi":
            return tuple(f"{self.name}.{value}" for value, _ in self.options)
        return (self.name,)


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    return annotation


def _field_spec(name: str, info: Any, step: str, label: str | None = None) -> FieldSpec | None:
    annotation = _unwrap(info.annotation)
    short = name.rsplit(".", 1)[-1].rsplit("-", 1)[-1]
    label = label or LABELS.get(name) or humanise(short)
    bounds: dict[str, float] = {}
    for meta in info.metadata:
        if isinstance(meta, annotated_types.Ge):
            bounds["minimum"] = float(meta.ge)  # type: ignore[arg-type]
        if isinstance(meta, annotated_types.Le):
            bounds["maximum"] = float(meta.le)  # type: ignore[arg-type]
    common: dict[str, Any] = {"help": info.description, **bounds}
    if annotation is Presence:
        return FieldSpec(name, label, "presence", step, **common)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        if annotation is Modality:
            options = tuple((m.value, MODALITY_LABEL[m]) for m in Modality)
        else:
            options = tuple((str(m.value), humanise(str(m.value))) for m in annotation)
        return FieldSpec(name, label, "enum", step, options=options, **common)
    if annotation is int:
        return FieldSpec(name, label, "int", step, **common)
    if annotation is float:
        return FieldSpec(name, label, "float", step, **common)
    if annotation is dt.date:
        return FieldSpec(name, label, "date", step, **common)
    if annotation is bool:
        return FieldSpec(name, label, "bool", step, **common)
    if annotation is str:
        if short == "level":
            common["help"] = LEVEL_HELP
            return FieldSpec(name, label, "segment", step, **common)
        return FieldSpec(name, label, "textarea" if short in ("notes",) else "text", step, **common)
    if typing.get_origin(annotation) is tuple and short == "levels":
        common["help"] = SEGMENTS_HELP
        return FieldSpec(name, label, "segments", step, **common)
    item = typing.get_args(annotation)[0] if typing.get_origin(annotation) is tuple else None
    if isinstance(item, type) and issubclass(item, Enum):
        options = tuple((str(m.value), humanise(str(m.value))) for m in item if m.value != "unknown")
        return FieldSpec(name, label, "multi", step, options=options, **common)
    if item is str:
        common["help"] = f"{common['help'] or ''}; separate them with '{MULTI_SEPARATOR}'".lstrip("; ")
        return FieldSpec(name, label, "textlist", step, **common)
    return None  # lists of sub-models (devices, earlier surgeries, reflexes) are kept or entered as rows


def _model_fields(prefix: str, model: type[BaseModel], step: str) -> list[FieldSpec]:
    specs = []
    for name, info in model.model_fields.items():
        spec = _field_spec(f"{prefix}.{name}", info, step)
        if spec is not None:
            specs.append(spec)
    return specs


def _build_fields() -> list[FieldSpec]:
    case_fields = Case.model_fields
    specs: list[FieldSpec] = [
        FieldSpec("assessment_date", LABELS["assessment_date"], "date", "surgery"),
        *_model_fields("patient", Patient, "surgery"),
        *_model_fields("index_surgery", Surgery, "surgery"),
    ]
    total = _field_spec("total_spine_operations", case_fields["total_spine_operations"], "surgery")
    assert total is not None
    specs.append(total)
    specs += _model_fields("course", Course, "course") + _model_fields("risk_factors", RiskFactors, "course")
    specs += _model_fields("pain", Pain, "pain") + _model_fields("function", Function, "pain")
    specs += _model_fields("exam", Examination, "exam") + _model_fields("systemic", SystemicSigns, "exam")
    specs += _model_fields("red_flags", RedFlagItems, "exam")
    specs += _model_fields("urgent_signs", UrgentSigns, "exam")
    specs.append(FieldSpec(SCREEN_FIELD, LABELS[SCREEN_FIELD], "bool", "exam", help=SCREEN_HELP))
    specs += _model_fields("alignment", Alignment, "imaging")
    specs += _model_fields("psychosocial", Psychosocial, "psychosocial") + _model_fields("work", Work, "psychosocial")
    specs.append(FieldSpec("notes", LABELS["notes"], "textarea", "psychosocial", help="At most 5000 characters"))
    return [
        FieldSpec(s.name, s.label, s.kind, s.step, s.help, s.options, s.minimum, s.maximum, True)
        if s.name == "index_surgery.type"
        else s
        for s in specs
    ]


FIELDS: tuple[FieldSpec, ...] = tuple(_build_fields())
BY_NAME = {f.name: f for f in FIELDS}
READINGS = tuple((r.value, r.value) for r in LabReading)
LAB_FIELDS = tuple(
    (
        lab,
        FieldSpec(
            f"labs.{lab.value}",
            f"{humanise(lab.value)} ({LAB_UNITS[lab]})",
            "float",
            LIST_STEP,
            help="The value, or only the reading below",
        ),
        FieldSpec(
            f"labs.{lab.value}.reading",
            f"{humanise(lab.value)} reading",
            "enum",
            LIST_STEP,
            help="When only the reading is known",
            options=READINGS,
        ),
        FieldSpec(f"labs.{lab.value}.date", f"{humanise(lab.value)} date", "date", LIST_STEP),
    )
    for lab in Lab
)


LAB_NAMES = frozenset(spec.name for _lab, *specs in LAB_FIELDS for spec in specs)
OPTION_NAMES = frozenset(f"{f.name}.{option}" for f in FIELDS if f.kind == "multi" for option, _ in f.options)
"""The checkboxes of multiple-choice fields, one per option."""


def row_step(kind: str) -> str:
    return ROW_STEP.get(kind, LIST_STEP)


def row_specs(kind: str, index: int) -> list[FieldSpec]:
    """The controls of one row of a list (a reflex, a study, a diagnostic finding, a prior treatment)."""
    model = ROW_MODELS[kind]
    specs = []
    for name, info in model.model_fields.items():
        spec = _field_spec(f"{kind}-{index}-{name}", info, row_step(kind), label=humanise(name))
        if spec is not None:
            specs.append(spec)
    return specs


def fields_of(step: str) -> list[FieldSpec]:
    return [f for f in FIELDS if f.step == step]


# -- case data <-> form values ----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _get(data: Mapping[str, Any], path: str) -> Any:
    current: Any = data
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def _screen_current(data: Mapping[str, Any]) -> bool:
    """A negative screen recorded for this case's visit (not at an earlier one)."""
    screen = data.get("red_flag_screen")
    if not isinstance(screen, Mapping) or not isinstance(screen.get("at"), str):
        return False
    when = str(data.get("assessment_date") or "")
    return not when or screen["at"][:10] >= when


def _multi_values(spec: FieldSpec, value: Any) -> dict[str, str]:
    chosen = set(value or ())
    return {f"{spec.name}.{option}": "on" if option in chosen else "" for option, _ in spec.options}


def values_from_case(data: Mapping[str, Any]) -> dict[str, str]:
    """Form values (strings) for a case given as JSON data."""
    values: dict[str, str] = {}
    for f in FIELDS:
        if f.name == SCREEN_FIELD:
            continue
        value = _get(data, f.name)
        if f.kind == "multi":
            values.update(_multi_values(f, value))
        elif f.kind == "textlist":
            values[f.name] = f"{MULTI_SEPARATOR} ".join(value or ())
        else:
            values[f.name] = _text(value)
    # a screen recorded at an earlier visit is not offered as ticked: it has to be asked again
    values[SCREEN_FIELD] = "on" if _screen_current(data) else ""
    for kind in ROW_MODELS:
        for index, row in enumerate(_get(data, ROW_PATH.get(kind, kind)) or []):
            for spec in row_specs(kind, index):
                values[spec.name] = _text(row.get(spec.name.rsplit("-", 1)[-1]))
    for lab in data.get("labs") or []:
        values[f"labs.{lab['lab']}"] = _text(lab.get("value"))
        values[f"labs.{lab['lab']}.reading"] = _text(lab.get("reading"))
        values[f"labs.{lab['lab']}.date"] = _text(lab.get("date"))
    return values


def row_count(values: Mapping[str, str], kind: str) -> int:
    """Rows that hold something, plus the blank rows offered for new entries (or as many as the form asked for
    with "add a row"); at most MAX_ROWS."""
    used = 0
    for name, value in values.items():
        match = ROW_NAME.fullmatch(name) if value else None
        if match and match[1] == kind and int(match[2]) < MAX_ROWS:
            used = max(used, int(match[2]) + 1)
    asked = values.get(f"_rows-{kind}", "")
    wanted = (int(asked) if len(asked) <= 9 else MAX_ROWS) if asked.isdigit() else 0
    return min(max(used + BLANK_ROWS[kind], wanted), MAX_ROWS)


def row_label(kind: str, index: int, values: Mapping[str, str]) -> str:
    """How a row is named in messages: 'Finding 2 (Pseudarthrosis)', 'Study 1 (MRI)'."""
    key = values.get(f"{kind}-{index}-{ROW_KEY[kind]}", "")
    spec = next((s for s in row_specs(kind, index) if s.name.endswith(f"-{ROW_KEY[kind]}")), None)
    shown = dict(spec.options).get(key, key) if spec else key
    return f"{ROW_NOUN[kind]} {index + 1}" + (f" ({shown})" if shown else "")


def row_name_problems(values: Mapping[str, str]) -> dict[str, str]:
    """Row fields the form cannot take: an index past MAX_ROWS (or not a number), one message per list."""
    problems: dict[str, str] = {}
    for name, value in values.items():
        kind = next((k for k in ROW_MODELS if name.startswith(f"{k}-")), None)
        if kind is None or not value:
            continue
        match = ROW_NAME.fullmatch(name)
        if match is None or int(match[2]) >= MAX_ROWS:
            problems.setdefault(f"{kind}-rows", f"at most {MAX_ROWS} rows; a row named {name[:40]!r} was not read")
    return problems


def merge_stale(
    mine: Mapping[str, str], original: Mapping[str, str], latest: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """A form opened on an older version, over the version saved since: what this user changed is kept, the rest
    comes from the newer version, and a field both changed differently is a conflict to check."""
    merged = dict(latest)
    conflicts: dict[str, str] = {}
    for name, value in mine.items():
        if not _is_control(name):
            merged.setdefault(name, value)  # note, step, report text: this user's
            continue
        if value == original.get(name, ""):
            continue  # untouched here: the newer version's value stands
        theirs = latest.get(name, "")
        if theirs != original.get(name, "") and theirs != value:
            conflicts[name] = f"changed meanwhile to {theirs or '(empty)'!r}; yours, kept here: {value or '(empty)'!r}"
        merged[name] = value
    for name in original:
        if _is_control(name) and name not in mine and latest.get(name, "") == original[name]:
            merged.pop(name, None)  # emptied here (a cleared checkbox is not posted) and untouched there
    return merged, conflicts


def _is_control(name: str) -> bool:
    return name in BY_NAME or name in LAB_NAMES or name in OPTION_NAMES or ROW_NAME.fullmatch(name) is not None


@dataclass
class FormResult:
    """The case data built from the form, and an error message per form field that could not be used."""

    data: dict[str, Any]
    errors: dict[str, str]


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    current = data
    for part in parts[:-1]:
        current = current.setdefault(part, {})
    current[parts[-1]] = value


def _convert(spec: FieldSpec, raw: str) -> tuple[Any, str | None]:
    """A form string as the value the model expects, or an error naming what was expected."""
    raw = raw.strip()
    if spec.kind == "bool":
        return raw in ("on", "true", "1"), None
    if not raw:
        return None, None
    if spec.kind == "int":
        whole = numbers.whole(raw)
        return (whole, None) if whole is not None else (None, f"enter a whole number, not {raw[:20]!r}")
    if spec.kind == "float":
        decimal = numbers.decimal(raw)
        return (decimal, None) if decimal is not None else (None, f"enter a number, not {raw[:20]!r}")
    if spec.kind == "date":
        try:
            return dt.date.fromisoformat(raw).isoformat(), None
        except ValueError:
            return None, f"enter a date as YYYY-MM-DD, not {raw!r}"
    if spec.kind == "segments":
        return [part.strip().upper() for part in re.split(r"[,;\s]+", raw) if part.strip()], None
    if spec.kind == "segment":
        return raw.upper(), None
    if spec.kind == "textlist":
        return [part.strip() for part in raw.split(MULTI_SEPARATOR) if part.strip()], None
    if spec.kind in ("presence", "enum") and spec.options and raw not in {v for v, _ in spec.options}:
        return None, f"choose one of the listed answers, not {raw!r}"
    if spec.kind == "presence" and raw not in {p.value for p in Presence}:
        return None, "choose present, absent or unknown"
    return raw, None


def _screen_record(
    ticked: bool, base: Mapping[str, Any], data: Mapping[str, Any], recorded_by: str | None, now: dt.datetime | None
) -> dict[str, Any] | None:
    """The negative-screen record: kept as recorded if still current, else who ticked it and when."""
    if not ticked:
        return None
    kept = base.get("red_flag_screen")
    if isinstance(kept, Mapping) and _screen_current({**data, "red_flag_screen": kept}):
        return dict(kept)
    moment = now or dt.datetime.now(dt.UTC)
    return {"result": "negative", "by": recorded_by or "unknown", "at": moment.replace(microsecond=0).isoformat()}


def case_data_from_form(
    form: Mapping[str, str],
    base: Mapping[str, Any],
    case_id: str,
    recorded_by: str | None = None,
    now: dt.datetime | None = None,
) -> FormResult:
    """Overlay the form's values on the case being edited (which keeps what the form does not show); a ticked
    'red-flag screen negative' is stored with who ticked it and when."""
    data: dict[str, Any] = json.loads(json.dumps(base)) if base else {}
    data["id"] = data.get("id") or case_id
    data.pop("red_flag_screen", None)
    for key in ("labs", *ROW_MODELS):
        section, _, leaf = ROW_PATH.get(key, key).rpartition(".")
        target = _get(data, section) if section else data
        if isinstance(target, dict):
            target.pop(leaf, None)
    errors: dict[str, str] = row_name_problems(form)
    for spec in FIELDS:
        if spec.name == SCREEN_FIELD:
            continue
        if spec.kind == "multi":
            chosen = [option for option, _ in spec.options if form.get(f"{spec.name}.{option}", "") in ("on", "true")]
            value, problem = chosen or None, None
        else:
            value, problem = _convert(spec, form.get(spec.name, ""))
        if problem:
            errors[spec.name] = problem
            continue
        section, _, leaf = spec.name.rpartition(".")
        if value is None:
            # an emptied field goes back to its default (unknown / not given)
            target = _get(data, section) if section else data
            if isinstance(target, dict):
                target.pop(leaf, None)
            continue
        _set(data, spec.name, value)
    for kind in ROW_MODELS:
        rows = []
        for index in range(row_count(form, kind)):
            if not form.get(f"{kind}-{index}-{ROW_KEY[kind]}", "").strip():
                continue
            row: dict[str, Any] = {}
            for spec in row_specs(kind, index):
                value, problem = _convert(spec, form.get(spec.name, ""))
                if problem:
                    errors[spec.name] = problem
                elif value is not None:
                    row[spec.name.rsplit("-", 1)[-1]] = value
            rows.append((index, row))
        if rows:
            _set(data, ROW_PATH.get(kind, kind), [row for _, row in rows])
            data.setdefault("_row_index", {})[kind] = [index for index, _ in rows]
    labs = []
    lab_names = []
    for lab, value_spec, reading_spec, date_spec in LAB_FIELDS:
        value, problem = _convert(value_spec, form.get(value_spec.name, ""))
        reading, reading_problem = _convert(reading_spec, form.get(reading_spec.name, ""))
        when, date_problem = _convert(date_spec, form.get(date_spec.name, ""))
        for spec, found in ((value_spec, problem), (reading_spec, reading_problem), (date_spec, date_problem)):
            if found:
                errors[spec.name] = found
        if value is not None or reading is not None:
            entry = {"lab": lab.value, "value": value, "reading": reading, "date": when}
            labs.append({k: v for k, v in entry.items() if v is not None})
            lab_names.append(value_spec.name if value is not None else reading_spec.name)
    if labs:
        data["labs"] = labs
        data.setdefault("_row_index", {})["labs"] = lab_names
    screen = _screen_record(form.get(SCREEN_FIELD, "").strip() in ("on", "true", "1"), base, data, recorded_by, now)
    if screen is not None:
        data["red_flag_screen"] = screen
    return FormResult(data, errors)


def _field_for(loc: tuple[Any, ...], message: str, row_index: Mapping[str, list[Any]]) -> str:
    """The form field a validation error belongs to (model-level errors: the first field the message names)."""
    parts = [str(p) for p in loc]
    for kind, path in ROW_PATH.items():
        where = path.split(".")
        if parts[: len(where)] == where and len(parts) > len(where):
            parts = [kind, *parts[len(where) :]]
    if len(parts) > 1 and parts[-1].isdigit() and ".".join(parts[:-1]) in BY_NAME:
        parts = parts[:-1]  # one item of a multiple choice or list field: the field itself
    if parts and parts[0] in ROW_MODELS and len(parts) >= 2 and parts[1].isdigit():
        kind, position = parts[0], int(parts[1])
        indexes = row_index.get(kind, [])
        index = int(indexes[position]) if position < len(indexes) else position
        leaf = parts[2] if len(parts) > 2 else ROW_KEY[kind]
        return f"{kind}-{index}-{leaf}"
    if parts and parts[0] == "labs":
        names = row_index.get("labs", [])
        position = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        return str(names[position]) if position < len(names) else f"labs.{Lab.crp.value}"
    name = ".".join(parts)
    if name in BY_NAME:
        return name
    prefix = f"{name}." if name else ""
    mentioned: list[str] = re.findall(r"[a-z_][a-z_0-9]*(?:\.[a-z_0-9]+)*", message)
    for word in mentioned:
        for candidate in (prefix + word, word):
            if candidate in BY_NAME:
                return candidate
    required = next((f.name for f in FIELDS if f.required and f.name.startswith(prefix)), None)
    return required or name or "assessment_date"


def validate(result: FormResult) -> tuple[Case | None, dict[str, str]]:
    """The Case, or the model's errors mapped to form fields (with the form's own conversion errors)."""
    data = dict(result.data)
    row_index = data.pop("_row_index", {})
    errors = dict(result.errors)
    unreadable = data_problems(data)
    if unreadable:
        for path, message in unreadable:
            errors.setdefault(_field_for(tuple(path.split(".")), message, row_index), message)
        return None, errors
    try:
        case = Case.model_validate(data)
        for path, message in date_problems(case):
            errors.setdefault(_field_for(tuple(path.split(".")), message, row_index), message)
    except ValidationError as exc:
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "missing":
                message = "required: choose an answer"
            given = error.get("input")
            if error["type"] not in ("missing", "extra_forbidden") and isinstance(given, (str, int, float)):
                message += f" (got {json.dumps(given)})"
            name = _field_for(tuple(error["loc"]), message, row_index)
            errors.setdefault(name, message)
        return None, errors
    return (None, errors) if errors else (case, {})


def step_of(name: str) -> str:
    if name in BY_NAME:
        return BY_NAME[name].step
    kind = name.split("-", 1)[0]
    return row_step(kind) if kind in ROW_MODELS else LIST_STEP
