"""Which case paths exist and what kind of value each holds, so knowledge files can be checked against the model."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from enum import Enum

from pydantic import BaseModel

from fbss.case.derived import DerivedFacts
from fbss.case.model import Case, Presence

DERIVED_PREFIX = "derived."


@dataclass(frozen=True)
class FieldKind:
    """presence (present/absent/unknown), number, or enum (with its allowed values)."""

    kind: typing.Literal["presence", "number", "enum"]
    values: tuple[str, ...] = ()


def _unwrap(annotation: typing.Any) -> typing.Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    return annotation


def _kind_of(annotation: typing.Any, path: str) -> FieldKind:
    annotation = _unwrap(annotation)
    if annotation is Presence:
        return FieldKind("presence")
    if annotation in (int, float):
        return FieldKind("number")
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return FieldKind("enum", tuple(str(m.value) for m in annotation))
    raise KeyError(f"'{path}' is not a presence, number or enum field")


_DERIVED_HINTS = typing.get_type_hints(DerivedFacts)


def field_kind(path: str) -> FieldKind:
    """The kind of value at a dotted case path such as 'red_flags.fever' or 'derived.months_since_surgery'."""
    if path.startswith(DERIVED_PREFIX):
        name = path.removeprefix(DERIVED_PREFIX)
        if name not in _DERIVED_HINTS:
            raise KeyError(f"'{path}' is not a derived fact; known: {', '.join(sorted(_DERIVED_HINTS))}")
        return _kind_of(_DERIVED_HINTS[name], path)
    model: type[BaseModel] = Case
    parts = path.split(".")
    for i, part in enumerate(parts):
        info = model.model_fields.get(part)
        if info is None:
            raise KeyError(f"'{path}': '{part}' is not a field of {model.__name__}")
        annotation = _unwrap(info.annotation)
        if i < len(parts) - 1:
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                raise KeyError(f"'{path}': '{part}' has no sub-fields")
            model = annotation
        else:
            return _kind_of(annotation, path)
    raise KeyError(path)
