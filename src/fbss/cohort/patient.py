"""One patient's NDJSON lines into one result row: decode, import with the FHIR importer, assess, summarise.

This is the unit of work of both engines: the local engine calls it inside worker processes, the Spark engine inside
`mapPartitions`. It never raises for bad input; a line that cannot be read becomes a `LineProblem`, a record that
cannot become a case becomes a row with `status` "not_applicable" or "failed".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from fbss import __version__
from fbss.cohort.routing import LineProblem
from fbss.errors import FbssError
from fbss.fhir.importer import NotApplicableError, import_resources
from fbss.fhir.resources import Validation
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.care_models import PanelCategory
from fbss.knowledge.loader import default_knowledge, load_knowledge
from fbss.reasoning.assess import Assessment, assess
from fbss.reasoning.care_results import Label

TOP_CAUSES = 3


class PatientLine(NamedTuple):
    """One NDJSON line of a patient: the file it came from (name only), its line number, its text."""

    file: str
    line: int
    text: str


class Outcome(NamedTuple):
    """The row of one patient and the lines of that patient that had to be skipped."""

    row: dict[str, Any]
    problems: list[LineProblem]


@dataclass(frozen=True)
class RunSettings:
    """What every worker needs besides the lines; small and picklable (the knowledge base is loaded per worker).

    `as_of`: the assessment date of records that carry none. `clinics`: Organization id -> name, from the export's
    Organization resources. `knowledge_dir`: None for the packaged knowledge base. `validation`: lean (the elements
    the importer reads) or strict (every element; `--strict`).
    """

    as_of: dt.date
    clinics: dict[str, str] = field(default_factory=dict)
    knowledge_dir: str | None = None
    validation: Validation = Validation.lean

    def knowledge(self) -> KnowledgeBase:
        """The knowledge base, loaded once per process (the packaged one is cached by the loader)."""
        if self.knowledge_dir is None:
            return default_knowledge()
        return _load_cached(self.knowledge_dir)


_LOADED: dict[str, KnowledgeBase] = {}


def _load_cached(directory: str) -> KnowledgeBase:
    if directory not in _LOADED:
        _LOADED[directory] = load_knowledge(Path(directory))
    return _LOADED[directory]


def _line_order(line: PatientLine) -> tuple[bool, str, int]:
    # Patient first, then file by file in line order: the same order whichever engine grouped the lines
    return (not line.file.startswith("Patient"), line.file, line.line)


def _clinic(patient: dict[str, Any] | None, clinics: dict[str, str]) -> tuple[str | None, str | None]:
    """(organization reference, clinic name) from Patient.managingOrganization."""
    if patient is None:
        return None, None
    element = patient.get("managingOrganization")
    if not isinstance(element, dict):
        return None, None
    ref = element.get("reference")
    ref = ref if isinstance(ref, str) and ref else None
    display = element.get("display") if isinstance(element.get("display"), str) else None
    org_id = ref.removeprefix("Organization/") if ref else None
    name = clinics.get(org_id) if org_id else None
    return ref, name or display or org_id


def empty_row(patient_id: str) -> dict[str, Any]:
    """A row with every column present and nothing assessed."""
    row: dict[str, Any] = {name: None for name in COLUMNS}
    row.update(patient_id=patient_id, resources=0, skipped_lines=0, unmapped=0, warnings=0, engine_version=__version__)
    return row


def assess_patient(patient_id: str, lines: Iterable[PatientLine], settings: RunSettings) -> Outcome:
    """Decode, import and assess one patient's lines; never raises for bad input."""
    problems: list[LineProblem] = []
    resources: list[tuple[str | None, object]] = []
    patient: dict[str, Any] | None = None
    for item in sorted(lines, key=_line_order):
        try:
            resource = orjson.loads(item.text)
        except orjson.JSONDecodeError as exc:
            problems.append(
                LineProblem(item.file, item.line, f"not valid JSON ({exc.msg} at column {exc.colno})", patient_id)
            )
            continue
        if patient is None and isinstance(resource, dict) and resource.get("resourceType") == "Patient":
            patient = resource
        resources.append((None, resource))
    row = empty_row(patient_id)
    row["resources"] = len(resources)
    row["skipped_lines"] = len(problems)
    row["organization"], row["clinic"] = _clinic(patient, settings.clinics)
    kb = settings.knowledge()
    row["knowledge_version"] = kb.version
    row["knowledge_fingerprint"] = kb.fingerprint
    try:
        # every resource is new: nothing to remember
        imported = import_resources(resources, remember_valid=False, validation=settings.validation)
        case = imported.case
        if case.assessment_date is None:
            case = case.model_copy(update={"assessment_date": settings.as_of})
        assessment = assess(case, kb)
    except NotApplicableError as exc:
        row.update(status="not_applicable", problem=str(exc))
        return Outcome(row, problems)
    except FbssError as exc:
        row.update(status="failed", problem=str(exc))
        return Outcome(row, problems)
    except Exception as exc:  # a defect must cost one patient, not a run over millions; the row says which
        row.update(status="failed", problem=f"internal error: {type(exc).__name__}: {exc}")
        return Outcome(row, problems)
    report = imported.report
    row.update(
        status="assessed",
        case_id=case.id,
        assessment_date=case.assessment_date,
        unmapped=len(report.unmapped),
        warnings=len(report.warnings),
        engine_version=assessment.engine_version,
    )
    causes = assessment.differential.causes
    for rank in range(TOP_CAUSES):
        if rank < len(causes):
            row[f"cause_{rank + 1}"] = causes[rank].cause
            row[f"cause_{rank + 1}_probability"] = round(causes[rank].probability, 6)
    triage = assessment.triage
    row["triage_level"] = triage.level.value if triage.level is not None else "none"
    row["red_flags"] = [flag.flag for flag in triage.fired]
    row["red_flag_count"] = len(triage.fired)
    row["ask_now"] = [flag.flag for flag in triage.ask_now]
    row["ask_now_count"] = len(triage.ask_now)
    _care_columns(row, assessment)
    return Outcome(row, problems)


