"""Import a directory of patient Bundles (a bulk export, a synthetic population) as case drafts and measure what
reaches the case: for each item, how many records hold it and in how many it was read; and that nothing crashed.

Each record is drafted as if its chart were opened the day of its last entry (the assessment date), so "current"
and "recent" mean what they meant to the clinician then.
"""

from __future__ import annotations

import datetime as dt
import json
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fbss.errors import FbssError
from fbss.fhir.codes import Coding
from fbss.fhir.importer import CaseDraft, NotApplicableError, import_draft
from fbss.fhir.mapping import default_mapping
from fbss.fhir.medicines import default_table
from fbss.fhir.resources import codings, date_of

Resource = dict[str, Any]
DATE_FIELDS = ("effectiveDateTime", "authoredOn", "recordedDate", "onsetDateTime", "issued", "date")


def _atc_classes(resource: Resource) -> set[str]:
    """The mapping targets and treatments a request's medicine reaches (through the RxNorm table)."""
    mapping, table = default_mapping(), default_table()
    concept = resource.get("medicationCodeableConcept")
    text = concept.get("text") if isinstance(concept, dict) else None
    found: set[str] = set()
    for coding in codings(concept):
        match = table.atc_of(coding, text)
        if match is None:
            continue
        for rule, _ in mapping.find(mapping.data.medications, Coding(mapping.uri["atc"], match.atc)):
            found.add(getattr(rule, "target", None) or str(getattr(rule, "treatment", "")))
    return found


def _has_code(resource: Resource, *codes: str) -> bool:
    return any(c.code in codes for c in codings(resource.get("code")))


def _active_request(resource: Resource) -> bool:
    return resource.get("resourceType") == "MedicationRequest" and resource.get("status") in ("active", "on-hold")


def _request(resource: Resource) -> bool:
    return resource.get("resourceType") == "MedicationRequest"


@dataclass(frozen=True)
class Item:
    """One thing the chart can tell the case: how to see it in the record, and how to see it in the draft."""

    name: str
    held: Callable[[Resource], bool]
    read: Callable[[dict[str, Any]], bool]


def _get(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _tried(treatment: str) -> Callable[[dict[str, Any]], bool]:
    return lambda d: any(t.get("treatment") == treatment for t in d.get("prior_treatments", []))


ITEMS: tuple[Item, ...] = (
    Item(
        "anticoagulant (active request)",
        lambda r: _active_request(r) and "patient.anticoagulant" in _atc_classes(r),
        lambda d: _get(d, "patient.anticoagulant") == "present",
    ),
    Item(
        "antiplatelet (active request)",
        lambda r: _active_request(r) and "patient.antiplatelet" in _atc_classes(r),
        lambda d: _get(d, "patient.antiplatelet") == "present",
    ),
    Item("opioid (any request)", lambda r: _request(r) and "opioid" in _atc_classes(r), _tried("opioid")),
    Item("NSAID (any request)", lambda r: _request(r) and "nsaid" in _atc_classes(r), _tried("nsaid")),
    Item(
        "pain NRS (72514-3)",
        lambda r: r.get("resourceType") == "Observation" and _has_code(r, "72514-3"),
        lambda d: _get(d, "pain.nrs_back") is not None or _get(d, "pain.nrs_leg") is not None,
    ),
    Item(
        "eGFR (33914-3)",
        lambda r: r.get("resourceType") == "Observation" and _has_code(r, "33914-3"),
        lambda d: _get(d, "patient.egfr") is not None,
    ),
    Item(
        "smoking status (72166-2)",
        lambda r: r.get("resourceType") == "Observation" and _has_code(r, "72166-2"),
        lambda d: _get(d, "risk_factors.smoking") in ("present", "absent"),
    ),
    Item(
        "BMI (39156-5)",
        lambda r: r.get("resourceType") == "Observation" and _has_code(r, "39156-5"),
        lambda d: _get(d, "risk_factors.bmi") is not None,
    ),
    Item(
        "diabetes (Condition)",
        lambda r: r.get("resourceType") == "Condition" and _has_code(r, "44054006", "73211009", "46635009"),
        lambda d: _get(d, "risk_factors.diabetes") == "present",
    ),
    Item(
        "diabetic neuropathy (368581000119106)",
        lambda r: r.get("resourceType") == "Condition" and _has_code(r, "368581000119106"),
        lambda d: _get(d, "risk_factors.peripheral_neuropathy") == "present",
    ),
)


@dataclass
class Survey:
    records: int = 0
    drafted: int = 0
    not_applicable: int = 0  # minors
    rejected: list[tuple[str, str]] = field(default_factory=list)  # not a patient Bundle, with the reason
    crashes: list[tuple[str, str]] = field(default_factory=list)
    deceased: int = 0
    held: dict[str, int] = field(default_factory=dict)
    read: dict[str, int] = field(default_factory=dict)  # of the records that hold the item
    resources: int = 0
    unmapped: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "drafted": self.drafted,
            "not_applicable": self.not_applicable,
            "rejected": len(self.rejected),
            "crashes": len(self.crashes),
            "deceased": self.deceased,
            "items": {name: {"held": self.held.get(name, 0), "read": self.read.get(name, 0)} for name in self.held},
        }


