"""Hypothesis strategies for valid cases: every presence, enum and number field at random."""

from __future__ import annotations

import datetime as dt
import typing
from enum import Enum
from typing import Any

from annotated_types import Ge, Le
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from fbss.case.model import (
    Case,
    Course,
    Examination,
    Pain,
    Patient,
    Planning,
    Presence,
    Psychosocial,
    RedFlagItems,
    RiskFactors,
    SurgeryType,
    UrgentSigns,
)
from fbss.case.vocabulary import DiagnosticFinding, Lab, Modality, Treatment

SECTIONS: dict[str, type[BaseModel]] = {
    "course": Course,
    "pain": Pain,
    "exam": Examination,
    "red_flags": RedFlagItems,
    "urgent_signs": UrgentSigns,
    "risk_factors": RiskFactors,
    "psychosocial": Psychosocial,
    "planning": Planning,
}


def _number(info: Any, kind: type) -> st.SearchStrategy[Any]:
    low = next((m.ge for m in info.metadata if isinstance(m, Ge)), 0)
    high = next((m.le for m in info.metadata if isinstance(m, Le)), 100)
    values = st.integers(int(low), int(high)) if kind is int else st.floats(float(low), float(high), allow_nan=False)
    return st.none() | values


def _field(info: Any) -> st.SearchStrategy[Any] | None:
    annotation = info.annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    kind = args[0]
    if kind is Presence:
        return st.sampled_from(["present", "absent", "unknown"])
    if isinstance(kind, type) and issubclass(kind, Enum):
        return st.sampled_from([m.value for m in kind])
    if kind in (int, float):
        return _number(info, kind)
    return None


def section(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    fields = {name: s for name, info in model.model_fields.items() if (s := _field(info)) is not None}
    return st.fixed_dictionaries({}, optional=fields)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """Any valid case; draws that break a cross-field rule of the model are retried."""
    months = draw(st.integers(0, 240))
    surgery_date = dt.date(2020, 1, 1)
    assessment = surgery_date + dt.timedelta(days=int(months * 30.4))
    patient = draw(section(Patient))
    patient["devices"] = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "kind": st.sampled_from(["spinal_cord_stimulator", "pacemaker", "other"]),
                    "mri_conditional": st.sampled_from(["present", "absent", "unknown"]),
                }
            ),
            max_size=1,
        )
    )
    if patient.get("age") is not None:
        patient["age"] = max(18, patient["age"])
    # one case in five has no operation date: with no interval either, the time since surgery is unknown
    dated = draw(st.integers(0, 4)) > 0
    data: dict[str, Any] = {
        "id": "prop",
        "assessment_date": assessment.isoformat(),
        "patient": patient,
        "index_surgery": {
            "type": draw(st.sampled_from([t.value for t in SurgeryType])),
            "date": surgery_date.isoformat() if dated else None,
            "levels": draw(st.sampled_from([[], ["L4-L5"], ["L5-S1"], ["L4-S1"], ["L2-L5"], ["C5-C6"], ["T10-T11"]])),
            "instrumented": draw(st.sampled_from(["present", "absent", "unknown"])),
            "approach": draw(st.sampled_from(["posterior", "tlif", "plif", "alif", "lateral", "anterior", "unknown"])),
            "dural_tear": draw(st.sampled_from(["present", "absent", "unknown"])),
        },
        "total_spine_operations": draw(st.none() | st.integers(1, 6)),
        "red_flag_screen": draw(
            st.none()
            | st.fixed_dictionaries(
                {
                    "by": st.just("dr test"),
                    "at": st.sampled_from([assessment, assessment - dt.timedelta(days=30)]).map(
                        lambda d: f"{d.isoformat()}T09:00:00"
                    ),
                }
            )
        ),
        **{name: draw(section(model)) for name, model in SECTIONS.items()},
        "prior_treatments": draw(
            st.lists(
                st.fixed_dictionaries(
                    {"treatment": st.sampled_from([t.value for t in Treatment])},
                    optional={"relief_percent": st.integers(0, 100)},
                ),
                max_size=4,
            )
        ),
        "studies": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "modality": st.sampled_from([m.value for m in Modality]),
                        "reported_in_full": st.booleans(),
                    }
                ),
                max_size=3,
            )
        ),
        "diagnostics": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "finding": st.sampled_from([f.value for f in DiagnosticFinding]),
                        "presence": st.sampled_from(["present", "absent"]),
                    }
                ),
                max_size=4,
            )
        ),
        "labs": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "lab": st.sampled_from([lab.value for lab in Lab]),
                        "value": st.floats(0, 150, allow_nan=False),
                    }
                ),
                max_size=3,
            )
        ),
    }
    try:
        return Case.model_validate(data)
    except ValidationError:
        from hypothesis import assume

        assume(False)
        raise
