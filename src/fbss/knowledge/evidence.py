"""Citations and evidence grades: what every number and rule in the knowledge base must carry."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Evidence(StrEnum):
    """How strong the basis of a number or rule is."""

    published_figure = "published_figure"  # a number copied from a primary publication
    guideline = "guideline"  # a guideline or consensus statement says so
    secondary = "secondary"  # seen only in a secondary or low-authority source
    expert_estimate = "expert_estimate"  # our own estimate; no published figure behind the number


class Source(BaseModel):
    """One bibliographic source, registered once in sources.yaml and referred to by id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    citation: str = Field(min_length=5)
    url: str | None = None
    doi: str | None = None
    note: str | None = None
