"""An assessment as a FHIR R4 Bundle: the case it read, the differential as a RiskAssessment, fired red flags as
DetectedIssues, a ClinicalImpression tying them together, the stepped plan as a CarePlan, the instruments as
Questionnaires, the clinician report as a DocumentReference, a Provenance naming the engine and knowledge-base versions
and one listing the plan's sources. Renders only; recomputes nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from fbss.case.model import Case
from fbss.fhir import codes as c
from fbss.fhir.care_plan import care_plan
from fbss.fhir.case_export import NAMESPACE, case_resources
from fbss.fhir.citations import citations, source_entities, source_url
from fbss.fhir.codes import Coding, concept, instrument_coding
from fbss.fhir.mapping import Mapping
from fbss.fhir.resources import validate_resource
from fbss.instruments import InstrumentCatalogue, load_instruments
from fbss.instruments.models import Instrument, InstrumentKind, LicenceStatus
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.models import Urgency
from fbss.reasoning.assess import Assessment, assess
from fbss.reasoning.results import CauseResult, Reason, RedFlagResult
from fbss.reports.markdown import render_markdown
from fbss.reports.wording import (
    COMPETING,
    EVIDENCE_LABEL,
    URGENCY_LABEL,
    ask_next,
    calibration_lines,
    fired_by_text,
    joined,
    likelihood_ratio,
    percent,
    reason_phrase,
)

SEVERITY = {Urgency.emergency: "high", Urgency.same_day: "high", Urgency.within_days: "moderate"}
METHOD = Coding(c.local_system("method"), "fbss-differential", "FBSS Navigator differential (independent Bayesian)")
ENGINE_DEVICE_TEXT = "FBSS Navigator"


def _reasons(reasons: tuple[Reason, ...]) -> str:
    return "; ".join(
        f"{reason_phrase(r)} (LR {likelihood_ratio(r.likelihood_ratio)}, {EVIDENCE_LABEL[r.evidence]})"
        for r in reasons
    )


def cause_rationale(cause: CauseResult, kb: KnowledgeBase, shown: Callable[[float], str] = percent) -> str:
    """The basis of one cause's probability in one paragraph: prior, what raised it, what lowered it, the range
    (each value shown under the differential's calibrated ceiling)."""
    parts = [
        f"Prior {shown(cause.prior)} ({EVIDENCE_LABEL[cause.prior_evidence]}"
        + (f"; {citations(cause.prior_sources, kb)}" if cause.prior_sources else "")
        + ")."
    ]
    if cause.raised_by:
        parts.append(f"Raised by: {_reasons(cause.raised_by)}.")
    if cause.lowered_by:
        parts.append(f"Lowered by: {_reasons(cause.lowered_by)}.")
    parts.append(f"Range if the unknown linked findings were known: {shown(cause.low)}–{shown(cause.high)}.")
    cited = sorted({s for r in (*cause.raised_by, *cause.lowered_by) for s in r.sources})
    if cited:
        parts.append(f"Sources: {citations(tuple(cited), kb)}.")
    return " ".join(parts)


def flag_detail(flag: RedFlagResult, kb: KnowledgeBase) -> str:
    fired = fired_by_text(flag, ", ")
    return (
        f"{URGENCY_LABEL[flag.urgency]}: {flag.title}. {flag.action} Fired by: {fired}. "
        f"Basis: {EVIDENCE_LABEL[flag.evidence]}; {citations(flag.sources, kb)}."
    )


class _Out:
    def __init__(self, case: Case) -> None:
        self.case = case
        self.entries: list[tuple[str, dict[str, Any]]] = []

    def add(self, kind: str, key: str, resource: dict[str, Any]) -> str:
        url = f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{self.case.id}/output/{kind}/{key}')}"
        self.entries.append((url, {"resourceType": kind, "id": url.removeprefix("urn:uuid:"), **resource}))
        return url


def _risk_assessment(
    out: _Out, assessment: Assessment, kb: KnowledgeBase, subject: dict[str, str], basis: list[str], when: str
) -> str:
    differential = assessment.differential
    notes = [
        COMPETING + " Decision support for clinicians: check each reason and source.",
        *calibration_lines(differential),
    ]
    if differential.not_ranked:
        notes.append(differential.not_ranked)
    if differential.excluded:
        notes.append("Not applicable to this operation: " + ", ".join(e.title for e in differential.excluded) + ".")
    if ask_next(assessment):
        notes.append(
            "Would change the differential most: " + joined(q.question or q.title for q in ask_next(assessment))
        )
    return out.add(
        "RiskAssessment",
        "differential",
        {
            "status": "final",
            "method": concept(METHOD, text=_engine_text(assessment)),
            "code": concept(text="Causes of persistent spinal pain after surgery (PSPS type 2)"),
            "subject": subject,
            "occurrenceDateTime": when,
            "basis": [{"reference": url} for url in basis],
            "prediction": [
                {
                    "outcome": concept(Coding(c.CAUSE, cause.cause, cause.title), text=cause.title),
                    "probabilityDecimal": round(cause.probability, 4),
                    "rationale": cause_rationale(cause, kb, differential.percent),
                }
                for cause in differential.causes
            ],
            "note": [{"text": text} for text in notes],
        },
    )


def _engine_text(assessment: Assessment) -> str:
    return (
        f"FBSS Navigator engine {assessment.engine_version}, knowledge base {assessment.knowledge_version} "
        f"({assessment.knowledge_fingerprint})"
    )


def _detected_issue(out: _Out, flag: RedFlagResult, kb: KnowledgeBase, subject: dict[str, str], when: str) -> str:
    url = next((u for u in (source_url(s, kb) for s in flag.sources) if u), None)
    return out.add(
        "DetectedIssue",
        f"red-flag/{flag.flag}",
        {
            "status": "final",
            "code": concept(Coding(c.RED_FLAG, flag.flag, flag.title), text=flag.title),
            "severity": SEVERITY[flag.urgency],
            "patient": subject,
            "identifiedDateTime": when,
            "evidence": [{"code": [concept(text=t.title)]} for t in flag.fired_by],
            "detail": flag_detail(flag, kb),
            **({"reference": url} if url else {}),
        },
    )


def _clinical_impression(
    out: _Out,
    assessment: Assessment,
    subject: dict[str, str],
    when: str,
    issues: list[tuple[RedFlagResult, str]],
    risk: str,
) -> str:
    triage = assessment.triage
    top = assessment.differential.causes[:3]
    shown = assessment.differential.percent
    summary = (
        f"Red flags: {', '.join(f'{f.title} ({URGENCY_LABEL[f.urgency]})' for f in triage.fired)}. "
        if triage.fired
        else "No red flag fired. "
    ) + ("Most likely causes: " + ", ".join(f"{x.title} {shown(x.probability)}" for x in top) + "." if top else "")
    findings = [
        {
            "itemReference": {"reference": url, "display": flag.title},
            "basis": f"Fired by: {fired_by_text(flag, ', ')}",
        }
        for flag, url in issues
    ]
    open_questions = triage.screen.open
    notes = (
        [
            f"Red-flag screen: {len(open_questions)} question(s) open: "
            + "; ".join(f"{q.text} ({URGENCY_LABEL[q.urgency].lower()} if yes)" for q in open_questions)
        ]
        if open_questions
        else []
    )
    return out.add(
        "ClinicalImpression",
        "impression",
        {
            "status": "completed",
            "description": _engine_text(assessment),
            "subject": subject,
            "effectiveDateTime": when,
            "date": when,
            "summary": summary,
            **({"finding": findings} if findings else {}),
            "prognosisReference": [{"reference": risk}],
            **({"note": [{"text": n} for n in notes]} if notes else {}),
        },
    )


def _item_type(instrument: Instrument, integer: bool, has_options: bool) -> str:
    if has_options and instrument.licence.status is LicenceStatus.public_domain:
        return "choice"
    return "integer" if integer else "decimal"


def questionnaire(instrument: Instrument) -> dict[str, Any]:
    """An instrument as a FHIR Questionnaire: wording only for public-domain instruments, codes and ranges always."""
    public = instrument.licence.status is LicenceStatus.public_domain
    items = []
    for item in instrument.items:
        entry: dict[str, Any] = {"linkId": item.id}
        if item.code:
            entry["code"] = [instrument_coding(item.code, item.label if public else None).fhir()]
        if public:
            entry["text"] = item.text or item.label
        entry["type"] = _item_type(instrument, item.integer, bool(item.options))
        if public and item.options:
            entry["answerOption"] = [
                {
                    "valueCoding": {
                        "system": f"{c.QUESTIONNAIRE_BASE}/{instrument.id}",
                        "code": str(o.value),
                        "display": o.label,
                    }
                }
                for o in item.options
            ]
        items.append(entry)
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": instrument.id.replace("_", "-"),
        "url": f"{c.QUESTIONNAIRE_BASE}/{instrument.id}",
        "name": instrument.id.upper(),
        "title": instrument.title,
        "status": "active",
        "subjectType": ["Patient"],
        "copyright": instrument.licence.note,
    }
    if instrument.panel_code:
        resource["code"] = [instrument_coding(instrument.panel_code).fhir()]
    if public and instrument.stem:
        resource["description"] = instrument.stem
    elif not public:
        resource["description"] = (
            "Licensed instrument: item wording is not distributed; administer the licensed form and record the "
            "answers against these linkIds."
        )
    resource["item"] = items
    return resource


