"""The clinician workspace: patient list, new-case form, assessment, history, outcomes, portal links, reports."""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fbss.case.model import Case
from fbss.errors import FbssError
from fbss.instruments import schedule
from fbss.instruments.models import Measure
from fbss.reasoning.assess import Assessment, assess
from fbss.reasoning.results import CauseResult
from fbss.reports.care_view import care_view
from fbss.reports.care_wording import ADVICE_LABEL, STATE_MARK, STEP_KIND, missing
from fbss.reports.changes import StoredSummary, assessment_changes, summarise
from fbss.reports.charts import OutcomeChart, OutcomePoint, differential_chart, outcome_chart, scoped_svg
from fbss.reports.documents import clinician_report_html, outcomes_section, patient_handout_html, to_pdf
from fbss.reports.i18n import LANGUAGES
from fbss.reports.safety_view import safety_view
from fbss.reports.wording import EVIDENCE_LABEL, URGENCY_LABEL, finding_phrase, percent
from fbss.store.diff import ABSENT, Change, diff
from fbss.store.errors import StoreError
from fbss.store.outcomes import InstrumentTrend, trends
from fbss.store.portal import DEFAULT_VALIDITY
from fbss.store.records import AssessmentRecord, AssessmentStamp, CaseVersionRecord, ResponseRecord
from fbss.store.repository import Repository
from fbss.web import caseform, reading
from fbss.web.patient_portal import instruments_for
from fbss.web.services import CheckedForm, PortalStore, Repo, Services, services, text_fields
from fbss.web.templating import language, render

router = APIRouter()


# -- the patient list ---------------------------------------------------------------------------------------------

_URGENCY = {u.value: label for u, label in URGENCY_LABEL.items()}


@router.get("/patients")
def patient_list(request: Request, repo: Repo, portal: PortalStore, q: str = "") -> HTMLResponse:
    patients = repo.list_patients()
    query = q.strip().lower()[:100]
    if query:
        patients = [p for p in patients if query in p.identifier.lower() or query in (p.display_name or "").lower()]
    alerts = portal.alerts()
    flagged = {a.patient_identifier for a in alerts}
    return render(
        request,
        "patients.html",
        patients=patients,
        q=q[:100],
        alerts=alerts,
        flagged=flagged,
        error=None,
        form={},
        triage=repo.latest_triage(),
        urgency=_URGENCY,
    )


@router.post("/patients")
def add_patient(
    request: Request,
    form: CheckedForm,
    repo: Repo,
    portal: PortalStore,
) -> Response:
    values = text_fields(form)
    identifier = values.get("identifier", "").strip()
    year_text = values.get("birth_year", "").strip()
    try:
        if not identifier:
            raise StoreError("record number: required")
        try:
            birth_year = int(year_text) if year_text else None
        except ValueError:
            raise StoreError(f"birth year: enter a year such as 1966, not {year_text!r}") from None
        record = repo.add_patient(identifier, display_name=values.get("display_name") or None, birth_year=birth_year)
    except StoreError as exc:
        patients = repo.list_patients()
        alerts = portal.alerts()
        return render(
            request,
            "patients.html",
            status_code=400,
            patients=patients,
            q="",
            alerts=alerts,
            flagged={a.patient_identifier for a in alerts},
            error=str(exc),
            form=values,
            triage=repo.latest_triage(),
            urgency=_URGENCY,
        )
    return RedirectResponse(f"/patients/{record.id}/case/new", status_code=303)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge_alert(alert_id: int, form: CheckedForm, portal: PortalStore) -> Response:
    portal.acknowledge(alert_id)
    back = str(form.get("back", ""))
    return RedirectResponse(back if back.startswith("/patients") else "/patients", status_code=303)


# -- one patient ------------------------------------------------------------------------------------------------


