"""Load the report-reading rules (targets, ConText, sections, study header) from YAML and check them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fbss.case.vocabulary import DiagnosticFinding, Modality
from fbss.errors import KnowledgeError
from fbss.knowledge.yaml_source import line_of, read_yaml
from fbss.nlp.model import Contrast

DATA_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "data"
TARGETS_FILE = DATA_DIR / "nlp_targets.yaml"
CONTEXT_FILE = DATA_DIR / "nlp_context.yaml"

CONTEXT_CATEGORIES = frozenset(
    {"NEGATED_EXISTENCE", "POSSIBLE_EXISTENCE", "HYPOTHETICAL", "HISTORICAL", "PSEUDO", "TERMINATE"}
)
DIRECTIONS = frozenset({"FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"})
_PIECE = re.compile(r"@([a-z_]+)")


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """The wordings of one finding: literal phrases and regular expressions (pieces already substituted)."""

    code: DiagnosticFinding
    phrases: tuple[str, ...]
    patterns: tuple[str, ...]
    line: int | None


@dataclass(frozen=True, slots=True)
class ContextSpec:
    """One ConText modifier rule."""

    literal: str
    category: str
    direction: str
    pattern: str | None
    max_scope: int | None
    line: int | None


@dataclass(frozen=True, slots=True)
class SectionSpec:
    """A report section: its id, whether findings in it are results, and the headings that open it."""

    id: str
    read: bool
    headers: tuple[str, ...]
    patterns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DerivedSpec:
    """Add `code` next to a finding of one of `sources` when its sentence matches `when`."""

    code: DiagnosticFinding
    sources: frozenset[DiagnosticFinding]
    when: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class NlpRules:
    """Everything the report reader needs, as checked data."""

    targets: tuple[TargetSpec, ...]
    context: tuple[ContextSpec, ...]
    sections: tuple[SectionSpec, ...]
    derived: tuple[DerivedSpec, ...]
    modalities: tuple[tuple[Modality, re.Pattern[str]], ...]
    contrasts: tuple[tuple[Contrast, re.Pattern[str]], ...]
    postoperative_code: DiagnosticFinding
    postoperative_incompatible: frozenset[DiagnosticFinding]
    ignore_phrases: tuple[str, ...] = ()
    ignore_patterns: tuple[str, ...] = ()

    @property
    def unread_sections(self) -> frozenset[str]:
        """Ids of sections whose mentions are context (history, indication), not results."""
        return frozenset(section.id for section in self.sections if not section.read)


class _Reader:
    """Small helpers that turn a bad value into a KnowledgeError naming the file and line."""

    def __init__(self, path: Path) -> None:
        self.name = path.name

    def fail(self, where: Any, message: str) -> KnowledgeError:
        line = line_of(where)
        return KnowledgeError(f"{self.name}{f', line {line}' if line else ''}: {message}")

    def mapping(self, value: Any, where: Any, what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"{what} must be a mapping")
        return value

    def strings(self, entry: dict[str, Any], key: str) -> tuple[str, ...]:
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise self.fail(entry, f"'{key}' must be a list of non-empty strings")
        return tuple(item.strip() for item in value)

    def regex(self, pattern: str, entry: Any, flags: int = re.IGNORECASE) -> re.Pattern[str]:
        try:
            return re.compile(pattern, flags)
        except re.error as exc:
            raise self.fail(entry, f"pattern {pattern!r} is not a valid regular expression ({exc})") from exc

    def code(self, value: Any, entry: Any) -> DiagnosticFinding:
        try:
            return DiagnosticFinding(value)
        except ValueError:
            raise self.fail(entry, f"'{value}' is not a DiagnosticFinding code (see fbss/case/vocabulary.py)") from None


def _expand(pattern: str, pieces: dict[str, str], reader: _Reader, entry: Any) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match[1]
        if name not in pieces:
            raise reader.fail(entry, f"pattern uses @{name}, which is not defined under 'pieces'")
        return pieces[name]

    return _PIECE.sub(substitute, pattern)


def _read_targets(
    path: Path,
) -> tuple[tuple[TargetSpec, ...], tuple[DerivedSpec, ...], dict[str, Any], tuple[str, ...], tuple[str, ...]]:
    reader = _Reader(path)
    data = reader.mapping(read_yaml(path), None, "the file")
    pieces_raw = reader.mapping(data.get("pieces", {}), data, "'pieces'")
    pieces = {k: v for k, v in pieces_raw.items() if isinstance(k, str) and isinstance(v, str)}
    targets: list[TargetSpec] = []
    seen: set[DiagnosticFinding] = set()
    for raw in data.get("targets") or []:
        entry = reader.mapping(raw, data, "each target")
        code = reader.code(entry.get("code"), entry)
        if code in seen:
            raise reader.fail(entry, f"'{code}' is listed twice; merge its phrases into one entry")
        seen.add(code)
        phrases = reader.strings(entry, "phrases")
        patterns = tuple(_expand(p, pieces, reader, entry) for p in reader.strings(entry, "patterns"))
        if not phrases and not patterns:
            raise reader.fail(entry, f"'{code}' has neither phrases nor patterns")
        for pattern in patterns:
            reader.regex(pattern, entry)
        targets.append(TargetSpec(code, phrases, patterns, line_of(entry)))
    if not targets:
        raise reader.fail(data, "no 'targets' defined")
    derived: list[DerivedSpec] = []
    for raw in data.get("derived") or []:
        entry = reader.mapping(raw, data, "each derived rule")
        sources = frozenset(reader.code(value, entry) for value in reader.strings(entry, "from"))
        when = entry.get("when")
        if not isinstance(when, str):
            raise reader.fail(entry, "'when' must be a regular expression")
        derived.append(DerivedSpec(reader.code(entry.get("code"), entry), sources, reader.regex(when, entry)))
    postoperative = reader.mapping(data.get("postoperative_only"), data, "'postoperative_only'")
    ignore = reader.mapping(data.get("ignore", {}), data, "'ignore'")
    ignore_patterns = tuple(_expand(p, pieces, reader, ignore) for p in reader.strings(ignore, "patterns"))
    for pattern in ignore_patterns:
        reader.regex(pattern, ignore)
    return tuple(targets), tuple(derived), postoperative, reader.strings(ignore, "phrases"), ignore_patterns


def _read_context(
    path: Path,
) -> tuple[
    tuple[ContextSpec, ...],
    tuple[SectionSpec, ...],
    tuple[tuple[Modality, re.Pattern[str]], ...],
    tuple[tuple[Contrast, re.Pattern[str]], ...],
]:
    reader = _Reader(path)
    data = reader.mapping(read_yaml(path), None, "the file")
    context: list[ContextSpec] = []
    for raw in data.get("context") or []:
        entry = reader.mapping(raw, data, "each context rule")
        literal, category = entry.get("literal"), str(entry.get("category", "")).upper()
        direction, pattern = str(entry.get("direction", "")).upper(), entry.get("pattern")
        max_scope = entry.get("max_scope")
        if not isinstance(literal, str) or not literal:
            raise reader.fail(entry, "a context rule needs a 'literal'")
        if category not in CONTEXT_CATEGORIES:
            raise reader.fail(entry, f"category '{category}' is not one of {sorted(CONTEXT_CATEGORIES)}")
        if direction not in DIRECTIONS:
            raise reader.fail(entry, f"direction '{direction}' is not one of {sorted(DIRECTIONS)}")
        if pattern is not None:
            if not isinstance(pattern, str):
                raise reader.fail(entry, "'pattern' must be a regular expression string")
            reader.regex(pattern, entry)
        if max_scope is not None and (not isinstance(max_scope, int) or max_scope < 1):
            raise reader.fail(entry, "'max_scope' must be a positive number of tokens")
        context.append(ContextSpec(literal, category, direction, pattern, max_scope, line_of(entry)))
    sections: list[SectionSpec] = []
    for raw in data.get("sections") or []:
        entry = reader.mapping(raw, data, "each section")
        section_id, read = entry.get("id"), entry.get("read")
        if not isinstance(section_id, str) or not isinstance(read, bool):
            raise reader.fail(entry, "a section needs an 'id' and 'read: true|false'")
        patterns = reader.strings(entry, "patterns")
        for pattern in patterns:
            reader.regex(pattern, entry)
        sections.append(SectionSpec(section_id, read, reader.strings(entry, "headers"), patterns))
    study = reader.mapping(data.get("study"), data, "'study'")
    modalities: list[tuple[Modality, re.Pattern[str]]] = []
    for raw in study.get("modalities") or []:
        entry = reader.mapping(raw, study, "each modality")
        try:
            modality = Modality(str(entry.get("modality")))
        except ValueError:
            raise reader.fail(entry, f"'{entry.get('modality')}' is not a Modality") from None
        modalities.append((modality, reader.regex(str(entry.get("pattern")), entry)))
    contrasts: list[tuple[Contrast, re.Pattern[str]]] = []
    for raw in study.get("contrast") or []:
        entry = reader.mapping(raw, study, "each contrast rule")
        try:
            contrast = Contrast(str(entry.get("contrast")))
        except ValueError:
            raise reader.fail(entry, f"'{entry.get('contrast')}' is not one of {[c.value for c in Contrast]}") from None
        contrasts.append((contrast, reader.regex(str(entry.get("pattern")), entry)))
    return tuple(context), tuple(sections), tuple(modalities), tuple(contrasts)


def load_rules(targets_file: Path = TARGETS_FILE, context_file: Path = CONTEXT_FILE) -> NlpRules:
    """Read and check both rule files; raise KnowledgeError naming the file and line of the first problem."""
    targets, derived, postoperative, ignore_phrases, ignore_patterns = _read_targets(targets_file)
    context, sections, modalities, contrasts = _read_context(context_file)
    reader = _Reader(targets_file)
    postoperative_code = reader.code(postoperative.get("code"), postoperative)
    incompatible = frozenset(reader.code(v, postoperative) for v in reader.strings(postoperative, "incompatible_with"))
    return NlpRules(
        targets=targets,
        context=context,
        sections=sections,
        derived=derived,
        modalities=modalities,
        contrasts=contrasts,
        postoperative_code=postoperative_code,
        postoperative_incompatible=incompatible,
        ignore_phrases=ignore_phrases,
        ignore_patterns=ignore_patterns,
    )


@cache
def default_rules() -> NlpRules:
    """The rules shipped with FBSS Navigator, read once."""
    return load_rules()
