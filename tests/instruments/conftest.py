"""Shared helpers for instrument tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from fbss.instruments import InstrumentCatalogue, load_instruments
from fbss.instruments.catalogue import INSTRUMENTS_FILE


@pytest.fixture(scope="session")
def catalogue() -> InstrumentCatalogue:
    return load_instruments()


@pytest.fixture
def yaml_text() -> str:
    return INSTRUMENTS_FILE.read_text(encoding="utf-8")


def write_variant(tmp_path: Path, text: str, old: str, new: str) -> Path:
    """A copy of instruments.yaml with one exact passage replaced (the passage must exist)."""
    assert old in text, f"test setup: {old!r} not found in instruments.yaml"
    path = tmp_path / "instruments.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path
