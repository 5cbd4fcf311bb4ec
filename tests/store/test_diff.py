"""The field-level case diff behind `fbss case history`."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from fbss.store.diff import ABSENT, Change, diff

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from([0.5, 1.0, 2.0]) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner, max_size=3),
    max_leaves=10,
)


def test_changed_added_and_removed_fields_are_named_by_path() -> None:
    old: dict[str, Any] = {
        "pain": {"nrs_leg": 7, "side": "left"},
        "prior_treatments": [{"treatment": "physio"}],
    }
    new: dict[str, Any] = {
        "pain": {"nrs_leg": 5, "side": "left"},
        "prior_treatments": [{"treatment": "physio"}, {"treatment": "esi", "relief_percent": 50}],
    }
    changes = diff(old, new)
    assert [c.describe() for c in changes] == [
        "pain.nrs_leg: 7 → 5",
        'prior_treatments[1]: added {"relief_percent": 50, "treatment": "esi"}',
    ]
    assert [c.kind for c in diff(new, old)][-1] == "removed"


def test_equal_numbers_of_different_json_types_are_not_changes() -> None:
    assert diff({"bmi": 27.0}, {"bmi": 27}) == []
    assert diff({"flag": True}, {"flag": 1}) == [Change("flag", True, 1)]


@given(json_values)
def test_a_value_never_differs_from_itself(value: Any) -> None:
    assert diff(value, value) == []


@given(json_values, json_values)
def test_diff_is_empty_exactly_when_values_are_equal(old: Any, new: Any) -> None:
    changes = diff(old, new)
    assert (changes == []) == (_canonical(old) == _canonical(new))
    for change in changes:
        assert change.old is not ABSENT or change.new is not ABSENT
        assert change.describe()


def _canonical(value: Any) -> Any:
    """JSON equality: 1 == 1.0, but true is not 1."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, int | float):
        return ("number", float(value))
    if isinstance(value, list):
        return ("list", tuple(_canonical(v) for v in value))
    return ("object", tuple(sorted((k, _canonical(v)) for k, v in value.items())))
