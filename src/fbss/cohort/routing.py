"""Which patient a FHIR Bulk Data NDJSON line belongs to, found cheaply, and the problems a line can have.

Both engines route every line with `route_line`, so they agree on which lines are read, which patient owns them and
which are reported as problems. The fast path is a regular expression on the raw text (`"subject"` or `"patient"`
reference to `Patient/<id>`); Patient and Organization lines, and anything the pattern misses, are decoded in full.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import orjson

from fbss.errors import FbssError

# `"subject": {"reference": "Patient/123"` or `"patient": {...}` with the reference as the first element.
_OWNER = re.compile(r'"(?:subject|patient)"\s*:\s*\{\s*"reference"\s*:\s*"Patient/([^"/]+)"')
# a Patient or Organization is always decoded in full (its own id is not found reliably by a pattern)
ORGANIZATION_PATTERN = r'"resourceType"\s*:\s*"Organization"'
_DECODE_FULLY = re.compile(r'"resourceType"\s*:\s*"(Patient|Organization)"')


class LineProblem(NamedTuple):
    """A line that was skipped: where it is and why. `patient` is set when the line could be attributed."""

    file: str
    line: int
    reason: str
    patient: str | None = None


class Organization(NamedTuple):
    """An Organization resource: the clinic a patient's `managingOrganization` may point at."""

    id: str
    name: str | None


class Routed(NamedTuple):
    """Where one line goes: to a patient, to the organization list, or to the problem list."""

    patient: str | None = None
    organization: Organization | None = None
    problem: str | None = None


def patient_of(resource: object) -> str | None:
    """The id of the patient a decoded resource belongs to (its own id for a Patient)."""
    if not isinstance(resource, dict):
        return None
    if resource.get("resourceType") == "Patient":
        rid = resource.get("id")
        return rid if isinstance(rid, str) and rid else None
    for key in ("subject", "patient"):
        element = resource.get(key)
        if isinstance(element, dict):
            ref = element.get("reference")
            if isinstance(ref, str) and ref.startswith("Patient/") and len(ref) > len("Patient/"):
                return ref.removeprefix("Patient/")
    return None


def route_line(text: str) -> Routed:
    """Route one NDJSON line (without its newline)."""
    return locate_line(text)[0]


def locate_line(text: str) -> tuple[Routed, int]:
    """Route one line, and say where in it the patient id is when the pattern found it (else -1: decoded in full).

    The local engine keeps that place in its index of the export, so that reading a line back needs no second search.
    """
    if _DECODE_FULLY.search(text) is None:
        found = _OWNER.search(text)
        if found is not None:
            return Routed(patient=found.group(1)), found.start(1)
    return _route_decoded(text), -1


def _route_decoded(text: str) -> Routed:
    if not text.strip():
        return Routed(problem="empty line")
    try:
        resource = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return Routed(problem=f"not valid JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return Routed(problem="not a FHIR resource (no resourceType)")
    if resource["resourceType"] == "Organization":
        oid = resource.get("id")
        if not isinstance(oid, str) or not oid:
            return Routed(problem="Organization without an id")
        name = resource.get("name")
        return Routed(organization=Organization(oid, name if isinstance(name, str) else None))
    owner = patient_of(resource)
    if owner is None:
        kind = resource["resourceType"]
        what = "Patient without an id" if kind == "Patient" else f"{kind} without a subject or patient reference"
        return Routed(problem=f"{what}; cannot be attributed to a patient")
    return Routed(patient=owner)


def bucket_of(patient: str, buckets: int) -> int:
    """A stable bucket for a patient id, the same in every process and on every machine."""
    return zlib.crc32(patient.encode("utf-8")) % buckets


@dataclass(frozen=True)
class ExportFile:
    path: Path
    size: int


def export_files(directory: Path) -> list[ExportFile]:
    """The NDJSON files of a bulk export, in a stable order (Patient first, then by name)."""
    if not directory.is_dir():
        raise FbssError(f"EXPORT_DIR: {directory} is not a directory")
    files = sorted(
        (p for p in directory.iterdir() if p.is_file() and p.name.endswith(".ndjson")),
        key=lambda p: (not p.name.startswith("Patient"), p.name),
    )
    if not files:
        raise FbssError(f"EXPORT_DIR: no .ndjson files in {directory} (expected Patient.ndjson, Condition.ndjson, …)")
    return [ExportFile(p, p.stat().st_size) for p in files]
