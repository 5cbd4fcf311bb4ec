"""A seeded synthetic population as a FHIR Bulk Data export: the example cases, perturbed, written by case_export.

Every patient starts from one of the example cases in `examples/cases/` (a small share from those with red flags),
then ages, dates, levels, some findings and scores are varied and the presentation vocabulary is filled in to agree
with the story (`fbss.cohort.synth_presentation`); the case is validated and written as FHIR resources by
`fbss.fhir.case_export`, so that importing the export gives the perturbed case back. Patient `i` depends only on the
seed and `i`, so the output is the same whatever the number of worker processes.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from fbss.case.model import Case
from fbss.cohort.synth_presentation import add_presentation
from fbss.errors import FbssError
from fbss.fhir.case_export import case_resources

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
RED_FLAG_SHARE = 0.08
CHUNK = 500

# (id, name, weight): several clinics of different sizes; a few patients have no managing organization
CLINICS = (
    ("spine-north", "North Spine Centre", 0.30),
    ("pain-central", "Central Pain Clinic", 0.25),
    ("ortho-east", "East Orthopaedics", 0.18),
    ("neuro-west", "West Neurosurgery", 0.14),
    ("rehab-south", "South Rehabilitation", 0.08),
    (None, None, 0.05),
)
PERTURBED_SECTIONS = ("course", "pain", "exam", "risk_factors", "psychosocial")
LEVEL_SWAP = {"L4-L5": "L5-S1", "L5-S1": "L4-L5"}
DROP_FINDING = 0.08


@dataclass(frozen=True)
class Template:
    name: str
    data: dict[str, Any]
    red_flags: tuple[str, ...]


def load_templates(examples: Path = EXAMPLES) -> tuple[list[Template], list[Template]]:
    """The example cases, split into (without red flags, with red flags) by examples/expected.yaml."""
    cases_dir = examples / "cases"
    if not cases_dir.is_dir():
        raise FbssError(f"synthetic population: example cases not found in {cases_dir}")
    expected = yaml.safe_load((examples / "expected.yaml").read_text(encoding="utf-8"))["cases"]
    plain: list[Template] = []
    flagged: list[Template] = []
    for path in sorted(cases_dir.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        flags = tuple(expected.get(path.stem, {}).get("red_flags_fired") or ())
        (flagged if flags else plain).append(Template(path.stem, data, flags))
    return plain, flagged


def _walk(node: Any, visit: Callable[[str, Any], Any]) -> Any:
    """Rebuild a JSON-like value, letting `visit(key, value)` replace the value of every mapping entry."""
    if isinstance(node, dict):
        return {k: _walk(visit(k, v), visit) for k, v in node.items()}
    if isinstance(node, list):
        return [_walk(v, visit) for v in node]
    return node


def _shift_dates(data: dict[str, Any], days: int) -> dict[str, Any]:
    def visit(key: str, value: Any) -> Any:
        if key in ("date", "assessment_date") and isinstance(value, str):
            return (dt.date.fromisoformat(value) + dt.timedelta(days=days)).isoformat()
        return value

    shifted: dict[str, Any] = _walk(data, visit)
    return shifted


def _swap_levels(data: dict[str, Any]) -> dict[str, Any]:
    def visit(key: str, value: Any) -> Any:
        if key == "level" and isinstance(value, str):
            return LEVEL_SWAP.get(value, value)
        if key == "levels" and isinstance(value, list):
            return [LEVEL_SWAP.get(v, v) if isinstance(v, str) else v for v in value]
        return value

    swapped: dict[str, Any] = _walk(data, visit)
    return swapped


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def perturb(template: dict[str, Any], rng: random.Random, case_id: str) -> dict[str, Any]:
    """A plausible variant of an example case: same story, another patient."""
    data = _shift_dates(template, -rng.randint(0, 900))
    if rng.random() < 0.25:
        data = _swap_levels(data)
    data["id"] = case_id
    data.pop("notes", None)  # free text is not exported (fbss.fhir.case_export.NOT_EXPORTED)
    patient = data.setdefault("patient", {})
    if isinstance(patient.get("age"), int):
        patient["age"] = int(_clamp(patient["age"] + rng.randint(-8, 8), 18, 95))
    for section in PERTURBED_SECTIONS:
        values = data.get(section)
        if not isinstance(values, dict):
            continue
        for key in list(values):
            if values[key] in ("present", "absent") and rng.random() < DROP_FINDING:
                del values[key]  # not recorded: unknown, never read as absent
    pain = data.get("pain", {})
    for key in ("nrs_back", "nrs_leg"):
        if isinstance(pain.get(key), int):
            pain[key] = int(_clamp(pain[key] + rng.randint(-1, 1), 0, 10))
    risk = data.get("risk_factors", {})
    if isinstance(risk.get("bmi"), int | float):
        risk["bmi"] = round(_clamp(risk["bmi"] + rng.uniform(-2.5, 2.5), 16, 50), 1)
    return add_presentation(data, rng)


def _case_for(index: int, seed: int, plain: list[Template], flagged: list[Template]) -> tuple[Case, str | None]:
    rng = random.Random(f"{seed}/{index}")
    pool = flagged if rng.random() < RED_FLAG_SHARE else plain
    template = pool[rng.randrange(len(pool))]
    case_id = f"synth-{index:07d}"
    try:
        case = Case.model_validate(perturb(template.data, rng, case_id))
    except ValidationError:  # a variant the model refuses: keep the example as it is
        case = Case.model_validate({**template.data, "id": case_id, "notes": None})
    clinic = rng.choices([c[0] for c in CLINICS], weights=[c[2] for c in CLINICS])[0]
    return case, clinic


def bulk_resources(case: Case, clinic: str | None) -> list[dict[str, Any]]:
    """The case as Bulk Data resources: references as `Type/id` (no Bundle fullUrls), a managing organization."""
    resources = [resource for _url, resource in case_resources(case)]
    patient = resources[0]
    subject = {"reference": f"Patient/{patient['id']}"}
    if clinic is not None:
        patient["managingOrganization"] = {"reference": f"Organization/{clinic}"}
    for resource in resources[1:]:
        for key in ("subject", "patient"):
            if key in resource:
                resource[key] = subject
        if "result" in resource:
            ids = [str(r["reference"]).removeprefix("urn:uuid:") for r in resource["result"]]
            resource["result"] = [{"reference": f"Observation/{rid}"} for rid in ids]
    return resources


_TEMPLATES: tuple[list[Template], list[Template]] | None = None


def _templates() -> tuple[list[Template], list[Template]]:
    global _TEMPLATES
    if _TEMPLATES is None:
        _TEMPLATES = load_templates()
    return _TEMPLATES


def _chunk(task: tuple[int, int, int]) -> dict[str, str]:
    """NDJSON text per resource type for patients [start, stop)."""
    start, stop, seed = task
    plain, flagged = _templates()
    out: dict[str, list[str]] = {}
    for index in range(start, stop):
        case, clinic = _case_for(index, seed, plain, flagged)
        for resource in bulk_resources(case, clinic):
            out.setdefault(resource["resourceType"], []).append(json.dumps(resource, separators=(",", ":")))
    return {kind: "\n".join(lines) + "\n" for kind, lines in out.items()}


def synth_cases(patients: int, seed: int = 0) -> Iterator[tuple[Case, str | None]]:
    """The synthetic cases themselves (with their clinic ids), for tests: what the export should import back to."""
    plain, flagged = _templates()
    for index in range(patients):
        yield _case_for(index, seed, plain, flagged)


def write_population(
    patients: int,
    out: Path,
    *,
    seed: int = 0,
    workers: int | None = None,
    advance: Callable[[int], None] = lambda _n: None,
) -> dict[str, int]:
    """Write `<out>/<ResourceType>.ndjson` for `patients` synthetic patients; return lines written per type."""
    if patients < 1:
        raise FbssError(f"--patients: expected at least 1, got {patients}")
    out.mkdir(parents=True, exist_ok=True)
    stale = [p.name for p in out.glob("*.ndjson")]
    if stale:
        raise FbssError(f"--out: {out} already holds NDJSON files ({', '.join(stale[:3])}); choose an empty directory")
    _templates()  # load before forking, so every worker shares them
    counts: dict[str, int] = {}
    organizations = [
        {"resourceType": "Organization", "id": cid, "active": True, "name": name} for cid, name, _w in CLINICS if cid
    ]
    (out / "Organization.ndjson").write_text(
        "".join(json.dumps(o, separators=(",", ":")) + "\n" for o in organizations), encoding="utf-8"
    )
    counts["Organization"] = len(organizations)
    tasks = [(start, min(start + CHUNK, patients), seed) for start in range(0, patients, CHUNK)]
    handles: dict[str, Any] = {}
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for (start, stop, _seed), texts in zip(tasks, pool.imap(_chunk, tasks), strict=True):
                for kind in sorted(texts):
                    if kind not in handles:
                        handles[kind] = (out / f"{kind}.ndjson").open("w", encoding="utf-8")
                    handles[kind].write(texts[kind])
                    counts[kind] = counts.get(kind, 0) + texts[kind].count("\n")
                advance(stop - start)
    finally:
        for handle in handles.values():
            handle.close()
    return counts
