"""The patient portal: a link opens the due questionnaires of one patient on a phone, and nothing else.

Answers are not read in real time, and the portal says so on every page next to the crisis contacts; a PHQ-9
item 9 answer above 0 shows the crisis message at once and opens an urgent alert on the clinician's list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fbss.instruments import InstrumentCatalogue, InstrumentError, score
from fbss.instruments.models import Instrument
from fbss.store.portal import (
    AlreadyAnsweredError,
    LinkClosedError,
    LinkElsewhereError,
    Portal,
    PortalLinkRecord,
    link_author,
)
from fbss.store.records import NewResponse
from fbss.web import numbers
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


def _crisis(request: Request) -> dict[str, Any]:
    """The crisis message and the clinic's crisis contacts (FBSS_CRISIS_CONTACTS), shown on every portal page."""
    contacts = services(request).crisis
    return {"crisis_message": contacts.default_message, "crisis_contacts": contacts.contacts}


@router.get("/portal/open/{token}")
def open_link(request: Request, token: str) -> Response:
    """Exchange the link's token for a portal session, then drop the token from the address bar.

    Opening claims nothing (a link preview or a mail scanner may open it first): the first answer sent claims the
    link for its browser. A browser signed in as staff is never signed out by opening a link."""
    svc = services(request)
    session = request.state.session
    if session.user is not None:
        return render(request, "portal/problem.html", status_code=409, kind="signed_in", **_crisis(request))
    link = Portal(svc.db, user="portal", clock=svc.clock).resolve(token)
    if link is None:
        return render(request, "portal/closed.html", status_code=403, **_crisis(request))
    if session.portal_link_id != link.id:
        session.renew(portal_link_id=link.id, reason="portal_link")
    return RedirectResponse("/portal", status_code=303)


@router.get("/portal")
def portal_home(request: Request, link: OpenLink) -> HTMLResponse:
    svc = services(request)
    wanted, done = _progress(request, link)
    forms = [svc.instruments.get(i) for i in wanted]
    following = next((i for i in wanted if i not in done), None)
    return render(
        request, "portal/home.html", forms=forms, done=done, following=following, link=link, **_crisis(request)
    )


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
        **_crisis(request),
    )


def read_answers(instrument: Instrument, values: dict[str, str]) -> tuple[dict[str, int | float | None], list[str]]:
    """The answers as numbers (an empty answer is None), and the items whose answer is not a number at all."""
    answers: dict[str, int | float | None] = {}
    unreadable = []
    for item in instrument.items:
        raw = values.get(item.id, "").strip()
        answers[item.id] = numbers.whole(raw) if raw else None
        if raw and answers[item.id] is None:  # not '²', '--1' or 5,000 digits
            unreadable.append(item.id)
    return answers, unreadable


@router.post("/portal/q/{instrument_id}")
def submit(
    request: Request,
    instrument_id: str,
    form: CheckedForm,
    link: OpenLink,
) -> Response:
    svc = services(request)
    session = request.state.session
    wanted, done = _progress(request, link)
    if instrument_id not in wanted or instrument_id in done:
        return RedirectResponse("/portal", status_code=303)
    instrument = svc.instruments.get(instrument_id)
    values = text_fields(form)
    answers, unreadable = read_answers(instrument, values)

    def again(error: Exception, urgent: bool) -> HTMLResponse:
        return render(
            request,
            "portal/questionnaire.html",
            status_code=400,
            instrument=instrument,
            questions=questions(instrument),
            answers=values,
            error=error,
            urgent=urgent,
            position=wanted.index(instrument_id) + 1,
            count=len(wanted),
            **_crisis(request),
        )

    try:
        result = score(instrument_id, answers, catalogue=svc.instruments)  # an unreadable answer counts as missing
    except InstrumentError as exc:
        return again(exc, bool(exc.alerts))  # alerts in the valid answers show the crisis message at once
    if unreadable:
        return again(
            InstrumentError(f"{', '.join(unreadable)}: choose one of the answers", result.alerts), bool(result.alerts)
        )
    response = NewResponse(instrument_id, dict(answers), result.model_dump(mode="json"), svc.clock(), link.time_point)
    try:
        submitted = _store(request, link).submit(link.id, session.record.id, response, wanted)
    except AlreadyAnsweredError:
        return RedirectResponse("/portal", status_code=303)
    except LinkElsewhereError:
        return render(request, "portal/problem.html", status_code=409, kind="elsewhere", **_crisis(request))
    except LinkClosedError:
        return render(request, "portal/closed.html", status_code=403, **_crisis(request))
    done = done | {instrument_id}
    if submitted.finished:
        session.forget()  # the link is spent and its sessions ended: this browser can open nothing more with it
    following = next((i for i in wanted if i not in done), None)
    if result.alerts:
        alert = result.alerts[0]
        message = next(a.patient_message for a in instrument.alerts if a.id == alert.alert_id)
        return render(
            request,
            "portal/urgent.html",
            message=message,
            following=following,
            finished=submitted.finished,
            **_crisis(request),
        )
    if submitted.finished:
        return render(request, "portal/done.html", **_crisis(request))
    return RedirectResponse(f"/portal/q/{following}", status_code=303)
