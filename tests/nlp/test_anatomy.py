"""Spine level parsing and matching."""

from __future__ import annotations

import pytest

from fbss.nlp.anatomy import find_levels, levels_overlap, parse_level


@pytest.mark.parametrize(
    ("written", "levels"),
    [
        ("L4-5", ("L4-L5",)),
        ("L4-L5", ("L4-L5",)),
        ("L4/5", ("L4-L5",)),
        ("L5-S1", ("L5-S1",)),
        ("L5/S1", ("L5-S1",)),
        ("T12-L1", ("T12-L1",)),
        ("C5-6", ("C5-C6",)),
        ("L4-S1", ("L4-L5", "L5-S1")),
        ("L3 through L5", ("L3-L4", "L4-L5")),
        ("L4 on L5", ("L4-L5",)),
        ("S1", ("S1",)),
        ("l5", ("L5",)),
    ],
)
def test_parse_level(written: str, levels: tuple[str, ...]) -> None:
    assert parse_level(written) == levels


@pytest.mark.parametrize("written", ["L6", "L5-L4", "C0", "X4", "L4-4", ""])
def test_not_a_level(written: str) -> None:
    assert parse_level(written) == ()


def test_sequences_are_not_levels_but_t12_is() -> None:
    found = find_levels("Sagittal T1 and T2 images. T2 hyperintense. T12 compression fracture. T1-weighted.")
    assert [m.levels for m in found] == [("T12",)]


def test_levels_overlap() -> None:
    assert levels_overlap("L5", "L4-L5") and levels_overlap("L4-L5", "L5")
    assert levels_overlap("L4-L5", "L4-L5")
    assert not levels_overlap("L4-L5", "L5-S1")
    assert not levels_overlap("L3", "L4-L5")
