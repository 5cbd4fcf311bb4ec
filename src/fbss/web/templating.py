"""Jinja2 pages in the user's language (the reports' gettext catalogue), with the session's CSRF token."""

from __future__ import annotations

import datetime as dt
import os
import re
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from fbss.errors import FbssError
from fbss.reports.care_wording import effect_text
from fbss.reports.i18n import LANGUAGES, translations
from fbss.reports.wording import ask_next, asks, fired_by_text, joined, likelihood_ratio, since_surgery_text

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"


TIMEZONE_VARIABLE = "FBSS_TIMEZONE"


@cache
def clinic_zone() -> dt.tzinfo:
    """The clinic's time zone for every time shown: `FBSS_TIMEZONE` (e.g. Europe/Madrid), else this computer's."""
    name = os.environ.get(TIMEZONE_VARIABLE, "").strip()
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise FbssError(f"{TIMEZONE_VARIABLE}: {name!r} is not a time zone; expected e.g. Europe/Madrid") from None
    zone = dt.datetime.now().astimezone().tzinfo
    return zone or dt.UTC


def local_time(moment: dt.datetime, *, seconds: bool = False) -> str:
    """A stored moment (UTC) in the clinic's time zone, with the zone's abbreviation: '2026-12-03 14:05 CET'."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(clinic_zone()).strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def tel_link(phone: str) -> str:
    """A phone number as written ('116 123', '+34 900 925 555') as a tap-to-call address."""
    return "tel:" + re.sub(r"[^0-9+*#]", "", phone)


def local_date(moment: dt.datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(clinic_zone()).date().isoformat()


@cache
def environment(lang: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=False)  # type: ignore[attr-defined]
    env.globals.update(
        asks=asks,
        fired_by=fired_by_text,
        local_time=local_time,
        local_date=local_date,
        lr=likelihood_ratio,
        joined=joined,
        ask_next=ask_next,
        effect_text=effect_text,
        since_surgery=since_surgery_text,
    )
    env.filters["tel"] = tel_link
    return env


def language(request: Request) -> str:
    lang = request.state.session.lang
    return lang if lang in LANGUAGES else "en"


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page: the template with the request, session, CSRF token, signed-in user and language."""
    lang = language(request)
    session = request.state.session
    html = (
        environment(lang)
        .get_template(template)
        .render(
            request=request,
            csrf=session.csrf,
            user=getattr(request.state, "user", None),
            lang=lang,
            languages=LANGUAGES,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code)
