"""RxNorm -> WHO ATC through the versioned table knowledge/data/rxnorm_atc.yaml (validated on load).

A coding is looked up by its RXCUI among the listed products; failing that, a single-ingredient product whose name
(display or text) names one listed ingredient is read as that ingredient, and the report says it was matched by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fbss.case.parse import describe_validation_error
from fbss.errors import KnowledgeError
from fbss.fhir.codes import Coding
from fbss.knowledge.evidence import Source
from fbss.knowledge.loader import DATA_DIR
from fbss.knowledge.yaml_source import read_yaml, strip_lines

TABLE_FILE = DATA_DIR / "rxnorm_atc.yaml"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = re.compile(r"^[A-Z]\d{2}([A-Z]([A-Z](\d{2})?)?)?$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Entry(_Frozen):
    atc: str = Field(pattern=ATC.pattern)
    status: Literal["corroborated", "unverified"]
    sources: tuple[str, ...] = Field(min_length=1)
    note: str | None = None


class Product(_Entry):
    rxcui: str = Field(pattern=r"^\d+$")
    name: str


class Ingredient(_Entry):
    names: tuple[str, ...] = Field(min_length=1)


class Table(_Frozen):
    version: str
    sources: tuple[Source, ...]
    products: tuple[Product, ...]
    ingredients: tuple[Ingredient, ...]


@dataclass(frozen=True)
class AtcMatch:
    """The ATC code a coding stands for, how it was found, and the table entry's status."""

    atc: str
    how: Literal["rxcui", "name"]
    status: str
    basis: str  # "RxNorm 855332 'Warfarin Sodium 5 MG Oral Tablet'" or "the name 'warfarin'"


class MedicineTable:
    def __init__(self, table: Table) -> None:
        self.version = table.version
        self.by_rxcui = {p.rxcui: p for p in table.products}
        self._names = {name.lower(): entry for entry in table.ingredients for name in entry.names}
        words = sorted(self._names, key=len, reverse=True)
        self._pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)

    def atc_of(self, coding: Coding, text: str | None = None) -> AtcMatch | None:
        """The ATC code of an RxNorm coding (or of the medicine's name), or None if the table does not know it."""
        if coding.system == RXNORM and coding.code in self.by_rxcui:
            product = self.by_rxcui[coding.code]
            return AtcMatch(product.atc, "rxcui", product.status, f"RxNorm {product.rxcui} '{product.name}'")
        for name in (coding.display, text):
            if not name or "/" in name:  # a combination product: its class is the combination's, not a part's
                continue
            found = {m.group(1).lower() for m in self._pattern.finditer(name)}
            entries = {id(self._names[f]): self._names[f] for f in found}
            if len(entries) == 1:
                entry = next(iter(entries.values()))
                return AtcMatch(entry.atc, "name", "matched by name", f"the name '{sorted(found)[0]}' in '{name}'")
        return None


def load_table(path: Path | None = None) -> MedicineTable:
    """Read and validate the RxNorm -> ATC table; raise KnowledgeError naming the entry and the problem."""
    path = path or TABLE_FILE
    try:
        table = Table.model_validate(strip_lines(read_yaml(path)))
    except ValidationError as exc:
        raise KnowledgeError(f"{path.name}: {describe_validation_error(exc)}") from None
    known = {s.id for s in table.sources}
    for entry in (*table.products, *table.ingredients):
        missing = [s for s in entry.sources if s not in known]
        if missing:
            raise KnowledgeError(f"{path.name}, ATC {entry.atc}: unknown source(s) {missing}")
    seen: set[str] = set()
    for product in table.products:
        if product.rxcui in seen:
            raise KnowledgeError(f"{path.name}: RxNorm {product.rxcui} is listed twice")
        seen.add(product.rxcui)
    return MedicineTable(table)


@cache
def default_table() -> MedicineTable:
    return load_table()
