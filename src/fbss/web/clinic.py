"""The clinician workspace: patient list, new-case form, assessment, history, outcomes, portal links, reports."""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fbss import jsonlimits
from fbss.case.model import Case
from fbss.case.vocabulary import MODALITY_LABEL
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
from fbss.reports.summary import decision_summary
from fbss.reports.wording import (
    EVIDENCE_LABEL,
    URGENCY_LABEL,
    calibration_lines,
    cause_percent,
    reason_phrase,
)
from fbss.store.diff import ABSENT, Change, diff
from fbss.store.errors import StaleVersionError, StoreError
from fbss.store.outcomes import InstrumentTrend, trends
from fbss.store.portal import DEFAULT_VALIDITY, MAX_VALIDITY, Portal
from fbss.store.records import (
    AssessmentRecord,
    AssessmentStamp,
    CaseVersionRecord,
    LatestTriage,
    PatientRecord,
    ResponseRecord,
)
from fbss.store.repository import Repository
from fbss.web import caseform, numbers, reading
from fbss.web.patient_portal import instruments_for
from fbss.web.services import CheckedForm, PortalStore, Repo, Services, services, text_fields
from fbss.web.templating import language, render

router = APIRouter()


# -- the patient list ---------------------------------------------------------------------------------------------

_URGENCY = {u.value: label for u, label in URGENCY_LABEL.items()}
_LEVEL_ORDER = {"emergency": 0, "same_day": 1, "within_days": 2}


def by_urgency(
    patients: list[PatientRecord], triage: dict[str, LatestTriage], flagged: set[str]
) -> list[PatientRecord]:
    """Most urgent first: an open safety alert, then the red-flag level, then red-flag questions still open, then
    patients not assessed yet; within each, the most recently assessed first."""

    def key(patient: PatientRecord) -> tuple[int, int, int, int, int, str]:
        t = triage.get(patient.identifier)
        level = _LEVEL_ORDER.get(t.level or "", 3) if t else 3
        recent = -(t.as_of.toordinal() if t and t.as_of else 0)
        return (
            patient.identifier not in flagged,
            level,
            not (t and t.ask_now),
            t is not None,
            recent,
            patient.identifier,
        )

    return sorted(patients, key=key)


def _patient_list(
    request: Request,
    repo: Repository,
    portal: Portal,
    q: str,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    patients = repo.list_patients()
    query = q.strip().lower()[:100]
    if query:
        patients = [p for p in patients if query in p.identifier.lower() or query in (p.display_name or "").lower()]
    alerts = portal.alerts()
    flagged = {a.patient_identifier for a in alerts}
    triage = repo.latest_triage()
    return render(
        request,
        "patients.html",
        status_code=400 if error else 200,
        patients=by_urgency(patients, triage, flagged),
        q=q[:100],
        alerts=alerts,
        flagged=flagged,
        error=error,
        form=form or {},
        triage=triage,
        urgency=_URGENCY,
    )


@router.get("/patients")
def patient_list(request: Request, repo: Repo, portal: PortalStore, q: str = "") -> HTMLResponse:
    return _patient_list(request, repo, portal, q)


def _birth_year(text: str) -> int | None:
    text = text.strip()
    year = numbers.whole(text) if text else None
    if text and year is None:
        raise StoreError(f"year of birth: enter a year such as 1966, not {text[:20]!r}")
    return year


@router.post("/patients")
def add_patient(
    request: Request,
    form: CheckedForm,
    repo: Repo,
    portal: PortalStore,
) -> Response:
    values = text_fields(form)
    identifier = values.get("identifier", "").strip()
    try:
        if not identifier:
            raise StoreError("record number: required")
        birth_year = _birth_year(values.get("birth_year", ""))
        record = repo.add_patient(identifier, display_name=values.get("display_name") or None, birth_year=birth_year)
    except StoreError as exc:
        return _patient_list(request, repo, portal, "", error=str(exc), form=values)
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


@router.get("/patients/{patient_id}/edit")
def edit_patient_form(request: Request, patient_id: int, repo: Repo) -> HTMLResponse:
    summary = repo.patient(repo.identifier_of(patient_id))
    patient = summary.patient
    values = {"display_name": patient.display_name or "", "birth_year": str(patient.birth_year or "")}
    return render(request, "patient_edit.html", patient=patient, tab="edit", form=values, error=None)


@router.post("/patients/{patient_id}/edit")
def edit_patient(request: Request, patient_id: int, form: CheckedForm, repo: Repo) -> Response:
    identifier = repo.identifier_of(patient_id)
    values = text_fields(form)
    try:
        repo.update_patient(
            identifier,
            display_name=values.get("display_name") or None,
            birth_year=_birth_year(values.get("birth_year", "")),
        )
    except StoreError as exc:
        patient = repo.patient(identifier).patient
        return render(
            request, "patient_edit.html", status_code=400, patient=patient, tab="edit", form=values, error=str(exc)
        )
    return RedirectResponse(f"/patients/{patient_id}", status_code=303)


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
    not_understood: list[str] | None = None,
    report_modality: str | None = None,
    report_text: str = "",
    status_code: int = 200,
    notice: str | None = None,
    notes: dict[str, str] | None = None,
    focus_heading: bool = False,
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
        field_labels=_labels(rows, values),
        relevant_when=caseform.RELEVANT_WHEN,
        relevant=lambda name: caseform.relevant(name, values),
        blank_rows={kind: caseform.row_specs(kind, caseform.TEMPLATE_INDEX) for kind in caseform.ROW_MODELS},
        max_rows=caseform.MAX_ROWS,
        notes=notes or {},
        focus_heading=focus_heading,
        proposals=proposals or [],
        proposals_json=json.dumps(proposals or [], separators=(",", ":")),
        not_understood=not_understood or [],
        not_understood_json=json.dumps(not_understood or [], separators=(",", ":")),
        report_modality=report_modality,
        modality_options=[(m.value, label) for m, label in MODALITY_LABEL.items()],
        report_text=report_text,
        notice=notice,
        marks=marks,
        carried={name: values.get(name, "") for name in (IMPORTED_FIELD, CHART_PROPOSALS_FIELD)},
    )


