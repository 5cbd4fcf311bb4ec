"""Lean read models: validate only the elements the importer reads, as strictly as the full FHIR R4B models do.

The full models of `fhir.resources` validate every element of a resource (80 µs or more for an Observation), most of
which the importer never looks at. A lean read model keeps, for each resource type the importer reads, only the
elements it reads (and every required element), with exactly the field types of the full model: the same
`fhir_core` primitive types, and copies of the same data types (Coding, CodeableConcept, Extension, …) with every
element of theirs, unknown names refused, required elements and one-of-many choices (`value[x]`) checked as the full
model checks them. Top-level element names are checked against the full model, so a misspelt element is still
refused. What is not read (narrative, meta, elements of no interest to the case) is not validated.

The copies are built from the full models themselves at first use, so the two cannot drift apart; a mutation test
(`tests/fhir/test_read_models.py`) checks that lean and full models accept and refuse the same resources wherever
the change touches an element that is read.
"""

from __future__ import annotations

import json
import threading
import types
import typing
from collections.abc import Callable, Iterator
from functools import cache
from typing import Annotated, Any, ForwardRef

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import FhirBase
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, create_model, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

# The elements the importer reads, per resource type (`name[x]` stands for every type of a choice element).
# Every resource's id, extension, contained (Medication) and subject/patient (whose record it is) are read too.
COMMON = ("id", "extension", "contained")
READ_ELEMENTS: dict[str, tuple[str, ...]] = {
    "Patient": ("identifier", "gender", "birthDate", "deceased[x]", "managingOrganization"),
    "Condition": ("subject", "code", "clinicalStatus", "verificationStatus", "onset[x]", "recordedDate"),
    "Procedure": (
        "subject",
        "status",
        "code",
        "category",
        "performed[x]",
        "bodySite",
        "reasonCode",
        "note",
    ),
    "Observation": (
        "subject",
        "status",
        "code",
        "value[x]",
        "effective[x]",
        "issued",
        "bodySite",
        "method",
        "component",
        "performer",  # who recorded it (red-flag screens)
    ),
    "QuestionnaireResponse": ("subject", "status", "questionnaire", "item", "authored"),
    "DiagnosticReport": (
        "subject",
        "status",
        "code",
        "effective[x]",
        "conclusion",
        "presentedForm",
        "conclusionCode",
    ),
    "DocumentReference": ("subject", "status", "docStatus", "type", "description", "date", "content"),
    "MedicationStatement": ("subject", "status", "medication[x]", "effective[x]", "dateAsserted", "note"),
    "MedicationRequest": (
        "subject",
        "status",
        "intent",
        "doNotPerform",
        "medication[x]",
        "authoredOn",
        "dispenseRequest",
    ),
    "Medication": ("code",),
    "AllergyIntolerance": (
        "patient",
        "code",
        "clinicalStatus",
        "verificationStatus",
        "recordedDate",
        "onset[x]",
    ),
    "Device": ("patient", "type"),
}

_STRICT_ELEMENT = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)
_READ_RESOURCE = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)


def _instance(model: type[FHIRAbstractModel]) -> FHIRAbstractModel:
    return model.model_construct()


def _required(model: type[FHIRAbstractModel]) -> list[tuple[str, str | None]]:
    return list(_instance(model).get_required_fields())


def _choices(model: type[FHIRAbstractModel]) -> dict[str, list[str]]:
    return dict(_instance(model).get_one_of_many_fields())


def _choice_required(model: type[FHIRAbstractModel], fields: list[str]) -> bool:
    extra = model.model_fields[fields[0]].json_schema_extra
    return isinstance(extra, dict) and extra.get("one_of_many_required") is True


def _keys(model: type[FHIRAbstractModel], name: str) -> tuple[str, ...]:
    """The keys an element may come under: its JSON name and (the full models populate by name) its Python name."""
    alias = model.model_fields[name].alias or name
    return (alias,) if alias == name else (alias, name)


