"""The order in which fired red flags are acted on: by urgency, and within an urgency the flags whose definitive care
is already established (rated appropriate: a bleed with a falling haemoglobin, a haematoma shown on MRI) before those
whose care still waits for a test. The plan lists the flags in this order and the urgent tests follow it."""

from __future__ import annotations

from collections.abc import Mapping

from fbss.knowledge.models import URGENCY_RANK
from fbss.reasoning.care_results import Label, Rating
from fbss.reasoning.results import RedFlagResult


def acting_rank(flag: RedFlagResult, ratings: Mapping[str, Rating]) -> tuple[int, bool]:
    """How soon a flag is acted on: its urgency, then False when its definitive care is rated appropriate."""
    established = any(o in ratings and ratings[o].label is Label.appropriate for o in flag.definitive)
    return URGENCY_RANK[flag.urgency], not established


def acting_order(fired: tuple[RedFlagResult, ...], ratings: Mapping[str, Rating]) -> tuple[RedFlagResult, ...]:
    """The fired flags, most urgent first; within an urgency, those whose definitive care is rated appropriate first
    (stable otherwise: the triage's own order)."""
    return tuple(sorted(fired, key=lambda f: acting_rank(f, ratings)))
