"""Hypothesis strategies that build random but schema-valid patient cases from the case model itself."""

from __future__ import annotations

import datetime as dt
import types
import typing
from enum import Enum
from typing import Any

import annotated_types
from hypothesis import strategies as st
from pydantic import BaseModel

from fbss.case.model import Case, Patient, Presence
from fbss.case.vocabulary import LAB_RANGES, SPINE_LEVELS, DiagnosticFinding, Lab, Modality, Treatment

LUMBAR = [lvl for lvl in SPINE_LEVELS if lvl.startswith("L")] + ["S1"]
segments = st.integers(0, len(LUMBAR) - 2).flatmap(
    lambda i: st.integers(i + 1, len(LUMBAR) - 1).map(lambda j: f"{LUMBAR[i]}-{LUMBAR[j]}")
)
presence = st.sampled_from(list(Presence))


def _bounds(info: Any) -> tuple[float | None, float | None]:
    low = high = None
    for meta in info.metadata:
        if isinstance(meta, annotated_types.Ge):
            low = meta.ge
        elif isinstance(meta, annotated_types.Le):
            high = meta.le
    return low, high


def _unwrap(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def flat_section(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict for a model whose fields are presences, enums and bounded numbers (each may be left out)."""
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for name, info in model.model_fields.items():
        annotation = _unwrap(info.annotation)
        low, high = _bounds(info)
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            fields[name] = st.sampled_from([m.value for m in annotation])
        elif annotation is int:
            fields[name] = st.integers(int(low or 0), int(high if high is not None else 100))
        elif annotation is float:
            fields[name] = st.floats(float(low or 0), float(high if high is not None else 100), allow_nan=False)
    return st.fixed_dictionaries({}, optional=fields)


dates = st.dates(dt.date(2000, 1, 1), dt.date(2026, 12, 31))

surgeries = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            [
                "microdiscectomy",
                "endoscopic_discectomy",
                "laminotomy",
                "laminectomy",
                "foraminotomy",
                "fusion",
                "disc_arthroplasty",
                "other",
            ]
        )
    },
    optional={
        "date": dates,
        "levels": st.lists(segments, max_size=3),
        "side": st.sampled_from(["left", "right", "bilateral", "midline", "unknown"]),
        "approach": st.sampled_from(
            ["posterior", "posterolateral", "tlif", "plif", "alif", "lateral", "olif", "unknown"]
        ),
        "instrumented": presence,
        "interbody_cage": presence,
        "iliac_crest_graft": presence,
        "preoperative_symptoms": st.sampled_from(["leg_dominant", "back_dominant", "back_and_leg", "unknown"]),
    },
)

diagnostics = st.builds(
    lambda finding, p, modality, level: {
        "finding": finding,
        "presence": p,
        "modality": modality,
        "level": level,
    },
    st.sampled_from([f.value for f in DiagnosticFinding]),
    st.sampled_from(["present", "absent"]),
    st.sampled_from([m.value for m in Modality]),
    st.none() | segments,
)

labs = st.sampled_from(list(Lab)).flatmap(
    lambda lab: st.fixed_dictionaries(
        {"lab": st.just(lab.value), "value": st.floats(*LAB_RANGES[lab], allow_nan=False)},
        optional={"date": dates},
    )
)

treatments = st.fixed_dictionaries(
    {"treatment": st.sampled_from([m.value for m in Treatment])},
    optional={"relief_percent": st.integers(0, 100), "relief_weeks": st.floats(0, 100)},
)

studies = st.fixed_dictionaries(
    {"modality": st.sampled_from([m.value for m in Modality])},
    optional={"reported_in_full": st.booleans()},
)


def _section(name: str) -> st.SearchStrategy[dict[str, Any]]:
    annotation = _unwrap(Case.model_fields[name].annotation)
    return flat_section(annotation)


case_dicts = st.fixed_dictionaries(
    {"id": st.from_regex(r"[A-Za-z0-9]{1,12}", fullmatch=True), "index_surgery": surgeries},
    optional={
        "patient": flat_section(Patient),
        "earlier_surgeries": st.lists(surgeries, max_size=3),
        "course": _section("course"),
        "pain": _section("pain"),
        "exam": _section("exam"),
        "function": _section("function"),
        "systemic": _section("systemic"),
        "red_flags": _section("red_flags"),
        "risk_factors": _section("risk_factors"),
        "alignment": _section("alignment"),
        "psychosocial": _section("psychosocial"),
        "work": _section("work"),
        "prior_treatments": st.lists(treatments, max_size=4),
        "studies": st.lists(studies, max_size=3),
        "diagnostics": st.lists(diagnostics, max_size=6),
        "labs": st.lists(labs, max_size=3),
        "assessment_date": dates,
    },
)


def valid_cases() -> st.SearchStrategy[Case]:
    """Random cases that pass validation (cross-field rules are met by filtering)."""

    def build(data: dict[str, Any]) -> Case | None:
        try:
            return Case.model_validate(data)
        except ValueError:
            return None

    return case_dicts.map(build).filter(lambda c: c is not None)  # type: ignore[return-value]
