"""Jinja2 pages in the user's language (the reports' gettext catalogue), with the session's CSRF token."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from fbss.reports.i18n import LANGUAGES, translations

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"


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