form_page = _form_page


def _labels(rows: dict[str, list[list[caseform.FieldSpec]]], values: dict[str, str]) -> dict[str, str]:
    """Each control's name in messages: 'Finding 2 (Pseudarthrosis): Level', never 'diagnostics row 2'."""
    labels = {f.name: f.label for f in caseform.FIELDS}
    for kind, specs in rows.items():
        for index, row in enumerate(specs):
            for spec in row:
                labels[spec.name] = f"{caseform.row_label(kind, index, values)}: {spec.label}"
    for _lab, *lab_specs in caseform.LAB_FIELDS:
        for lab_spec in lab_specs:
            labels[lab_spec.name] = lab_spec.label
    return labels


VERSION_KEY = "_version"  # the case version a form was opened on, carried in its `_base` field


def _posted_base(base_field: str) -> tuple[dict[str, Any] | None, int]:
    """The case a posted form was opened on (None if the field is missing or unreadable) and its version (0: none);
    a form that does not name a version counts as opened on none, so it can never silently overwrite a saved one."""
    try:
        posted = jsonlimits.loads(base_field) if len(base_field) <= caseform.MAX_BASE else None
    except ValueError:
        posted = None
    if not isinstance(posted, dict):
        return None, 0
    version = posted.pop(VERSION_KEY, None)
    return posted, version if isinstance(version, int) and not isinstance(version, bool) and version >= 0 else 0


def _opened_on(repo: Repository, identifier: str, version: int) -> dict[str, Any]:
    """The case a form was opened on, read from the database (what the browser sends back is not trusted)."""
    return repo.case_version(identifier, version).data if version else {"id": _case_id(identifier)}


def _age_from_birth_year(values: dict[str, str], birth_year: int | None) -> dict[str, str]:
    """Fill an empty age from the patient's year of birth; returns the note shown beside the field."""
    if birth_year is None or values.get("patient.age"):
        return {}
    try:
        year = dt.date.fromisoformat(values.get("assessment_date", "")).year
    except ValueError:
        return {}
    age = year - birth_year
    if not 18 <= age <= 110:
        return {}
    values["patient.age"] = str(age)
    return {
        "patient.age": f"From the year of birth ({birth_year}): {age - 1} if the birthday is still to come this year"
    }


@router.get("/patients/{patient_id}/case/new")
def case_form(request: Request, patient_id: int, repo: Repo, step: str = "surgery") -> HTMLResponse:
    identifier = repo.identifier_of(patient_id)
    summary = repo.patient(identifier)
    version = summary.case_versions
    base = _opened_on(repo, identifier, version)
    values = caseform.values_from_case(base)
    if not values.get("assessment_date"):
        values["assessment_date"] = services(request).today().isoformat()
    notes = _age_from_birth_year(values, summary.patient.birth_year)
    step = step if step in caseform.STEP_IDS else "surgery"
    return _form_page(request, summary.patient, step, values, {**base, VERSION_KEY: version}, {}, notes=notes)


