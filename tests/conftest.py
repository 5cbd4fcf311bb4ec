"""Shared fixtures: the packaged knowledge base and the example cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.loader import default_knowledge

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "cases"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return default_knowledge()
