"""Load instruments.yaml, validate it against the bibliography, and hand out instrument definitions by id."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from fbss.errors import KnowledgeError
from fbss.instruments.dates import window
from fbss.instruments.errors import UnknownInstrumentError
from fbss.instruments.intervals import Interval
from fbss.instruments.models import (
    Compute,
    CrisisContacts,
    Instrument,
    RuleSet,
    Schedule,
)
from fbss.knowledge.evidence import Source
from fbss.knowledge.yaml_source import LINE_KEY, line_at, line_of, read_yaml, strip_lines

M = TypeVar("M", bound=BaseModel)

DATA_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "data"
INSTRUMENTS_FILE = DATA_DIR / "instruments.yaml"
SOURCES_FILE = DATA_DIR / "sources.yaml"
CRISIS_CONTACTS_FILE = DATA_DIR / "crisis_contacts.yaml"


@dataclass(frozen=True)
class InstrumentCatalogue:
    """Every instrument definition, the follow-up schedule, and the sources they cite (by id)."""

    instruments: Mapping[str, Instrument]
    schedule: Schedule
    sources: Mapping[str, Source]

    def get(self, instrument_id: str) -> Instrument:
        """The instrument with this id, or UnknownInstrumentError naming the ids that exist."""
        try:
            return self.instruments[instrument_id]
        except KeyError:
            known = ", ".join(sorted(self.instruments))
            raise UnknownInstrumentError(
                f"instrument_id: unknown instrument {instrument_id!r}; expected one of: {known}"
            ) from None

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self.instruments.values())


def load_instruments(path: Path | None = None, sources_path: Path | None = None) -> InstrumentCatalogue:
    """Read and validate the instrument catalogue (the packaged file unless a path is given); cached."""
    return _load(path or INSTRUMENTS_FILE, sources_path or SOURCES_FILE)


@lru_cache(maxsize=8)
def _load(path: Path, sources_path: Path) -> InstrumentCatalogue:
    raw = read_yaml(path)
    name = path.name
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{name}: expected a mapping with sources, schedule and instruments")
    unknown_keys = sorted(set(raw) - {"sources", "schedule", "instruments", LINE_KEY})
    if unknown_keys:
        raise KnowledgeError(f"{name}: unknown top-level keys {unknown_keys}; expected sources, schedule, instruments")

    bibliography = _read_sources(sources_path)
    for extra in sorted(sources_path.parent.glob("*_sources.yaml")):  # the safety and care bibliographies
        bibliography.update(_read_sources(extra))
    own = _read_sources_list(raw.get("sources") or [], path.name)
    sources = dict(bibliography)
    for source_id, source in own.items():
        if source_id in bibliography:
            raise KnowledgeError(
                f"{name}: sources entry {source_id!r} (line {_line_of_id(raw.get('sources'), source_id)}): "
                f"id already used in {sources_path.name}; cite that entry or choose a new id"
            )
        sources[source_id] = source

    raw_schedule = raw.get("schedule")
    schedule = _validate(Schedule, raw_schedule, name, "schedule")
    _check_cited(raw_schedule, sources, name, "schedule")
    _check_windows(schedule, name, line_of(raw_schedule))

    raw_instruments = raw.get("instruments")
    if not isinstance(raw_instruments, list) or not raw_instruments:
        raise KnowledgeError(f"{name}: `instruments` must be a non-empty list")
    instruments: dict[str, Instrument] = {}
    for entry in raw_instruments:
        entry_id = entry.get("id", "?") if isinstance(entry, dict) else "?"
        instrument = _validate(Instrument, entry, name, f"instrument {entry_id!r}")
        if instrument.id in instruments:
            raise KnowledgeError(f"{name}: instrument {instrument.id!r} (line {line_of(entry)}): duplicate id")
        _check_cited(entry, sources, name, f"instrument {instrument.id!r}")
        for rule_set in instrument.rule_sets:
            problem = _rule_set_gap(instrument, rule_set)
            if problem:
                raise KnowledgeError(
                    f"{name}: instrument {instrument.id!r}, rule set {rule_set.id!r} "
                    f"(line {_line_of_id(entry.get('rule_sets'), rule_set.id)}): {problem}"
                )
        instruments[instrument.id] = instrument
    return InstrumentCatalogue(instruments=instruments, schedule=schedule, sources=sources)


def load_crisis_contacts(path: Path | None = None) -> CrisisContacts:
    """Crisis contacts for patient safety messages: the packaged default, or a deployment's own file."""
    return _load_contacts(path or CRISIS_CONTACTS_FILE)


