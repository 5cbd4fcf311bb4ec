"""The patient portal: a link opens the due questionnaires of one patient on a phone, and nothing else.

Answers are not read in real time, and the portal says so on every page next to the crisis contacts; a PHQ-9
item 9 answer above 0 shows the crisis message at once and opens an urgent alert on the clinician's list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fbss.instruments import InstrumentCatalogue, InstrumentError, load_crisis_contacts
from fbss.instruments.models import Instrument
from fbss.store.outcomes import record_response
from fbss.store.portal import Portal, PortalLinkRecord, link_author
from fbss.store.repository import Repository
from fbss.web.services import CheckedForm, OpenLink, services, text_fields
from fbss.web.templating import render

router = APIRouter()

# Public-domain questionnaires a patient fills alone; licensed forms (ODI, EQ-5D-5L ...) are collected on the
# licence holder's form and entered by the clinic.
BASELINE_SET = ("nrs_back", "nrs_leg", "phq9", "gad7")
FOLLOW_UP_SET = ("nrs_back", "nrs_leg", "phq9", "pgic")


def instruments_for(time_point: str | None, catalogue: InstrumentCatalogue) -> tuple[str, ...]:
    wanted = BASELINE_SET if time_point in (None, "baseline") else FOLLOW_UP_SET
    return tuple(i for i in wanted if i in catalogue.instruments)


@dataclass(frozen=True)
class Question:
    """One item as the patient sees it: the wording, the answers, and the form name."""

    name: str
    text: str
    options: tuple[tuple[int, str], ...]
    scale: bool  # a 0-10 rating (numbers only) rather than worded answers
    alert_from: int | None  # an answer at or above this shows the crisis message at once


def questions(instrument: Instrument) -> list[Question]:
    alert_items = {a.item: a for a in instrument.alerts}
    result = []
    for item in instrument.items:
        if item.options:
            options = tuple((o.value, o.label) for o in item.options)
        else:
            options = tuple((v, str(v)) for v in range(int(item.min), int(item.max) + 1))
        alert = alert_items.get(item.id)
        alert_from = int(alert.range.strip("[(").split(",")[0]) if alert else None
        result.append(Question(item.id, item.text or item.label, options, not item.options, alert_from))
    return result


def _store(request: Request, link: PortalLinkRecord) -> Portal:
    svc = services(request)
    return Portal(svc.db, user=link_author(link.id), clock=svc.clock)


def _progress(request: Request, link: PortalLinkRecord) -> tuple[tuple[str, ...], set[str]]:
    svc = services(request)
    wanted = instruments_for(link.time_point, svc.instruments)
    return wanted, _store(request, link).completed_with_link(link.id) & set(wanted)


def _crisis() -> dict[str, Any]:
    contacts = load_crisis_contacts()
    return {"crisis_message": contacts.default_message, "crisis_contacts": contacts.contacts}


@router.get("/portal/open/{token}")
def open_link(request: Request, token: str) -> Response:
    """Exchange the link's token for a portal session, then drop the token from the address bar."""
    svc = services(request)
    link = Portal(svc.db, user="portal", clock=svc.clock).resolve(token)
    session = request.state.session
    lang = session.lang
    if link is None:
        session.renew()
        session.lang = lang
        return render(request, "portal/closed.html", status_code=403, **_crisis())
    session.renew(portal_link_id=link.id)
    session.lang = lang
    return RedirectResponse("/portal", status_code=303)


@router.get("/portal")
def portal_home(request: Request, link: OpenLink) -> HTMLResponse:
    svc = services(request)
    wanted, done = _progress(request, link)
    forms = [svc.instruments.get(i) for i in wanted]
    following = next((i for i in wanted if i not in done), None)
    return render(request, "portal/home.html", forms=forms, done=done, following=following, link=link, **_crisis())


@router.get("/portal/q/{instrument_id}")
def questionnaire(request: Request, instrument_id: str, link: OpenLink) -> Response:
    svc = services(request)
    wanted, _done = _progress(request, link)
    if instrument_id not in wanted:
        return RedirectResponse("/portal", status_code=303)
    instrument = svc.instruments.get(instrument_id)
    return render(
        request,
        "portal/questionnaire.html",
        instrument=instrument,
        questions=questions(instrument),
        answers={},
        error=None,
        position=wanted.index(instrument_id) + 1,
        count=len(wanted),
        **_crisis(),
    )


@router.post("/portal/q/{instrument_id}")
def submit(
    request: Request,
    instrument_id: str,
    form: CheckedForm,
    link: OpenLink,
) -> Response:
    svc = services(request)
    wanted, done = _progress(request, link)
    if instrument_id not in wanted or instrument_id in done:
        return RedirectResponse("/portal", status_code=303)
    instrument = svc.instruments.get(instrument_id)
    values = text_fields(form)
    answers: dict[str, int | float | None] = {}
    for item in instrument.items:
        raw = values.get(item.id, "").strip()
        answers[item.id] = int(raw) if raw.lstrip("-").isdigit() else None
    repo = Repository(svc.db, user=link_author(link.id), clock=svc.clock)
    try:
        _response, score = record_response(
            repo,
            link.patient_identifier,
            instrument_id,
            answers,
            time_point=link.time_point,
            catalogue=svc.instruments,
        )
    except InstrumentError as exc:
        return render(
            request,
            "portal/questionnaire.html",
            status_code=400,
            instrument=instrument,
            questions=questions(instrument),
            answers=values,
            error=exc,
            urgent=bool(exc.alerts),
            position=wanted.index(instrument_id) + 1,
            count=len(wanted),
            **_crisis(),
        )
    done = done | {instrument_id}
    finished = all(i in done for i in wanted)
    if finished:
        _store(request, link).use_link(link.id)
        lang = request.state.session.lang
        request.state.session.renew()  # the link is spent: this browser can open nothing more with it
        request.state.session.lang = lang
    following = next((i for i in wanted if i not in done), None)
    if score.alerts:
        alert = score.alerts[0]
        message = next(a.patient_message for a in instrument.alerts if a.id == alert.alert_id)
        return render(
            request, "portal/urgent.html", message=message, following=following, finished=finished, **_crisis()
        )
    if finished:
        return render(request, "portal/done.html", **_crisis())
    return RedirectResponse(f"/portal/q/{following}", status_code=303)
