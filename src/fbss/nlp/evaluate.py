"""Score the report reader against hand-annotated passages: precision, recall and F1 per finding."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fbss.case.vocabulary import DiagnosticFinding
from fbss.errors import KnowledgeError
from fbss.knowledge.yaml_source import line_of, read_yaml
from fbss.nlp.anatomy import levels_overlap, parse_level
from fbss.nlp.extract import extract, present_findings
from fbss.nlp.model import Extraction, ProposedFinding

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"


@dataclass(frozen=True, slots=True)
class Expected:
    """One annotated finding: its code and, when annotated, its levels (a range is expanded) and side."""

    code: DiagnosticFinding
    levels: tuple[str, ...] = ()
    side: str | None = None

    def matches(self, finding: ProposedFinding) -> bool:
        """Same code and, if a level is annotated, an overlapping level."""
        if finding.code != self.code:
            return False
        if not self.levels:
            return True
        return any(levels_overlap(e, f) for e in self.levels for f in finding.levels)


@dataclass(frozen=True, slots=True)
class Passage:
    """A report passage and what a careful reader finds in it."""

    id: str
    text: str
    present: tuple[Expected, ...]
    negated: tuple[Expected, ...]
    uncertain: tuple[Expected, ...]
    source: str = ""


@dataclass
class Counts:
    """True positives, false positives and false negatives for one finding."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class Miss:
    """One disagreement, for the error report: 'fp', 'fn' or 'negated-as-present'."""

    passage: str
    kind: str
    code: str
    levels: tuple[str, ...]
    text: str = ""


@dataclass
class Evaluation:
    """Scores over a corpus."""

    per_code: dict[DiagnosticFinding, Counts] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)
    passages: int = 0

    @property
    def micro(self) -> Counts:
        total = Counts()
        for counts in self.per_code.values():
            total.tp, total.fp, total.fn = total.tp + counts.tp, total.fp + counts.fp, total.fn + counts.fn
        return total

    @property
    def negation_violations(self) -> list[Miss]:
        """Mentions annotated as negated or hedged that came back as present."""
        return [miss for miss in self.misses if miss.kind == "not-present-as-present"]


def _expected(raw: Any, where: str) -> Expected:
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{where}: each expected finding must be a mapping with 'code'")
    line = line_of(raw)
    try:
        code = DiagnosticFinding(str(raw.get("code")))
    except ValueError:
        raise KnowledgeError(f"{where}, line {line}: '{raw.get('code')}' is not a DiagnosticFinding code") from None
    levels: tuple[str, ...] = ()
    if raw.get("level") is not None:
        levels = parse_level(str(raw["level"]))
        if not levels:
            raise KnowledgeError(f"{where}, line {line}: '{raw['level']}' is not a spine level (e.g. L4-5, L5-S1, L5)")
    side = raw.get("side")
    return Expected(code, levels, str(side) if side is not None else None)


def load_corpus(directory: Path = CORPUS_DIR) -> list[Passage]:
    """Read every *.yaml passage file in `directory`; a bad entry raises KnowledgeError with file and line."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise KnowledgeError(f"{directory}: no *.yaml passage files found")
    passages: list[Passage] = []
    seen: set[str] = set()
    for path in files:
        data = read_yaml(path)
        if not isinstance(data, list):
            raise KnowledgeError(f"{path.name}: expected a list of passages")
        for raw in data:
            where = f"{path.name}, line {line_of(raw)}"
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not isinstance(raw.get("text"), str):
                raise KnowledgeError(f"{where}: a passage needs an 'id' and a 'text'")
            if raw["id"] in seen:
                raise KnowledgeError(f"{where}: passage id '{raw['id']}' is used twice")
            seen.add(raw["id"])
            lists = {
                key: tuple(_expected(item, path.name) for item in raw.get(key) or [])
                for key in ("present", "negated", "uncertain")
            }
            passages.append(
                Passage(raw["id"], raw["text"], lists["present"], lists["negated"], lists["uncertain"], path.name)
            )
    return passages


def evaluate(passages: Iterable[Passage], reader: Callable[[str], Extraction] = extract) -> Evaluation:
    """Run the reader over the passages and count agreement with the annotations."""
    result = Evaluation()
    for passage in passages:
        result.passages += 1
        found = present_findings(reader(passage.text))
        unique: dict[tuple[DiagnosticFinding, tuple[str, ...]], ProposedFinding] = {}
        for finding in found:
            unique.setdefault((finding.code, finding.levels), finding)
        for expected in passage.present:
            counts = result.per_code.setdefault(expected.code, Counts())
            if any(expected.matches(finding) for finding in unique.values()):
                counts.tp += 1
            else:
                counts.fn += 1
                result.misses.append(Miss(passage.id, "fn", expected.code, expected.levels))
        annotated = {expected.code for expected in passage.present}
        for (code, levels), finding in unique.items():
            # A level-less mention (an impression repeating a finding) is not wrong if the code is annotated.
            if not levels and code in annotated:
                continue
            if not any(expected.matches(finding) for expected in passage.present):
                result.per_code.setdefault(code, Counts()).fp += 1
                kind = "fp"
                if any(e.matches(finding) for e in passage.negated + passage.uncertain):
                    kind = "not-present-as-present"
                result.misses.append(Miss(passage.id, kind, code, levels, finding.span.text))
    return result
