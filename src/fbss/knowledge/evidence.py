"""Citations and evidence grades: what every number and rule in the knowledge base must carry."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator


class Evidence(StrEnum):
    """How strong the basis of a number or rule is."""

    published_figure = "published_figure"  # a number copied from a primary publication
    guideline = "guideline"  # a guideline or consensus statement says so
    secondary = "secondary"  # seen only in a secondary or low-authority source
    expert_estimate = "expert_estimate"  # our own estimate; no published figure behind the number


BIBLIOGRAPHIC = ("authors", "year", "venue")


class Source(BaseModel):
    """One bibliographic source: who wrote it, what, where and when. Cited elsewhere by id.

    `authors` may be an issuing body (NICE, WHO, Regenstrief Institute); `venue` is the journal, publisher or body
    that issued it; `locator` is volume(issue):pages or a report number; `detail` names the figures taken from it.
    For an online database entry, `year` is the year it was consulted (said in `detail`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    authors: str = Field(min_length=2)
    title: str = Field(min_length=5)
    venue: str = Field(min_length=2)
    year: int = Field(ge=1900, le=2100)
    locator: str | None = None
    detail: str | None = None
    url: str | None = None
    doi: str | None = None
    note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _bibliographic(cls, data: Any) -> Any:
        if isinstance(data, dict):
            missing = [k for k in BIBLIOGRAPHIC if data.get(k) in (None, "")]
            if missing:
                old = " (a free-text 'citation' is not enough)" if "citation" in data else ""
                raise ValueError(
                    f"a source needs authors, year and venue; missing {', '.join(missing)}{old}. "
                    "Give the primary publication: authors (or the issuing body), title, venue, year"
                )
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def citation(self) -> str:
        """The reference as one line: authors. title. venue year;locator (the figures taken from it, `detail`,
        are quoted where they are used, not repeated in the reference)."""
        line = f"{self.authors.rstrip('.')}. {self.title.rstrip('.')}. {self.venue} {self.year}"
        return f"{line};{self.locator}" if self.locator else line