def _stale(
    request: Request,
    repo: Repository,
    summary: Any,
    identifier: str,
    step: str,
    values: dict[str, str],
    opened: dict[str, Any],
) -> HTMLResponse:
    """The form again, over the version saved since it was opened: this user's changes kept, the rest updated,
    fields both changed marked; nothing is saved until the user checks and saves again."""
    newest = repo.case_version(identifier)
    merged, conflicts = caseform.merge_stale(
        values, caseform.values_from_case(opened), caseform.values_from_case(newest.data)
    )
    when = newest.created_at.strftime("%Y-%m-%d %H:%M UTC")
    notice = (
        f"Not saved: version {newest.version} of this case was saved by {newest.created_by} at {when}, after you "
        "opened this form. Your changes are kept below over that version, and what you did not change now shows "
        "the newer values" + ("; check the fields marked" if conflicts else "") + ". Save again to store it."
    )
    return _form_page(
        request,
        summary.patient,
        step,
        merged,
        {**newest.data, VERSION_KEY: newest.version},
        conflicts,
        status_code=409,
        notice=notice,
    )


@router.post("/patients/{patient_id}/case/new")
def case_form_post(request: Request, patient_id: int, form: CheckedForm, repo: Repo) -> Response:
    svc = services(request)
    identifier = repo.identifier_of(patient_id)
    summary = repo.patient(identifier)
    values = text_fields(form)
    posted, version = _posted_base(values.get("_base") or "")
    version = min(version, summary.case_versions)
    # The case the form was opened on (a stored version, or a draft read from the EHR's chart) keeps what the form
    # does not show; saving checks that no newer version was saved meanwhile.
    base = posted or _opened_on(repo, identifier, version)
    shown_base = {**base, VERSION_KEY: version}
    current = values.get("_step", "surgery")
    current = current if current in caseform.STEP_IDS else "surgery"
    go = values.get("go", current)
    report_text = values.get("report_text", "")

    if go == "read_report":
        try:
            found = reading.propose(report_text, values)
        except FbssError as exc:
            return _form_page(
                request,
                summary.patient,
                "imaging",
                values,
                shown_base,
                {"report_text": str(exc)},
                report_text=report_text,
                status_code=400,
            )
        notice = None if found.proposals else "No finding was recognised in the report; enter findings by hand."
        return _form_page(
            request,
            summary.patient,
            "imaging",
            values,
            shown_base,
            {},
            proposals=found.proposals,
            not_understood=found.not_understood,
            report_modality=found.modality,
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
                shown_base,
                errors,
                proposals=proposals,
                not_understood=_strings(values.get("_not_understood", "[]")),
                report_modality=values.get("report_modality"),
                report_text=report_text,
                status_code=400,
            )
        applied = reading.apply(values, proposals, decisions, values.get("report_modality"))
        applied.values.pop(CHART_PROPOSALS_FIELD, None)
        notice = (
            f"From the report: {applied.added} finding(s) added below and {applied.merged} merged with the "
            "rows already entered; rejected ones were not added."
        )
        if applied.kept:
            notice += f" Kept as entered, although the report says otherwise: {'; '.join(applied.kept)}."
        return _form_page(request, summary.patient, "imaging", applied.values, shown_base, {}, notice=notice)
    if go.startswith("add_row:") and go.removeprefix("add_row:") in caseform.ROW_MODELS:
        kind = go.removeprefix("add_row:")  # without the browser script: one more blank row, same step
        values[f"_rows-{kind}"] = str(caseform.row_count(values, kind) + 1)
        return _form_page(request, summary.patient, caseform.row_step(kind), values, shown_base, {})

    result = caseform.case_data_from_form(values, base, _case_id(identifier))
    case, errors = caseform.validate(result)
    if go == "save":
        if case is None:
            first = next((s for s in caseform.STEP_IDS if s in {caseform.step_of(n) for n in errors}), current)
            return _form_page(request, summary.patient, first, values, shown_base, errors, status_code=400)
        try:
            return _save(request, svc, repo, identifier, patient_id, case, values.get("note", ""), version)
        except StaleVersionError:
            return _stale(request, repo, summary, identifier, current, values, base)
    target = go if go in caseform.STEP_IDS else current
    here = {name: message for name, message in errors.items() if caseform.step_of(name) == current}
    if here and caseform.STEP_IDS.index(target) > caseform.STEP_IDS.index(current):
        return _form_page(request, summary.patient, current, values, shown_base, here, status_code=400)
    shown = {name: message for name, message in errors.items() if caseform.step_of(name) == target}
    return _form_page(request, summary.patient, target, values, shown_base, shown, focus_heading=True)


