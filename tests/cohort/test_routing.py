"""Routing NDJSON lines to patients: the cheap path agrees with a full decode, and no line makes it raise."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from fbss.cohort.routing import Organization, Routed, bucket_of, patient_of, route_line


def test_a_subject_reference_routes_without_decoding() -> None:
    line = '{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/abc-1"},"code":{}}'
    assert route_line(line) == Routed(patient="abc-1")


def test_a_patient_routes_by_its_own_id_even_with_a_link_to_another_patient() -> None:
    line = json.dumps({"resourceType": "Patient", "id": "p2", "link": [{"other": {"reference": "Patient/p9"}}]})
    assert route_line(line) == Routed(patient="p2")


def test_device_patient_reference_and_spacing_variants() -> None:
    assert route_line('{"resourceType": "Device", "patient": { "reference" : "Patient/d1" }}').patient == "d1"
    reordered = '{"subject":{"display":"x","reference":"Patient/r1"},"resourceType":"Condition"}'
    assert route_line(reordered).patient == "r1"  # not the fast path: decoded in full


def test_organizations_are_collected_not_attributed() -> None:
    line = '{"resourceType":"Organization","id":"spine-north","name":"North Spine Centre"}'
    assert route_line(line) == Routed(organization=Organization("spine-north", "North Spine Centre"))


def test_lines_that_belong_to_nobody_say_why() -> None:
    assert route_line("   ").problem == "empty line"
    assert "not valid JSON" in (route_line("{oops").problem or "")
    assert "no resourceType" in (route_line("[1, 2]").problem or "")
    assert "without a subject" in (route_line('{"resourceType":"Medication","id":"m"}').problem or "")
    assert "Patient without an id" in (route_line('{"resourceType":"Patient"}').problem or "")


resources = st.fixed_dictionaries(
    {
        "resourceType": st.sampled_from(["Observation", "Condition", "Procedure", "Patient"]),
        "id": st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12),
    },
    optional={
        "subject": st.fixed_dictionaries(
            {
                "reference": st.builds(
                    "Patient/{}".format,
                    st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12),
                )
            }
        ),
        "status": st.sampled_from(["final", "completed"]),
        "note": st.lists(st.fixed_dictionaries({"text": st.text(max_size=30)}), max_size=2),
    },
)


@given(resources, st.booleans())
def test_fast_path_agrees_with_a_full_decode(resource: dict[str, object], compact: bool) -> None:
    line = json.dumps(resource, separators=(",", ":") if compact else None)
    routed = route_line(line)
    assert routed.patient == patient_of(resource)
    assert (routed.problem is None) == (patient_of(resource) is not None)


@given(st.text(max_size=200))
def test_no_line_makes_routing_raise(text: str) -> None:
    routed = route_line(text)
    assert (routed.patient, routed.organization, routed.problem).count(None) == 2


@given(st.text(min_size=1, max_size=40), st.integers(1, 500))
def test_buckets_are_stable_and_in_range(patient: str, buckets: int) -> None:
    assert 0 <= bucket_of(patient, buckets) < buckets
    assert bucket_of(patient, buckets) == bucket_of(str(patient), buckets)