@lru_cache(maxsize=8)
def _load_contacts(path: Path) -> CrisisContacts:
    raw = read_yaml(path)
    if not isinstance(raw, dict) or "crisis_contacts" not in raw:
        raise KnowledgeError(f"{path.name}: expected a top-level `crisis_contacts` mapping")
    return _validate(CrisisContacts, raw["crisis_contacts"], path.name, "crisis_contacts")


# --- validation helpers ---


def _validate(model: type[M], raw: Any, file_name: str, entry: str) -> M:
    try:
        return model.model_validate(strip_lines(raw))
    except ValidationError as exc:
        error = exc.errors()[0]
        location = ".".join(str(part) for part in error["loc"])
        line = line_at(raw, error["loc"])
        where = f" at {location}" if location else ""
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise KnowledgeError(f"{file_name}: {entry} (line {line}){where}: {error['msg']}{more}") from None


def _read_sources(path: Path) -> dict[str, Source]:
    raw = read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("sources"), list):
        raise KnowledgeError(f"{path.name}: expected a top-level `sources` list")
    return _read_sources_list(raw["sources"], path.name)


def _read_sources_list(entries: Any, file_name: str) -> dict[str, Source]:
    if not isinstance(entries, list):
        raise KnowledgeError(f"{file_name}: `sources` must be a list")
    sources: dict[str, Source] = {}
    for entry in entries:
        entry_id = entry.get("id", "?") if isinstance(entry, dict) else "?"
        source = _validate(Source, entry, file_name, f"sources entry {entry_id!r}")
        if source.id in sources:
            raise KnowledgeError(f"{file_name}: sources entry {source.id!r} (line {line_of(entry)}): duplicate id")
        sources[source.id] = source
    return sources


def _check_cited(raw: Any, sources: Mapping[str, Source], file_name: str, entry: str) -> None:
    """Every `sources:` list inside the entry must name known source ids."""
    for mapping in _mappings(raw):
        cited = mapping.get("sources")
        if not isinstance(cited, list):
            continue
        for source_id in cited:
            if source_id not in sources:
                raise KnowledgeError(
                    f"{file_name}: {entry} (line {line_of(mapping)}): cites unknown source {source_id!r}; "
                    "add it to a `sources:` list"
                )


def _mappings(raw: Any) -> Iterator[dict[str, Any]]:
    if isinstance(raw, dict):
        yield raw
        for value in raw.values():
            yield from _mappings(value)
    elif isinstance(raw, list):
        for value in raw:
            yield from _mappings(value)


def _line_of_id(raw: Any, wanted: str) -> int | None:
    return next((line_of(m) for m in _mappings(raw) if m.get("id") == wanted), None)


def _check_windows(schedule: Schedule, file_name: str, line: int | None) -> None:
    """Time-point windows must not overlap for any reference date (tried over four years of dates)."""
    start = date(2024, 1, 1)
    for day in range(0, 4 * 366, 1):
        reference = start + timedelta(days=day)
        spans = sorted((window(reference, tp), tp.id) for tp in schedule.time_points)
        for (left, left_id), (right, right_id) in itertools.pairwise(spans):
            if left[2] >= right[0]:
                raise KnowledgeError(
                    f"{file_name}: schedule (line {line}): windows of {left_id} and {right_id} overlap "
                    f"(reference date {reference.isoformat()}); narrow one of them"
                )


def _rule_set_gap(instrument: Instrument, rule_set: RuleSet) -> str | None:
    """A combination of whole-number scale values that no rule classifies, if any."""
    scales = {s.id: s for s in instrument.scales}
    used = sorted({scale_id for rule in rule_set.rules for scale_id in rule.when})
    items = {i.id: i for i in instrument.items}
    for scale_id in used:
        scale = scales[scale_id]
        members = scale.items or tuple(items)
        if scale.compute is not Compute.sum or not all(items[m].integer for m in members):
            return f"scale {scale_id!r} is not whole-numbered; rule sets need whole-number sum scales"
    grids = [range(int(scales[s].min), int(scales[s].max) + 1) for s in used]
    matchers: list[Callable[[dict[str, int]], bool]] = [
        _matcher({k: Interval.parse(v) for k, v in rule.when.items()}) for rule in rule_set.rules
    ]
    for combination in itertools.product(*grids):
        values = dict(zip(used, combination, strict=True))
        if not any(match(values) for match in matchers):
            return f"no rule covers {values}"
    return None


def _matcher(conditions: dict[str, Interval]) -> Callable[[dict[str, int]], bool]:
    return lambda values: all(interval.contains(values[s]) for s, interval in conditions.items())