def _strings(text: str) -> list[str]:
    """A JSON list of strings carried through the form (anything else is dropped)."""
    try:
        found = jsonlimits.loads(text)
    except ValueError:
        return []
    return [s for s in found if isinstance(s, str)][:100] if isinstance(found, list) else []


def _save(
    request: Request,
    svc: Services,
    repo: Repository,
    identifier: str,
    patient_id: int,
    case: Case,
    note: str,
    opened_on: int,
) -> Response:
    if case.assessment_date is None:
        case = case.model_copy(update={"assessment_date": svc.today()})
    version = repo.save_case(identifier, case, note=note or None, expected_version=opened_on)
    repo.assess_case(identifier, svc.kb, version=version.version)
    return RedirectResponse(f"/patients/{patient_id}/assessment", status_code=303)


# -- the assessment page ---------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _differential_svg(causes: tuple[CauseResult, ...], ceiling: float) -> str:
    return scoped_svg(differential_chart(causes, ceiling), "differential")


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
        summary=decision_summary(a),
        record=record,
        snapshot=snapshot,
        current=current,
        chart=_differential_svg(a.differential.causes, a.differential.ceiling),
        alerts=portal.alerts(identifier=identifier),
        sources=svc.kb.sources,
        urgency={u.value: label for u, label in URGENCY_LABEL.items()},
        evidence={e.value: label for e, label in EVIDENCE_LABEL.items()},
        percent=cause_percent(a.differential),
        calibration=calibration_lines(a.differential),
        phrase=reason_phrase,
        page_lang=language(request),
        care=care_view(a, svc.kb),
        safety=safety_view(a),
        missing=missing,
        advice_label={level.value: label for level, label in ADVICE_LABEL.items()},
        state_mark={state.value: mark for state, mark in STATE_MARK.items()},
        category_title={c.id.value: c.title for c in svc.kb.care.appropriateness.categories},
        step_kind=STEP_KIND,
        comparison=svc.kb.education.comparison if svc.kb.education else None,
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
        portal_sets={
            tp.id: [svc.instruments.get(i).title for i in instruments_for(tp.id, svc.instruments)]
            for tp in svc.instruments.schedule.time_points
        },
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
    days = numbers.whole_in(
        str(form.get("days", "")) or str(DEFAULT_VALIDITY.days), "valid for (days)", 1, MAX_VALIDITY.days
    )
    token, link = portal.create_link(identifier, time_point=time_point, valid_for=dt.timedelta(days=days))
    # The configured public address, never the request's Host header (which a client chooses).
    base = svc.config.public_url or str(request.base_url).rstrip("/")
    url = f"{base}/portal/open/{token}"
    summary = repo.patient(identifier)
    titles = {tp.id: tp.title for tp in svc.instruments.schedule.time_points}
    return render(
        request,
        "portal_link_created.html",
        patient=summary.patient,
        tab="outcomes",
        url=url,
        link=link,
        time_title=titles.get(link.time_point or "", "unscheduled"),
    )


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


def _download(body: bytes | str, media: str, name: str, *, inline: bool = False) -> Response:
    """A report: PDFs are saved (attachment), the HTML report opens in the browser (inline); both carry a name
    that says whose report, which version, language and page size it is."""
    disposition = "inline" if inline else "attachment"
    return Response(body, media_type=media, headers={"Content-Disposition": f'{disposition}; filename="{name}"'})


def report_name(identifier: str, kind: str, version: int, lang: str, page: str) -> str:
    """'DEMO-001-clinician-report-v2-en-A4': record number, kind, case version, language, page size."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", identifier).strip("-.") or "patient"
    return f"{safe}-{kind}-v{version}-{lang}-{page.upper() if page.lower() == 'a4' else 'Letter'}"


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
    name = report_name(identifier, "clinician-report", record.case_version, lang, page)
    if fmt == "html":
        return _download(html, "text/html; charset=utf-8", name + ".html", inline=True)
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
    identifier, a, record = _export(svc, repo, patient_id)
    html = patient_handout_html(a, svc.kb, lang=lang, page=page, today=svc.today())
    name = report_name(identifier, "patient-handout", record.case_version, lang, page)
    return _download(to_pdf(html), "application/pdf", name + ".pdf")
