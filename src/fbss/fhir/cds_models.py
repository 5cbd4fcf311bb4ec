"""CDS Hooks 2.0 messages as pydantic models, with the field names and optionality of the specification.

Serialise with `exclude_none=True`: the specification forbids null and empty optional attributes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SUMMARY_LIMIT = 140  # "One-sentence, <140-character summary"


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Incoming(BaseModel):
    # Clients may send attributes of later versions; they are accepted and ignored.
    model_config = ConfigDict(frozen=True, extra="ignore")


class CdsCoding(_Message):
    """The CDS Hooks Coding: system, code and (for override reasons, required) display."""

    system: str | None = None
    code: str
    display: str | None = None


class CdsService(_Message):
    hook: str
    title: str | None = None
    description: str
    id: str
    prefetch: dict[str, str] | None = None
    usageRequirements: str | None = None  # noqa: N815 - the specification's name


class Discovery(_Message):
    services: list[CdsService]


class FhirAuthorization(_Incoming):
    access_token: str = Field(min_length=1)
    token_type: Literal["Bearer", "bearer"]
    expires_in: int
    scope: str
    subject: str
    patient: str | None = None


class CdsRequest(_Incoming):
    hook: str = Field(min_length=1)
    hookInstance: str = Field(min_length=1, max_length=200)  # noqa: N815
    fhirServer: str | None = None  # noqa: N815
    fhirAuthorization: FhirAuthorization | None = None  # noqa: N815
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None

    @field_validator("fhirServer")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("fhirServer must be an http(s) base URL")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _server_with_token(self) -> CdsRequest:
        if self.fhirAuthorization is not None and self.fhirServer is None:
            raise ValueError("fhirServer is required when fhirAuthorization is present")
        return self


class PatientViewContext(_Incoming):
    userId: str = Field(min_length=1)  # noqa: N815
    patientId: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-.]+$")  # noqa: N815
    encounterId: str | None = None  # noqa: N815


class Source(_Message):
    label: str = Field(min_length=1)
    url: str | None = None
    icon: str | None = None
    topic: CdsCoding | None = None


class Link(_Message):
    label: str = Field(min_length=1)
    url: str = Field(min_length=1)
    type: Literal["absolute", "smart"]
    appContext: str | None = None  # noqa: N815

    @model_validator(mode="after")
    def _app_context(self) -> Link:
        if self.appContext is not None and self.type != "smart":
            raise ValueError("appContext is only valid for smart links")
        return self


class Action(_Message):
    type: Literal["create", "update", "delete"]
    description: str
    resource: dict[str, Any] | None = None
    resourceId: str | None = None  # noqa: N815


class Suggestion(_Message):
    label: str
    uuid: str | None = None
    isRecommended: bool | None = None  # noqa: N815
    actions: list[Action] | None = None


class Card(_Message):
    uuid: str | None = None
    summary: str = Field(min_length=1)
    detail: str | None = None
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[Suggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None  # noqa: N815
    overrideReasons: list[CdsCoding] | None = None  # noqa: N815
    links: list[Link] | None = None

    @field_validator("summary")
    @classmethod
    def _short(cls, value: str) -> str:
        if len(value) >= SUMMARY_LIMIT:
            raise ValueError(f"summary must be shorter than {SUMMARY_LIMIT} characters, got {len(value)}")
        return value

    @model_validator(mode="after")
    def _selection(self) -> Card:
        if self.suggestions and self.selectionBehavior is None:
            raise ValueError("selectionBehavior is required when suggestions are present")
        if self.overrideReasons and any(not r.display for r in self.overrideReasons):
            raise ValueError("every override reason needs a display")
        return self


class CdsResponse(_Message):
    cards: list[Card]
    systemActions: list[Action] | None = None  # noqa: N815


class AcceptedSuggestion(_Incoming):
    id: str


class OverrideReason(_Incoming):
    reason: CdsCoding | None = None
    userComment: str | None = Field(default=None, max_length=5000)  # noqa: N815


class Feedback(_Incoming):
    card: str = Field(min_length=1, max_length=200)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = None  # noqa: N815
    overrideReason: OverrideReason | None = None  # noqa: N815
    outcomeTimestamp: dt.datetime  # noqa: N815

    @model_validator(mode="after")
    def _accepted(self) -> Feedback:
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("acceptedSuggestions is required for an accepted outcome")
        if self.outcomeTimestamp.tzinfo is None:
            raise ValueError("outcomeTimestamp must carry a time zone (UTC)")
        return self


class FeedbackRequest(_Incoming):
    feedback: list[Feedback] = Field(min_length=1, max_length=1000)


class ErrorBody(_Message):
    """The body of every CDS Hooks error this service returns (the specification defines none)."""

    error: str
    message: str