@router.get("/patients/{patient_id}")
def patient_page(request: Request, patient_id: int, repo: Repo, portal: PortalStore) -> Response:
    identifier = repo.identifier_of(patient_id)
    summary = repo.patient(identifier)
    if summary.case_versions:
        return RedirectResponse(f"/patients/{patient_id}/assessment", status_code=303)
    return render(
        request,
        "patient.html",
        summary=summary,
        patient=summary.patient,
        alerts=portal.alerts(identifier=identifier),
        tab="overview",
    )


# -- the new-case form --------------------------------------------------------------------------------------------


def _case_id(identifier: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._:-" else "-" for ch in identifier)[:100] or "case"


case_id_for = _case_id
IMPORTED_FIELD = "_imported"  # form field -> where the chart's value came from (SMART launch), carried by the form
CHART_PROPOSALS_FIELD = "_chart_proposals"  # findings read from the chart's documents, until accepted or rejected


def _carried(values: dict[str, str], name: str) -> Any:
    try:
        return json.loads(values.get(name) or "null")
    except ValueError:
        return None


def _form_page(
    request: Request,
    patient: Any,
    step: str,
    values: dict[str, str],
    base: dict[str, Any],
    errors: dict[str, str],
    *,
    proposals: list[dict[str, Any]] | None = None,
    report_text: str = "",
    status_code: int = 200,
    notice: str | None = None,
) -> HTMLResponse:
    rows = {
        kind: [caseform.row_specs(kind, i) for i in range(caseform.row_count(values, kind))]
        for kind in caseform.ROW_MODELS
    }
    marks = _carried(values, IMPORTED_FIELD)
    marks = {str(k): str(v) for k, v in marks.items()} if isinstance(marks, dict) else {}
    if proposals is None and step == "imaging" and values.get(CHART_PROPOSALS_FIELD):
        proposals = reading.decode(values[CHART_PROPOSALS_FIELD])
    return render(
        request,
        "case_form.html",
        status_code=status_code,
        patient=patient,
        tab="case",
        steps=caseform.STEPS,
        step=step,
        step_index=caseform.STEP_IDS.index(step),
        fields=caseform.fields_of(step),
        all_fields=caseform.FIELDS,
        rows=rows,
        row_steps={kind: caseform.row_step(kind) for kind in caseform.ROW_MODELS},
        lab_fields=caseform.LAB_FIELDS,
        values=values,
        base_json=json.dumps(base, separators=(",", ":")),
        errors=errors,
        error_steps={caseform.step_of(name) for name in errors},
        field_labels=_labels(rows),
        proposals=proposals or [],
        proposals_json=json.dumps(proposals or [], separators=(",", ":")),
        report_text=report_text,
        notice=notice,
        marks=marks,
        carried={name: values.get(name, "") for name in (IMPORTED_FIELD, CHART_PROPOSALS_FIELD)},
    )


form_page = _form_page


def _labels(rows: dict[str, list[list[caseform.FieldSpec]]]) -> dict[str, str]:
    labels = {f.name: f.label for f in caseform.FIELDS}
    for specs in rows.values():
        for row in specs:
            for spec in row:
                index = spec.name.split("-")[1]
                labels[spec.name] = f"{spec.name.split('-')[0].replace('_', ' ')} row {int(index) + 1}: {spec.label}"
    for _lab, value_spec, date_spec in caseform.LAB_FIELDS:
        labels[value_spec.name] = value_spec.label
        labels[date_spec.name] = date_spec.label
    return labels


@router.get("/patients/{patient_id}/case/new")
def case_form(request: Request, patient_id: int, repo: Repo, step: str = "surgery") -> HTMLResponse:
    identifier = repo.identifier_of(patient_id)
    summary = repo.patient(identifier)
    base: dict[str, Any] = {}
    base = repo.case_version(identifier).data if summary.case_versions else {"id": _case_id(identifier)}
    values = caseform.values_from_case(base)
    if not values.get("assessment_date"):
        values["assessment_date"] = services(request).today().isoformat()
    step = step if step in caseform.STEP_IDS else "surgery"
    return _form_page(request, summary.patient, step, values, base, {})


@router.post("/patients/{patient_id}/case/new")
def case_form_post(request: Request, patient_id: int, form: CheckedForm, repo: Repo) -> Response:
    svc = services(request)
    identifier = repo.identifier_of(patient_id)
    summary = repo.patient(identifier)
    values = text_fields(form)
    try:
        base = json.loads(values.get("_base") or "{}")
        if not isinstance(base, dict):
            raise ValueError
    except ValueError:
        base = {}
    current = values.get("_step", "surgery")
    current = current if current in caseform.STEP_IDS else "surgery"
    go = values.get("go", current)
    report_text = values.get("report_text", "")

    if go == "read_report":
        try:
            proposals = reading.propose(report_text)
        except FbssError as exc:
            return _form_page(
                request,
                summary.patient,
                "imaging",
                values,
                base,
                {"report_text": str(exc)},
                report_text=report_text,
                status_code=400,
            )
        notice = None if proposals else "No finding was recognised in the report; enter findings by hand."
        return _form_page(
            request,
            summary.patient,
            "imaging",
            values,
            base,
            {},
            proposals=proposals,
            report_text=report_text,
            notice=notice,
        )
    if go == "apply_report":
        proposals = reading.decode(values.get("_proposals", "[]"))
        decisions = {p["key"]: values.get(f"proposal-{p['key']}", "") for p in proposals}
        undecided = [p for p in proposals if p["choosable"] and decisions[p["key"]] not in ("accept", "reject")]
        if undecided:
            errors = {f"proposal-{p['key']}": "accept or reject this finding" for p in undecided}
            return _form_page(
                request,
                summary.patient,
                "imaging",
                values,
                base,
                errors,
                proposals=proposals,
                report_text=report_text,
                status_code=400,
            )
        values = reading.apply(values, proposals, decisions)
        values.pop(CHART_PROPOSALS_FIELD, None)
        accepted = sum(1 for d in decisions.values() if d == "accept")
        return _form_page(
            request,
            summary.patient,
            "imaging",
            values,
            base,
            {},
            notice=f"{accepted} finding(s) from the report added below; rejected ones were not.",
        )

    user = getattr(request.state, "user", None)
    result = caseform.case_data_from_form(
        values, base, _case_id(identifier), recorded_by=user.username if user else None, now=svc.clock()
    )
    case, errors = caseform.validate(result)
    if go == "save":
        if case is None:
            first = next((s for s in caseform.STEP_IDS if s in {caseform.step_of(n) for n in errors}), current)
            return _form_page(request, summary.patient, first, values, base, errors, status_code=400)
        return _save(request, svc, repo, identifier, patient_id, case, values.get("note", ""))
    target = go if go in caseform.STEP_IDS else current
    here = {name: message for name, message in errors.items() if caseform.step_of(name) == current}
    if here and caseform.STEP_IDS.index(target) > caseform.STEP_IDS.index(current):
        return _form_page(request, summary.patient, current, values, base, here, status_code=400)
    shown = {name: message for name, message in errors.items() if caseform.step_of(name) == target}
    return _form_page(request, summary.patient, target, values, base, shown)


def _save(
    request: Request, svc: Services, repo: Repository, identifier: str, patient_id: int, case: Case, note: str
) -> Response:
    if case.assessment_date is None:
        case = case.model_copy(update={"assessment_date": svc.today()})
    version = repo.save_case(identifier, case, note=note or None)
    repo.assess_case(identifier, svc.kb, version=version.version)
    return RedirectResponse(f"/patients/{patient_id}/assessment", status_code=303)


# -- the assessment page ---------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _differential_svg(causes: tuple[CauseResult, ...]) -> str:
    return scoped_svg(differential_chart(causes), "differential")


def _live(svc: Services, record: AssessmentRecord | AssessmentStamp, version: CaseVersionRecord) -> Assessment:
    """The assessment object behind a stored result, recomputed from the stored snapshot as of the stored date
    (identical while engine and knowledge base are unchanged; the page says so when they differ)."""
    return assess(version.case().model_copy(update={"assessment_date": record.as_of}), svc.kb)


def _stored_assessment(
    svc: Services, repo: Repository, identifier: str, version: int | None
) -> tuple[AssessmentRecord, CaseVersionRecord]:
    record = repo.latest_assessment(identifier, version)
    if record is None:
        record, _ = repo.assess_case(identifier, svc.kb, version=version)
    snapshot = repo.case_version(identifier, record.case_version)
    return record, snapshot


@router.get("/patients/{patient_id}/assessment")
def assessment_page(
    request: Request,
    patient_id: int,
    repo: Repo,
    portal: PortalStore,
    version: int | None = None,
) -> Response:
    svc = services(request)
    identifier = repo.identifier_of(patient_id)
    # One transaction, and the stored result is not read: the page recomputes it from the stored snapshot.
    found = repo.case_with_assessment(identifier, version)
    if found.snapshot is None:
        return RedirectResponse(f"/patients/{patient_id}/case/new", status_code=303)
    if found.assessment is None:
        repo.assess_case(identifier, svc.kb, version=found.snapshot.version)
        found = repo.case_with_assessment(identifier, found.snapshot.version)
    record, snapshot = found.assessment, found.snapshot
    assert record is not None and snapshot is not None
    a = _live(svc, record, snapshot)
    current = record.engine_version == a.engine_version and record.knowledge_fingerprint == svc.kb.fingerprint
    return render(
        request,
        "assessment.html",
        patient=found.patient,
        tab="assessment",
        a=a,
        record=record,
        snapshot=snapshot,
        current=current,
        chart=_differential_svg(a.differential.causes),
        alerts=portal.alerts(identifier=identifier),
        sources=svc.kb.sources,
        urgency={u.value: label for u, label in URGENCY_LABEL.items()},
        evidence={e.value: label for e, label in EVIDENCE_LABEL.items()},
        percent=percent,
        phrase=lambda r: finding_phrase(r.title, r.state, r.observed),
        page_lang=language(request),
        care=care_view(a, svc.kb),
        safety=safety_view(a),
        missing=missing,
        advice_label={level.value: label for level, label in ADVICE_LABEL.items()},
        state_mark={state.value: mark for state, mark in STATE_MARK.items()},
        category_title={c.id.value: c.title for c in svc.kb.care.appropriateness.categories},
        step_kind=STEP_KIND,
    )


# -- history ------------------------------------------------------------------------------------------------------


def _value_text(value: Any) -> str:
    """A case value for the history table: objects as `key: value` pairs, lists joined, absent as a dash."""
    if value is ABSENT or value is None:
        return "—"
    if isinstance(value, dict):
        pairs = [(k, v) for k, v in value.items() if v not in (None, [], {})]
        return " · ".join(f"{k.replace('_', ' ')}: {_value_text(v)}" for k, v in pairs)
    if isinstance(value, list):
        return ", ".join(_value_text(v) for v in value) or "—"
    return str(value).replace("_", " ") if isinstance(value, str) else json.dumps(value)


def _field_rows(changes: list[Change]) -> list[dict[str, str]]:
    return [
        {"field": c.path.replace("_", " "), "kind": c.kind, "before": _value_text(c.old), "after": _value_text(c.new)}
        for c in changes
    ]


@router.get("/patients/{patient_id}/history")
def history_page(request: Request, patient_id: int, repo: Repo) -> HTMLResponse:
    identifier = repo.identifier_of(patient_id)
    summary = repo.patient(identifier)
    versions = repo.case_history(identifier)
    entries = []
    previous: CaseVersionRecord | None = None
    previous_result: StoredSummary | None = None
    for version in versions:
        changes = diff(previous.data, version.data) if previous is not None else []
        stored = repo.latest_assessment(identifier, version.version)
        result = summarise(stored.result) if stored is not None else None
        effects = assessment_changes(previous_result, result) if previous_result and result else None
        entries.append(
            {
                "version": version,
                "fields": _field_rows(changes),
                "first": previous is None,
                "assessed": stored,
                "effects": effects,
            }
        )
        previous, previous_result = version, result or previous_result
    return render(request, "history.html", patient=summary.patient, tab="history", entries=list(reversed(entries)))


# -- outcomes -----------------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _outcome_svg(chart: OutcomeChart, scope: str) -> str:
    return scoped_svg(outcome_chart(chart), scope)


def _chart_for(svc: Services, trend: InstrumentTrend) -> OutcomeChart | None:
    instrument = svc.instruments.instruments.get(trend.instrument_id)
    if instrument is None or instrument.primary_scale is None:
        return None
    scale = next(s for s in instrument.scales if s.id == instrument.primary_scale)
    titles = {tp.id: tp.title for tp in svc.instruments.schedule.time_points}
    points = tuple(
        OutcomePoint(row.response.completed_at.date(), row.value, titles.get(row.response.time_point or ""))
        for row in trend.rows
        if row.value is not None
    )
    if not points:
        return None
    mcid = None
    change = instrument.change
    if change is not None and change.mcid is not None and change.scale == scale.id:
        mcid = next((c.at_least for c in change.mcid.any_of if c.measure is Measure.improvement_points), None)
    higher_is_worse = change is None or change.direction.value == "lower_is_better"
    return OutcomeChart(
        title=trend.title,
        unit=trend.scale_title or scale.title,
        points=points,
        scale_min=scale.min,
        scale_max=scale.max + (scale.max - scale.min) * 0.08,
        higher_is_worse=higher_is_worse,
        important_change=mcid,
        important_change_label=f"within ±{mcid:g} of baseline: below the minimal important change" if mcid else None,
    )


def reference_date(responses: list[ResponseRecord], fallback: dt.date) -> dt.date:
    """Follow-up is counted from the baseline questionnaire (else the first one, else `fallback`)."""
    marked = [r for r in responses if r.time_point == "baseline"]
    if marked:
        return marked[0].completed_at.date()
    return responses[0].completed_at.date() if responses else fallback


OUTCOME_LABEL = {
    "success": "success",
    "grey_zone": "grey zone",
    "failure": "failure",
    "not_success": "not yet a success",
}


@router.get("/patients/{patient_id}/outcomes")
def outcomes_page(
    request: Request,
    patient_id: int,
    repo: Repo,
    portal: PortalStore,
) -> HTMLResponse:
    svc = services(request)
    identifier = repo.identifier_of(patient_id)
    summary = repo.patient(identifier)
    responses = repo.responses(identifier)
    found = trends(responses, svc.instruments)
    charts = []
    for trend in found:
        chart = _chart_for(svc, trend)
        charts.append({"trend": trend, "svg": _outcome_svg(chart, trend.instrument_id) if chart else None})
    today = svc.today()
    start = reference_date(responses, summary.patient.created_at.date())
    plan = schedule(
        start,
        {r.completed_at.date() for r in responses if r.completed_at.date() <= today},
        today,
        catalogue=svc.instruments,
    )
    links = portal.links(identifier)
    new_link = request.query_params.get("new_link")
    return render(
        request,
        "outcomes.html",
        patient=summary.patient,
        tab="outcomes",
        charts=charts,
        schedule=plan,
        reference=start,
        links=links,
        now=svc.clock(),
        new_link=new_link,
        portal_sets={tp.id: instruments_for(tp.id, svc.instruments) for tp in svc.instruments.schedule.time_points},
        due=[s for s in plan if s.status.value in ("due", "overdue")],
        time_points={tp.id: tp.title for tp in svc.instruments.schedule.time_points},
        outcome_label=OUTCOME_LABEL,
        alerts=portal.alerts(identifier=identifier, open_only=False),
    )


# -- portal links ------------------------------------------------------------------------------------------------


@router.post("/patients/{patient_id}/portal-links")
def create_portal_link(
    request: Request,
    patient_id: int,
    form: CheckedForm,
    repo: Repo,
    portal: PortalStore,
) -> HTMLResponse:
    svc = services(request)
    identifier = repo.identifier_of(patient_id)
    time_point = str(form.get("time_point", "")) or None
    known = {tp.id for tp in svc.instruments.schedule.time_points}
    if time_point is not None and time_point not in known:
        raise StoreError(f"time point: expected one of {', '.join(sorted(known))}")
    days = str(form.get("days", "")) or str(DEFAULT_VALIDITY.days)
    if not days.isdigit():
        raise StoreError("valid for: a whole number of days")
    token, link = portal.create_link(identifier, time_point=time_point, valid_for=dt.timedelta(days=int(days)))
    url = str(request.base_url).rstrip("/") + f"/portal/open/{token}"
    summary = repo.patient(identifier)
    return render(request, "portal_link_created.html", patient=summary.patient, tab="outcomes", url=url, link=link)


@router.post("/patients/{patient_id}/portal-links/{link_id}/revoke")
def revoke_portal_link(
    patient_id: int,
    link_id: int,
    form: CheckedForm,
    repo: Repo,
    portal: PortalStore,
) -> Response:
    portal.revoke_link(repo.identifier_of(patient_id), link_id)
    return RedirectResponse(f"/patients/{patient_id}/outcomes", status_code=303)


# -- reports ------------------------------------------------------------------------------------------------------


def _report_options(lang: str, page: str) -> tuple[str, str]:
    if lang not in LANGUAGES:
        raise FbssError(f"language: choose one of {', '.join(LANGUAGES)}")
    if page.lower() not in ("a4", "letter"):
        raise FbssError("page size: choose A4 or Letter")
    return lang, page


def _export(svc: Services, repo: Repository, patient_id: int) -> tuple[str, Assessment, AssessmentRecord]:
    identifier = repo.identifier_of(patient_id)
    record, snapshot = _stored_assessment(svc, repo, identifier, None)
    repo.export_assessment(identifier, record.id)
    return identifier, _live(svc, record, snapshot), record


def _download(body: bytes | str, media: str, name: str) -> Response:
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/patients/{patient_id}/reports/clinician.{fmt}")
def clinician_report(
    request: Request,
    patient_id: int,
    fmt: str,
    repo: Repo,
    lang: str = "en",
    page: str = "A4",
) -> Response:
    svc = services(request)
    lang, page = _report_options(lang, page)
    if fmt not in ("pdf", "html"):
        raise FbssError("format: pdf or html")
    identifier, a, record = _export(svc, repo, patient_id)
    found = trends(repo.responses(identifier), svc.instruments)
    charts = [chart for chart in (_chart_for(svc, trend) for trend in found) if chart is not None]
    extra = (outcomes_section(charts, lang),) if charts else ()
    html = clinician_report_html(a, svc.kb, lang=lang, page=page, extra_sections=extra)
    name = f"clinician-report-{patient_id}-v{record.case_version}"
    if fmt == "html":
        return _download(html, "text/html; charset=utf-8", name + ".html")
    return _download(to_pdf(html), "application/pdf", name + ".pdf")


@router.get("/patients/{patient_id}/reports/handout.pdf")
def patient_handout(
    request: Request,
    patient_id: int,
    repo: Repo,
    lang: str = "en",
    page: str = "A4",
) -> Response:
    svc = services(request)
    lang, page = _report_options(lang, page)
    _identifier, a, record = _export(svc, repo, patient_id)
    html = patient_handout_html(a, svc.kb, lang=lang, page=page, today=svc.today())
    return _download(to_pdf(html), "application/pdf", f"patient-handout-{patient_id}-v{record.case_version}.pdf")
