"""Read YAML knowledge files while remembering the line each mapping starts on, for precise error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from fbss.errors import KnowledgeError

LINE_KEY = "__line__"


class _LineLoader(yaml.SafeLoader):
    """A safe loader that stores each mapping's 1-based start line under LINE_KEY."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE_KEY] = node.start_mark.line + 1
        return mapping


def read_yaml(path: Path) -> Any:
    """Parse a YAML file with line numbers attached to every mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"{path.name}: cannot read file ({exc})") from exc
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path.name}: not valid YAML ({exc})") from exc


def strip_lines(value: Any) -> Any:
    """Remove the line markers from a parsed structure (returns a copy)."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k != LINE_KEY}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


def line_of(value: Any) -> int | None:
    """The line a parsed mapping started on, if known."""
    return value.get(LINE_KEY) if isinstance(value, dict) else None


def _child(node: Any, part: int | str) -> Any:
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    if isinstance(node, dict):
        return node.get(part)
    return None


def line_at(raw: Any, path: tuple[int | str, ...]) -> int | None:
    """The start line of the innermost mapping on `path` into a parsed document (the outer line if none deeper)."""
    line = line_of(raw)
    node = raw
    for part in path:
        node = _child(node, part)
        if node is None:
            break
        line = line_of(node) or line
    return line