def _given(data: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = data.get(key)
        if value is not None:
            return value
    return None


def _structure_checks(model: type[FHIRAbstractModel], kept: set[str]) -> Callable[[Any], Any] | None:
    """The checks the full model makes in Python (required primitives, one-of-many), limited to the kept fields."""
    required = [
        (_keys(model, name), _keys(model, ext) if ext else ()) for name, ext in _required(model) if name in kept
    ]
    # each choice as {key: which type}, so that a check looks at the keys given, not at every type of the choice
    choices = [
        (prefix, {key: i for i, f in enumerate(fields) for key in _keys(model, f)}, _choice_required(model, fields))
        for prefix, fields in _choices(model).items()
        if fields[0] in kept
    ]
    primitive_extension = model.__name__ == "FHIRPrimitiveExtension"
    if not required and not choices and not primitive_extension:
        return None

    def check(data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if primitive_extension and all(data.get(k) is None for k in ("id", "extension", "fhir_comments")):
            raise PydanticCustomError("model_validation_format", "One of field value is required.", {})
        for prefix, options, needed in choices:
            present = len({options[key] for key, value in data.items() if value is not None and key in options})
            if present > 1:
                raise ValueError(f"Any of one field value is expected from this list {prefix}[x], but got multiple!")
            if needed and not present:
                raise ValueError(f"Expect any of field value from this list {prefix}[x].")
        for keys, ext_keys in required:
            if _given(data, keys) is not None:
                continue
            ext = _given(data, ext_keys) if ext_keys else None
            if isinstance(ext, dict) and ext.get("extension"):
                continue
            raise PydanticCustomError(
                "model_field_validation.missing",
                "Value for the field '{field_name}' is required.",
                {"field_name": keys[0]},
            )
        return data

    return check


def _object_from_text(value: Any) -> Any:
    # the full models accept an element given as JSON text, and so must a lean one
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"Invalid JSON: {exc}") from None
    return value


class _Builder:
    """Lean copies of the full models, built once per process (the copies refer to each other, Extension to
    Extension): each nested model is declared by name first and resolved when the whole family is built."""

    def __init__(self) -> None:
        self.namespace: dict[str, type[BaseModel]] = {}
        self.pending: list[type[FHIRAbstractModel]] = []

    def name(self, model: type[FHIRAbstractModel]) -> str:
        return f"Lean_{model.__module__.rsplit('.', 1)[-1]}_{model.__name__}"

    def element(self, model: type[FHIRAbstractModel]) -> str:
        name = self.name(model)
        if name not in self.namespace and model not in self.pending:
            self.pending.append(model)
        return name

    def annotation(self, annotation: Any, in_list: bool = False) -> Any:
        """The full model's annotation with every nested FHIR model replaced by its lean copy."""
        if isinstance(annotation, type) and issubclass(annotation, FhirBase):
            target = annotation.get_model_klass()
            if target.has_resource_base():
                return _whole_resource(annotation)  # contained resources: validated in full (rare)
            lean: Any = ForwardRef(self.element(target))
            # the full models take null for a single complex element, even a required one, but not in a list
            return Annotated[lean if in_list else lean | None, BeforeValidator(_object_from_text)]
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            inner, *extras = typing.get_args(annotation)
            return Annotated[(self.annotation(inner, in_list), *extras)]
        if origin in (typing.Union, types.UnionType):
            options = tuple(self.annotation(a, in_list) for a in typing.get_args(annotation))
            return typing.Union[options]  # noqa: UP007
        if origin is list:
            (item,) = typing.get_args(annotation)
            return list[self.annotation(item, in_list=True)]  # type: ignore[misc]
        return annotation

    def copy(self, model: type[FHIRAbstractModel], keep: set[str], config: ConfigDict, name: str) -> type[BaseModel]:
        fields: dict[str, Any] = {}
        for field_name, info in model.model_fields.items():
            if field_name not in keep:
                continue
            copied = FieldInfo.merge_field_infos(info)
            copied.annotation = self.annotation(info.annotation)
            fields[field_name] = (copied.annotation, copied)
        validators: dict[str, Any] = {}
        check = _structure_checks(model, keep)
        if check is not None:

            def structure(cls: type[BaseModel], data: Any) -> Any:
                return check(data)

            validators["structure"] = model_validator(mode="before")(classmethod(structure))  # type: ignore[arg-type]
        lean = create_model(name, __config__=config, __validators__=validators, **fields)
        self.namespace[name] = lean
        return lean

    def drain(self) -> None:
        while self.pending:
            model = self.pending.pop()
            if self.name(model) not in self.namespace:
                self.copy(model, set(model.model_fields), _STRICT_ELEMENT, self.name(model))


def _whole_resource(wrapper: type[FhirBase]) -> Any:
    def validate(value: Any) -> Any:
        if value is None:
            raise ValueError("None is not allowed as an element of contained")
        return wrapper.fhir_model_validator(value, wrapper.get_model_klass())

    return Annotated[Any, BeforeValidator(validate)]


def _expand(model: type[FHIRAbstractModel], elements: tuple[str, ...]) -> set[str]:
    """Field names of the elements read, their primitive-extension siblings (`_birthDate`), and required elements."""
    choices = _choices(model)
    wanted: set[str] = set()
    for element in elements:
        wanted.update(choices[element[:-3]] if element.endswith("[x]") else [element])
    for primitive, extension in _required(model):
        wanted.update(filter(None, (primitive, extension)))
    wanted.update(name for name, info in model.model_fields.items() if info.is_required())
    for fields in choices.values():
        if _choice_required(model, fields):
            wanted.update(fields)
    keep = set()
    for name, info in model.model_fields.items():
        alias = info.alias or name
        if name in wanted or alias.removeprefix("_") in wanted:
            keep.add(name)
    return keep


class ReadModel:
    """The lean model of one resource type and the element names the full model allows at its top level."""

    def __init__(self, kind: str, model: type[BaseModel], allowed: frozenset[str]) -> None:
        self.kind = kind
        self.model = model
        self.allowed = allowed

    def validate(self, data: dict[str, Any]) -> None:
        """Raise pydantic's ValidationError if the elements read are not valid, or an element name is unknown."""
        unknown = [key for key in data if key not in self.allowed]
        if unknown:
            raise ValidationError.from_exception_data(
                self.kind,
                [{"type": "extra_forbidden", "loc": (key,), "input": data[key]} for key in unknown],
            )
        self.model.model_validate(data)


_LOCK = threading.Lock()


@cache
def read_models() -> dict[str, ReadModel]:
    """The lean read model of every resource type the importer reads (built at first use: about a second)."""
    with _LOCK:
        builder = _Builder()
        built: dict[str, type[BaseModel]] = {}
        allowed: dict[str, frozenset[str]] = {}
        for kind, elements in READ_ELEMENTS.items():
            model = get_fhir_model_class(kind)
            keep = _expand(model, (*COMMON, *elements))
            built[kind] = builder.copy(model, keep, _READ_RESOURCE, f"Read_{kind}")
            names = {"resourceType"}
            for name, info in model.model_fields.items():
                names.update((name, info.alias or name))
            allowed[kind] = frozenset(names)
        builder.drain()
        for lean in built.values():  # nested copies are built inside the resource models that use them
            lean.model_rebuild(_types_namespace=builder.namespace)
        return {kind: ReadModel(kind, built[kind], allowed[kind]) for kind in READ_ELEMENTS}


def read_elements() -> Iterator[tuple[str, frozenset[str]]]:
    """(resource type, JSON names of the top-level elements its lean model validates), for tests and docs."""
    for kind, elements in READ_ELEMENTS.items():
        model = get_fhir_model_class(kind)
        keep = _expand(model, (*COMMON, *elements))
        yield kind, frozenset(model.model_fields[name].alias or name for name in keep)
