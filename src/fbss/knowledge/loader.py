"""Load the knowledge-base YAML files, validate every entry and cross-reference, and refuse a bad file precisely."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from fbss.case.derived import SurgeryGroup
from fbss.case.parse import describe_validation_error
from fbss.case.paths import field_kind
from fbss.case.vocabulary import DiagnosticFinding, Lab, Modality, Treatment
from fbss.errors import KnowledgeError
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.education import check_education_refs, parse_education
from fbss.knowledge.evidence import Source
from fbss.knowledge.models import (
    URGENCY_RANK,
    CauseDef,
    Cited,
    DifferentialDoc,
    FindingDef,
    Link,
    RedFlagDef,
    RedFlagScreenDef,
    StudySensitivity,
    expression_ids,
)
from fbss.knowledge.yaml_source import LINE_KEY, line_at, line_of, read_yaml, strip_lines

DATA_DIR = Path(__file__).parent / "data"
MANIFEST = "knowledge.yaml"
SENSITIVITY_FILE = "study_sensitivity.yaml"
PRIOR_SUM_TOLERANCE = 0.05  # the shares of one operation group, with the unexplained share, add up to 1 within this

M = TypeVar("M", bound=BaseModel)


def _where(path: Path, raw: Any, entry_id: str | None = None) -> str:
    line = line_of(raw)
    parts = [path.name + (f" line {line}" if line else "")]
    if entry_id:
        parts.append(f"entry '{entry_id}'")
    return ", ".join(parts)


def _entries(path: Path, document: Any, key: str) -> list[Any]:
    if document is None:
        return []
    if not isinstance(document, dict):
        raise KnowledgeError(f"{path.name}: expected a mapping at the top level")
    entries = document.get(key, [])
    if not isinstance(entries, list):
        raise KnowledgeError(f"{_where(path, document)}: '{key}' must be a list")
    return entries


def _parse(model: type[M], path: Path, raw: Any, with_line: bool = True) -> M:
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{path.name}: every entry must be a mapping, got {raw!r}")
    data = strip_lines(raw)
    if with_line:
        data["line"] = line_of(raw)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        line = line_at(raw, exc.errors()[0]["loc"])
        where = f"{path.name} line {line}" if line else path.name
        entry = f", entry '{data['id']}'" if isinstance(data.get("id"), str) else ""
        raise KnowledgeError(f"{where}{entry}: {describe_validation_error(exc, whole='')}") from None


def _unique(items: Iterable[tuple[str, Path, Any]]) -> None:
    seen: dict[str, str] = {}
    for entry_id, path, raw in items:
        where = _where(path, raw)
        if entry_id in seen:
            raise KnowledgeError(f"{where}: id '{entry_id}' is already used at {seen[entry_id]}")
        seen[entry_id] = where


def _check_finding(finding: FindingDef, path: Path, raw: Any, finding_ids: set[str]) -> None:
    where = _where(path, raw, finding.id)
    if finding.field is not None:
        try:
            kind = field_kind(finding.field)
        except KeyError as exc:
            raise KnowledgeError(f"{where}: field {exc.args[0]}") from None
        if kind.kind == "presence" and (finding.one_of or finding.threshold):
            raise KnowledgeError(f"{where}: '{finding.field}' is present/absent/unknown; drop one_of and threshold")
        if kind.kind == "number" and finding.threshold is None:
            raise KnowledgeError(f"{where}: '{finding.field}' is a number; give a threshold")
        if kind.kind == "enum":
            if not finding.one_of:
                raise KnowledgeError(f"{where}: '{finding.field}' takes one of {list(kind.values)}; give one_of")
            bad = [v for v in finding.one_of if v not in kind.values]
            if bad:
                raise KnowledgeError(f"{where}: {bad} not allowed for '{finding.field}'; expected {list(kind.values)}")
    if finding.diagnostic is not None and finding.diagnostic not in DiagnosticFinding.__members__:
        raise KnowledgeError(f"{where}: unknown diagnostic finding code '{finding.diagnostic}'")
    bad_modalities = [m for m in finding.seen_on if m not in Modality.__members__]
    if bad_modalities:
        raise KnowledgeError(f"{where}: unknown modality {bad_modalities}; expected {[m.value for m in Modality]}")
    if finding.lab is not None and finding.lab not in Lab.__members__:
        raise KnowledgeError(f"{where}: unknown lab '{finding.lab}'; expected one of {[m.value for m in Lab]}")
    if finding.treatment is not None and finding.treatment not in Treatment.__members__:
        raise KnowledgeError(f"{where}: unknown treatment '{finding.treatment}'")
    for name in ("expression", "absent_if", "ask_if"):
        expr = getattr(finding, name)
        if expr is not None:
            missing = [i for i in expression_ids(expr) if i not in finding_ids]
            if missing:
                raise KnowledgeError(f"{where}: {name} names unknown finding(s) {missing}")


def _check_cycles(findings: dict[str, FindingDef]) -> None:
    state: dict[str, int] = {}

    def visit(fid: str, trail: list[str]) -> None:
        if state.get(fid) == 2:
            return
        if state.get(fid) == 1:
            raise KnowledgeError(f"findings.yaml: findings refer to each other in a circle: {' -> '.join(trail)}")
        state[fid] = 1
        for child in finding_inputs(findings[fid]):
            visit(child, [*trail, child])
        state[fid] = 2

    for fid in findings:
        visit(fid, [fid])


def finding_inputs(finding: FindingDef) -> list[str]:
    """The findings one finding reads: its expression's and its absent_if's."""
    return [i for e in (finding.expression, finding.absent_if) if e is not None for i in expression_ids(e)]


def _check_sources(cited: Cited, where: str, sources: dict[str, Source]) -> None:
    missing = [s for s in cited.sources if s not in sources]
    if missing:
        raise KnowledgeError(f"{where}: unknown source id(s) {missing}; add them to sources.yaml")


def _cited_parts(cause: CauseDef) -> list[tuple[str, Cited]]:
    parts: list[tuple[str, Cited]] = [("category_basis", cause.category_basis)]
    parts += [(f"prior '{group}'", prior) for group, prior in cause.priors.items()]
    parts += [(f"link '{link.finding}'", link) for link in cause.links]
    if cause.emergency is not None:
        parts.append(("emergency", cause.emergency))
    return parts


def load_knowledge(directory: Path | None = None) -> KnowledgeBase:
    """Read and validate every knowledge file in `directory` (default: the packaged data)."""
    directory = directory or DATA_DIR
    if not directory.is_dir():
        raise KnowledgeError(f"{directory}: knowledge directory not found")
    paths = sorted(directory.glob("*.yaml"))
    documents = {p: read_yaml(p) for p in paths}
    by_name = {p.name: p for p in paths}
    for required in (MANIFEST, "findings.yaml", "causes.yaml", "red_flags.yaml", "sources.yaml"):
        if required not in by_name:
            raise KnowledgeError(f"{directory}: missing required file {required}")

    manifest = documents[by_name[MANIFEST]]
    if not isinstance(manifest, dict) or not isinstance(manifest.get("version"), str):
        raise KnowledgeError(f"{MANIFEST}: needs a 'version' string")

    raw_sources = [(p, raw) for p, doc in documents.items() for raw in _entries(p, doc, "sources")]
    sources_list = [(_parse(Source, p, raw, with_line=False), p, raw) for p, raw in raw_sources]
    _unique((s.id, p, raw) for s, p, raw in sources_list)
    sources = {s.id: s for s, _, _ in sources_list}

    def parse_all(name: str, key: str, model: type[M]) -> list[tuple[M, Path, Any]]:
        path = by_name[name]
        return [(_parse(model, path, raw), path, raw) for raw in _entries(path, documents[path], key)]

    finding_entries = parse_all("findings.yaml", "findings", FindingDef)
    _unique((f.id, p, raw) for f, p, raw in finding_entries)
    findings = {f.id: f for f, _, _ in finding_entries}
    for finding, path, raw in finding_entries:
        _check_finding(finding, path, raw, set(findings))
        if finding.threshold is not None:
            _check_sources(finding.threshold, _where(path, raw, finding.id), sources)
    _check_cycles(findings)

    cause_entries = parse_all("causes.yaml", "causes", CauseDef)
    _unique((c.id, p, raw) for c, p, raw in cause_entries)
    for cause, path, raw in cause_entries:
        where = _where(path, raw, cause.id)
        for label, cited in _cited_parts(cause):
            _check_sources(cited, f"{where}, {label}", sources)
        for link in cause.links:
            _check_link(link, where, findings)
        if cause.applies_if is not None:
            missing = [i for i in expression_ids(cause.applies_if) if i not in findings]
            if missing:
                raise KnowledgeError(f"{where}: applies_if names unknown finding(s) {missing}")
        if cause.emergency is not None:
            for name, expr in (("when", cause.emergency.when), ("not_when", cause.emergency.not_when)):
                if expr is not None and (missing := [i for i in expression_ids(expr) if i not in findings]):
                    raise KnowledgeError(f"{where}: emergency '{name}' names unknown finding(s) {missing}")

    causes_path = by_name["causes.yaml"]
    differential = _differential_doc(causes_path, documents[causes_path], findings, sources)
    _check_prior_sums(causes_path, [c for c, _, _ in cause_entries], differential)
    sensitivities: tuple[StudySensitivity, ...] = ()
    if SENSITIVITY_FILE in by_name:
        path = by_name[SENSITIVITY_FILE]
        sensitivities = _sensitivities(path, documents[path], findings, sources)

    flag_entries = parse_all("red_flags.yaml", "red_flags", RedFlagDef)
    _unique((f.id, p, raw) for f, p, raw in flag_entries)
    for flag, path, raw in flag_entries:
        where = _where(path, raw, flag.id)
        _check_sources(flag, where, sources)
        missing = [i for i in expression_ids(flag.when) if i not in findings]
        if missing:
            raise KnowledgeError(f"{where}: 'when' names unknown finding(s) {missing}")
    flag_ids = {f.id for f, _, _ in flag_entries}
    for cause, path, raw in cause_entries:
        if cause.emergency is not None and (bad := [f for f in cause.emergency.covered_by if f not in flag_ids]):
            where = _where(path, raw, cause.id)
            raise KnowledgeError(f"{where}: emergency 'covered_by' names unknown red flag(s) {bad}")
    urgency = {f.id: f.urgency for f, _, _ in flag_entries}
    for flag, path, raw in flag_entries:
        where = _where(path, raw, flag.id)
        unknown = [c for c in flag.covered_by if c not in urgency or c == flag.id]
        if unknown:
            raise KnowledgeError(f"{where}: 'covered_by' names unknown flag(s) {unknown}")
        # a flag is listed inside another only if that one is at least as urgent
        milder = [c for c in flag.covered_by if URGENCY_RANK[urgency[c]] > URGENCY_RANK[flag.urgency]]
        if milder:
            raise KnowledgeError(f"{where}: 'covered_by' names less urgent flag(s) {milder}")

    screen = _screen(by_name["red_flags.yaml"], documents[by_name["red_flags.yaml"]], findings, sources)

    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    from fbss.knowledge.care_loader import CARE_FILES, load_care  # here: care_loader imports this module's helpers

    causes = tuple(c for c, _, _ in cause_entries)
    red_flags = tuple(f for f, _, _ in flag_entries)
    care = load_care(documents, by_name, findings, causes, red_flags, sources)
    education_path = by_name.get("patient_education.yaml")
    education = parse_education(education_path, documents[education_path], sources) if education_path else None
    if education is not None:
        check_education_refs(education, care.treatments)
    typed = {
        MANIFEST,
        "findings.yaml",
        "causes.yaml",
        "red_flags.yaml",
        "sources.yaml",
        "patient_education.yaml",
        SENSITIVITY_FILE,
        *CARE_FILES,
    }
    sections = {p.stem: documents[p] for p in paths if p.name not in typed and not _only_sources(documents[p])}
    return KnowledgeBase(
        version=manifest["version"],
        fingerprint=digest.hexdigest()[:16],
        sources=sources,
        findings=findings,
        causes=causes,
        differential=differential,
        sensitivities=sensitivities,
        red_flags=red_flags,
        files=tuple(p.name for p in paths),
        care=care,
        sections=sections,
        education=education,
        screen=screen,
    )


def _differential_doc(
    path: Path, document: Any, findings: dict[str, FindingDef], sources: dict[str, Source]
) -> DifferentialDoc:
    raw = document.get("differential") if isinstance(document, dict) else None
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{path.name}: needs a 'differential' section (population, unexplained, coexisting, ...)")
    doc = _parse(DifferentialDoc, path, raw, with_line=False)
    where = _where(path, raw)
    for label, cited in (
        ("unexplained", doc.unexplained),
        ("prior weight", doc.prior_weight),
        ("coexisting", doc.coexisting),
        ("calibration", doc.calibration),
    ):
        _check_sources(cited, f"{where}, differential {label}", sources)
    grouped: dict[str, str] = {}
    for group in doc.evidence_groups:
        for fid in group.findings:
            if fid not in findings:
                raise KnowledgeError(f"{where}: evidence group '{group.id}' names unknown finding '{fid}'")
            if fid in grouped:
                raise KnowledgeError(
                    f"{where}: finding '{fid}' is in evidence groups '{grouped[fid]}' and '{group.id}'; one only"
                )
            grouped[fid] = group.id
    return doc


def _check_prior_sums(path: Path, causes: list[CauseDef], differential: DifferentialDoc) -> None:
    """Priors are shares of one population: per operation group they add up to 1 with the unexplained share."""
    groups: list[SurgeryGroup | Literal["default"]] = ["default", *SurgeryGroup]
    for group in groups:
        total = differential.unexplained.probability + sum(
            (c.priors.get(group) or c.priors["default"]).probability for c in causes
        )
        if abs(total - 1.0) > PRIOR_SUM_TOLERANCE:
            raise KnowledgeError(
                f"{path.name}: the priors for '{group}' add up to {total:.3f} with the unexplained share; "
                f"they are shares of one population and must add up to 1 (within {PRIOR_SUM_TOLERANCE})"
            )


def _sensitivities(
    path: Path, document: Any, findings: dict[str, FindingDef], sources: dict[str, Source]
) -> tuple[StudySensitivity, ...]:
    result = []
    seen: set[tuple[str, str]] = set()
    for raw in _entries(path, document, "sensitivities"):
        entry = _parse(StudySensitivity, path, raw, with_line=False)
        where = _where(path, raw, f"{entry.finding} on {entry.modality}")
        finding = findings.get(entry.finding)
        if finding is None or finding.diagnostic is None:
            raise KnowledgeError(f"{where}: '{entry.finding}' is not a diagnostic finding of findings.yaml")
        if entry.modality not in Modality.__members__:
            expected = [m.value for m in Modality]
            raise KnowledgeError(f"{where}: unknown modality '{entry.modality}'; expected {expected}")
        if (entry.finding, entry.modality) in seen:
            raise KnowledgeError(f"{where}: given twice")
        seen.add((entry.finding, entry.modality))
        _check_sources(entry, where, sources)
        result.append(entry)
    return tuple(result)


def _screen(path: Path, document: Any, findings: dict[str, FindingDef], sources: dict[str, Source]) -> tuple[str, ...]:
    """The red-flag screen's questions: askable findings a 'screen negative' answers all at once."""
    if not isinstance(document, dict) or "screen" not in document:
        return ()
    screen = _parse(RedFlagScreenDef, path, document["screen"], with_line=False)
    where = _where(path, document["screen"]) + ", screen"
    _check_sources(screen, where, sources)
    unknown = [q for q in screen.questions if q not in findings]
    if unknown:
        raise KnowledgeError(f"{where}: unknown finding(s) {unknown}")
    not_asked = [q for q in screen.questions if not findings[q].is_askable or findings[q].field is None]
    if not_asked:
        raise KnowledgeError(f"{where}: {not_asked} are not bedside questions read from a case field")
    return screen.questions


def _only_sources(document: Any) -> bool:
    return isinstance(document, dict) and set(document) <= {"sources", LINE_KEY}


def _check_link(link: Link, where: str, findings: dict[str, FindingDef]) -> None:
    if link.finding not in findings:
        raise KnowledgeError(f"{where}: link to unknown finding '{link.finding}'")


@cache
def default_knowledge() -> KnowledgeBase:
    """The packaged knowledge base, loaded once per process."""
    return load_knowledge()
