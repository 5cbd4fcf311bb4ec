"""Field-level differences between two case snapshots, for `fbss case history`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class _Absent:
    """The field does not exist on this side (an added or removed list item or key)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True, slots=True)
class Change:
    """One field that differs: its dotted path (list items as `[i]`), the old value and the new one."""

    path: str
    old: Any
    new: Any

    @property
    def kind(self) -> str:
        if self.old is ABSENT:
            return "added"
        if self.new is ABSENT:
            return "removed"
        return "changed"

    def describe(self) -> str:
        """One line, e.g. `pain.nrs_leg: 7 → 5` or `prior_treatments[1]: added`."""
        if self.kind == "added":
            return f"{self.path}: added {_show(self.new)}"
        if self.kind == "removed":
            return f"{self.path}: removed (was {_show(self.old)})"
        return f"{self.path}: {_show(self.old)} → {_show(self.new)}"


def _show(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def diff(old: Any, new: Any, path: str = "") -> list[Change]:
    """Every leaf that differs between two JSON-like values, in document order; empty when they are equal."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[Change] = []
        keys = list(old) + [k for k in new if k not in old]
        for key in keys:
            changes.extend(diff(old.get(key, ABSENT), new.get(key, ABSENT), _join(path, str(key))))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        changes = []
        for index in range(max(len(old), len(new))):
            left = old[index] if index < len(old) else ABSENT
            right = new[index] if index < len(new) else ABSENT
            changes.extend(diff(left, right, f"{path}[{index}]"))
        return changes
    if old is ABSENT and new is ABSENT:
        return []
    if type(old) is type(new) and old == new:
        return []
    if _number(old) and _number(new) and old == new:
        return []  # 5 and 5.0 are the same JSON number
    return [Change(path or "(case)", old, new)]
