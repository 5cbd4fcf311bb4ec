"""An assessment as plain JSON-ready data, every `because` kept and every source id resolved to its citation."""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import Enum
from typing import Any

from pydantic import BaseModel

from fbss.knowledge.base import KnowledgeBase


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _plain(value.model_dump())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple result item
        return {name: _plain(item) for name, item in zip(value._fields, value, strict=True)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _cited_ids(data: Any, found: set[str]) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("sources", "prior_sources") and isinstance(value, list):
                found.update(value)
            else:
                _cited_ids(value, found)
    elif isinstance(data, list):
        for item in data:
            _cited_ids(item, found)


def to_data(result: Any, kb: KnowledgeBase) -> dict[str, Any]:
    """Plain data for JSON output, with a `references` table for every source id cited anywhere in it."""
    data: dict[str, Any] = _plain(result)
    cited: set[str] = set()
    _cited_ids(data, cited)
    data["references"] = {
        sid: {k: v for k, v in kb.sources[sid].model_dump().items() if v is not None and k != "id"}
        for sid in sorted(cited)
        if sid in kb.sources
    }
    return data
