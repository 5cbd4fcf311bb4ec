"""Validate FHIR resources (the full R4B models of fhir.resources, or the lean read models), and read the few
elements mapping needs."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import reprlib
import threading
from collections import OrderedDict
from enum import StrEnum
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from fbss.errors import FbssError
from fbss.fhir.codes import Coding
from fbss.fhir.read_models import read_models

Resource = dict[str, Any]
BUNDLE_TYPES = (
    "document",
    "message",
    "transaction",
    "transaction-response",
    "batch",
    "batch-response",
    "history",
    "searchset",
    "collection",
)


class FhirError(FbssError):
    """Input that is not valid FHIR R4 (as modelled by fhir.resources R4B): the message names the element."""


def describe_fhir_error(exc: ValidationError, limit: int = 2) -> str:
    """'Observation.status: field required' style summary of a fhir.resources validation error."""
    parts = []
    for error in exc.errors()[:limit]:
        location = ".".join(str(p) for p in error["loc"] if p != "__root__") or "(resource)"
        message = " ".join(str(error["msg"]).split())
        parts.append(f"{location}: {message}")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


class Validation(StrEnum):
    """How much of a resource is validated (docs/cohort.md, "Validation")."""

    lean = "lean"  # the elements the importer reads, and the names of all top-level elements
    strict = "strict"  # every element, against the full R4B model


def validate_resource(
    data: object, expected: str | None = None, *, remember: bool = True, validation: Validation = Validation.strict
) -> Resource:
    """Validate one resource against its R4B model; return it (unchanged) or raise FhirError naming the element.

    `validation=lean` checks, for the resource types the importer reads, only the elements it reads (exactly as the
    full model would) and that every top-level element name exists; other types are always validated in full.
    `remember=False` for resources seen once (a bulk export): skips the digest the cache of validated resources
    needs, which costs about 5 % of the validation and keeps a long run's memory flat.
    """
    if not isinstance(data, dict):
        raise FhirError("expected a JSON object with a resourceType")
    kind = data.get("resourceType")
    if not isinstance(kind, str) or not kind:
        raise FhirError("resourceType is missing")
    if expected is not None and kind != expected:
        raise FhirError(f"expected a {expected}, got a {kind}")
    key = b""
    if remember:
        text = validation.value + json.dumps(data, separators=(",", ":"))
        key = hashlib.blake2b(text.encode(), digest_size=16).digest()
        if _VALID.seen(key):
            return data
    lean = read_models().get(kind) if validation is Validation.lean else None
    try:
        if lean is not None:
            lean.validate(data)
        else:
            _full_model(kind).model_validate(data)
    except ValidationError as exc:
        raise FhirError(f"{kind}: {describe_fhir_error(exc)}") from None
    except (AttributeError, TypeError) as exc:  # fhir.resources' own validators trip over some malformed elements
        raise FhirError(f"{kind}: malformed element ({exc})") from None
    if remember:
        _VALID.add(key)
    return data


def _full_model(kind: str) -> Any:
    try:
        return get_fhir_model_class(kind)
    except (ValueError, KeyError):
        raise FhirError(f"'{kind}' is not a FHIR R4 resource type") from None


class _ValidCache:
    """Digests of resources that passed validation (bounded, least recently used out).

    The same patient's resources reach the service again each time the chart is opened; validating a resource once
    per process is enough. Keys are digests of the exact JSON, so any change is validated afresh.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self._keys: OrderedDict[bytes, None] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def seen(self, key: bytes) -> bool:
        with self._lock:
            if key in self._keys:
                self._keys.move_to_end(key)
                return True
            return False

    def add(self, key: bytes) -> None:
        with self._lock:
            self._keys[key] = None
            if len(self._keys) > self._limit:
                self._keys.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()


_VALID = _ValidCache()


def clear_validation_cache() -> None:
    """Forget which resources were validated (for measurements and tests)."""
    _VALID.clear()


def validate_bundle_shell(data: object) -> list[object]:
    """Check a Bundle's own elements (not its entries, which are validated one by one); return the entries."""
    if not isinstance(data, dict):
        raise FhirError("expected a JSON object: a FHIR Bundle")
    if data.get("resourceType") != "Bundle":
        raise FhirError(f"expected resourceType 'Bundle', got {reprlib.repr(data.get('resourceType'))}")
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        raise FhirError("Bundle.entry must be a list")
    if data.get("type") not in BUNDLE_TYPES:
        # fhir.resources does not check required code bindings, so the value set is checked here
        raise FhirError(f"Bundle.type must be one of {', '.join(BUNDLE_TYPES)}, got {reprlib.repr(data.get('type'))}")
    shell = {k: v for k, v in data.items() if k != "entry"}
    validate_resource(shell, "Bundle")
    return entries


def codings(concept: Any) -> list[Coding]:
    """The codings of a CodeableConcept (an empty list for anything else)."""
    if not isinstance(concept, dict):
        return []
    return [
        Coding(c.get("system"), c.get("code"), c.get("display"))
        for c in concept.get("coding", [])
        if isinstance(c, dict)
    ]


def concepts(value: Any) -> list[Any]:
    """A list of CodeableConcepts from a 0..* element."""
    return value if isinstance(value, list) else []


def text_of(concept: Any) -> str | None:
    if isinstance(concept, dict):
        text = concept.get("text")
        if isinstance(text, str):
            return text
        for c in codings(concept):
            if c.display:
                return c.display
    return None


def extensions(resource: Resource) -> list[tuple[str, Any]]:
    """(url, value) of each extension of a resource or element."""
    found = []
    for ext in resource.get("extension", []):
        if isinstance(ext, dict) and isinstance(ext.get("url"), str):
            value = next((v for k, v in ext.items() if k.startswith("value")), None)
            found.append((ext["url"], value))
    return found


def reference(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("reference"), str):
        return str(value["reference"])
    return None


def date_of(text: Any) -> dt.date | None:
    """The calendar date of a FHIR date or dateTime ('2024', '2024-02' and time zones allowed)."""
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def label(resource: Resource, full_url: str | None = None) -> str:
    """How a resource is named in reports: Type/id, else the fullUrl, else the type."""
    kind = str(resource.get("resourceType", "Resource"))
    if resource.get("id"):
        return f"{kind}/{resource['id']}"
    return f"{kind} ({full_url})" if full_url else kind
