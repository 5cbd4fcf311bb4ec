"""Safety alerts raised by single answers (PHQ-9 item 9): a same-day clinician alert and a patient message."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from fbss.instruments.intervals import Interval
from fbss.instruments.models import CrisisContacts, Instrument
from fbss.knowledge.evidence import Evidence


class SafetyAlert(BaseModel):
    """One answer that needs a clinician today, with the message the patient sees at once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    alert_id: str
    instrument_id: str
    item_id: str
    answer: float
    kind: str
    clinician_deadline: str
    clinician_message: str
    patient_message: str  # the instrument's message followed by the crisis-contact text
    crisis_contacts: CrisisContacts
    sources: tuple[str, ...]
    evidence: Evidence


def crisis_text(contacts: CrisisContacts) -> str:
    """The crisis-contact part of a patient message: the default text, then any local contacts."""
    lines = [contacts.default_message]
    for contact in contacts.contacts:
        details = ", ".join(part for part in (contact.phone, contact.url, contact.hours) if part)
        lines.append(f"{contact.name}: {details}" if details else contact.name)
    return "\n".join(lines)


def find_alerts(
    instrument: Instrument, answers: Mapping[str, float], contacts: CrisisContacts
) -> tuple[SafetyAlert, ...]:
    """Alerts triggered by already range-checked answers (unanswered items trigger nothing)."""
    alerts = []
    for alert in instrument.alerts:
        answer = answers.get(alert.item)
        if answer is None or not Interval.parse(alert.range).contains(answer):
            continue
        alerts.append(
            SafetyAlert(
                alert_id=alert.id,
                instrument_id=instrument.id,
                item_id=alert.item,
                answer=answer,
                kind=alert.kind,
                clinician_deadline=alert.clinician_deadline,
                clinician_message=f"{alert.clinician_action} (answer: {answer:g})",
                patient_message=f"{alert.patient_message}\n{crisis_text(contacts)}",
                crisis_contacts=contacts,
                sources=alert.sources,
                evidence=alert.evidence,
            )
        )
    return tuple(alerts)