def _entries(bundle: Any) -> list[tuple[str | None, object]]:
    if not isinstance(bundle, dict):
        return []
    return [(e.get("fullUrl"), e.get("resource")) for e in bundle.get("entry", []) if isinstance(e, dict)]


def last_entry_date(resources: list[tuple[str | None, object]]) -> dt.date | None:
    """The date of the latest dated resource: the day the chart is taken to be opened."""
    dates = []
    for _, resource in resources:
        if isinstance(resource, dict):
            for key in DATE_FIELDS:
                when = date_of(resource.get(key))
                if when:
                    dates.append(when)
            period = resource.get("performedPeriod") or resource.get("effectivePeriod")
            start = date_of(period.get("start")) if isinstance(period, dict) else None
            if start:
                dates.append(start)
    return max((d for d in dates if d), default=None)


def survey_one(path: Path, result: Survey) -> CaseDraft | None:
    """Draft one record into the running totals; every failure is counted, none is raised."""
    result.records += 1
    try:
        bundle = json.loads(path.read_bytes())
        resources = _entries(bundle)
        if not any(isinstance(r, dict) and r.get("resourceType") == "Patient" for _, r in resources):
            result.rejected.append((path.name, "no Patient: not a patient record"))
            return None
        draft = import_draft(resources, assessment_date=last_entry_date(resources), remember_valid=False)
    except NotApplicableError:
        result.not_applicable += 1
        return None
    except (FbssError, ValueError) as exc:
        result.rejected.append((path.name, str(exc)[:200]))
        return None
    except Exception:  # a crash: what this survey exists to find
        result.crashes.append((path.name, traceback.format_exc(limit=6)))
        return None
    result.drafted += 1
    result.resources += len(resources)
    result.unmapped += len(draft.report.unmapped)
    if any("deceased" in w for w in draft.report.warnings):
        result.deceased += 1
    for item in ITEMS:  # of the drafted records (adults): minors are not FBSS Navigator's
        if any(isinstance(r, dict) and item.held(r) for _, r in resources):
            result.held[item.name] = result.held.get(item.name, 0) + 1
            if item.read(draft.data):
                result.read[item.name] = result.read.get(item.name, 0) + 1
    return draft


def bundle_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.json") if p.is_file())


def survey(paths: list[Path], progress: Callable[[Path], None] | None = None) -> Survey:
    result = Survey()
    for path in paths:
        survey_one(path, result)
        if progress:
            progress(path)
    for item in ITEMS:
        result.held.setdefault(item.name, 0)
    return result


def iter_crashes(result: Survey) -> Iterator[str]:
    for name, trace in result.crashes:
        yield f"{name}\n{trace}"