def _care_columns(row: dict[str, Any], assessment: Assessment) -> None:
    """SCS advice, option ratings, the work-up and the open questions of one assessment, as columns."""
    scs = assessment.scs
    row["scs_advice"] = scs.advice.value if scs.advice is not None else None
    row["scs_stopped_by"] = [basis.rule for basis in scs.stopped_by]
    for rating in assessment.options.categories:
        row[f"rating_{rating.category.value}"] = rating.label.value
    options = assessment.options.options  # best first
    row["appropriate_options"] = [o.id for o in options if o.label is Label.appropriate]
    row["uncertain_options"] = [o.id for o in options if o.label is Label.uncertain]
    row["inappropriate_count"] = sum(1 for o in options if o.label is Label.inappropriate)
    workup = assessment.workup
    first = workup.urgent[0] if workup.urgent else workup.ranked[0] if workup.ranked else None
    row["next_test"] = first.test if first is not None else None
    row["urgent_tests"] = [test.test for test in workup.urgent]
    row["ranked_tests"] = [test.test for test in workup.ranked]
    differential = assessment.differential
    row["missing_data"] = [question.finding for question in differential.ask_next]
    row["missing_count"] = len({q.finding for cause in differential.causes for q in cause.open_questions})


class Column(NamedTuple):
    name: str
    kind: str  # string, int, float, date, strings (a list of strings)
    doc: str


SCHEMA: Sequence[Column] = (
    Column("patient_id", "string", "Patient.id in the export (the grouping key)"),
    Column("case_id", "string", "the case id the importer gave the record"),
    Column("organization", "string", "Patient.managingOrganization.reference, e.g. Organization/clinic-north"),
    Column("clinic", "string", "the organization's name (Organization.name, else the reference display, else its id)"),
    Column("status", "string", "assessed, not_applicable (no spine operation, or a minor) or failed"),
    Column("problem", "string", "why the patient was not assessed"),
    Column("assessment_date", "date", "the record's assessment date, else the run's --as-of date"),
    Column("resources", "int", "resources read for the patient"),
    Column("skipped_lines", "int", "lines of the patient skipped as malformed (listed in the errors file)"),
    Column("unmapped", "int", "items the FHIR importer could not map (ImportReport.unmapped)"),
    Column("warnings", "int", "importer warnings (conflicting values resolved)"),
    *(
        column
        for rank in range(1, TOP_CAUSES + 1)
        for column in (
            Column(f"cause_{rank}", "string", f"the cause ranked {rank} in the differential"),
            Column(f"cause_{rank}_probability", "float", "its probability (0-1)"),
        )
    ),
    Column("triage_level", "string", "emergency, same_day, within_days, or none"),
    Column("red_flags", "strings", "the red flags that fired"),
    Column("red_flag_count", "int", "how many fired"),
    Column("ask_now", "strings", "red flags waiting on an unknown answer: ask now"),
    Column("ask_now_count", "int", "how many"),
    Column(
        "scs_advice",
        "string",
        "spinal cord stimulation advice: strongly_recommended, recommended, rarely_recommended, not_recommended;"
        " empty when a contraindication stops the advice (see scs_stopped_by)",
    ),
    Column("scs_stopped_by", "strings", "the SCS contraindications that stop the advice (knowledge-base ids)"),
    *(
        Column(
            f"rating_{category.value}",
            "string",
            f"the {category.value.replace('_', ' ')} category rated appropriate, uncertain or inappropriate",
        )
        for category in PanelCategory
    ),
    Column("appropriate_options", "strings", "specific treatment options rated appropriate, best first"),
    Column("uncertain_options", "strings", "specific treatment options rated uncertain, best first"),
    Column("inappropriate_count", "int", "how many specific options are rated inappropriate"),
    Column(
        "next_test",
        "string",
        "the test to do next: the first urgent test (called for by a fired red flag), else the top-ranked one",
    ),
    Column("urgent_tests", "strings", "tests called for by a fired red flag"),
    Column("ranked_tests", "strings", "the other suggested tests, by value of information per unit of burden"),
    Column(
        "missing_data",
        "strings",
        "missing data to ask for next: the six unknown findings that would move the differential most, most useful"
        " first (finding ids)",
    ),
    Column(
        "missing_count",
        "int",
        "unknown findings among the open questions of all causes (each cause names its three most useful)",
    ),
    Column("knowledge_version", "string", "knowledge-base version"),
    Column("knowledge_fingerprint", "string", "knowledge-base content fingerprint"),
    Column("engine_version", "string", "FBSS Navigator version"),
)
COLUMNS = tuple(column.name for column in SCHEMA)