def questionnaires(catalogue: InstrumentCatalogue | None = None) -> list[dict[str, Any]]:
    """Every questionnaire in the instrument catalogue as a Questionnaire resource."""
    catalogue = catalogue or load_instruments()
    return [questionnaire(i) for i in catalogue if i.kind is InstrumentKind.questionnaire]


def _document(out: _Out, assessment: Assessment, kb: KnowledgeBase, subject: dict[str, str], when: str) -> str:
    markdown = render_markdown(assessment, kb)
    return out.add(
        "DocumentReference",
        "report",
        {
            "status": "current",
            "docStatus": "final",
            "type": concept(Coding(c.LOINC, "11488-4", "Consult note"), text="FBSS Navigator clinician report"),
            "subject": subject,
            "date": f"{when}T00:00:00Z",
            "description": f"Assessment of case {assessment.case_id}",
            "content": [
                {
                    "attachment": {
                        "contentType": "text/markdown; charset=utf-8",
                        "language": "en",
                        "data": base64.b64encode(markdown.encode("utf-8")).decode("ascii"),
                        "title": f"FBSS Navigator assessment {assessment.case_id}.md",
                    }
                }
            ],
        },
    )


def export_assessment(
    case: Case,
    kb: KnowledgeBase,
    assessment: Assessment | None = None,
    *,
    mapping: Mapping | None = None,
    include_questionnaires: bool = True,
    validate: bool = True,
) -> dict[str, Any]:
    """A collection Bundle: the case's resources, then the assessment's; each validated against FHIR R4B."""
    assessment = assessment or assess(case, kb)
    inputs = case_resources(case, mapping)
    patient_url = inputs[0][0]
    subject = {"reference": patient_url}
    when = (assessment.assessment_date or dt.date.today()).isoformat()
    out = _Out(case)
    basis = [url for url, resource in inputs[1:]]
    risk = _risk_assessment(out, assessment, kb, subject, basis, when)
    issues = [(flag, _detected_issue(out, flag, kb, subject, when)) for flag in assessment.triage.fired]
    impression = _clinical_impression(out, assessment, subject, when, issues, risk)
    plan, cited = care_plan(assessment, kb, subject, when, [impression, risk, *(url for _, url in issues)])
    plan_url = out.add("CarePlan", "plan", plan)
    document = _document(out, assessment, kb, subject, when)
    recorded = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    targets = [risk, *(url for _, url in issues), impression, plan_url, document]
    out.add(
        "Provenance",
        "provenance",
        {
            "target": [{"reference": url} for url in targets],
            "recorded": recorded,
            "agent": [{"who": {"display": _engine_text(assessment)}}],
            "entity": [{"role": "source", "what": {"reference": url}} for url in basis[:50]],
        },
    )
    if cited:
        out.add(
            "Provenance",
            "plan-sources",
            {
                "target": [{"reference": plan_url}],
                "recorded": recorded,
                "agent": [{"who": {"display": _engine_text(assessment)}}],
                "entity": source_entities(cited, kb),
            },
        )
    entries = [*inputs, *out.entries]
    if include_questionnaires:
        entries += [(f"{q['url']}", q) for q in questionnaires()]
    if validate:
        for _url, resource in entries:
            validate_resource(resource)
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries],
    }
