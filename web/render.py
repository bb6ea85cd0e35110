"""Rendering pages: one Jinja2 environment, every word through gettext.

Templates say `{{ _("...") }}` for every word a person reads; `page` gives them the
person's language (web/i18n.py), its direction and its numbers."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from core.clock import as_utc, utcnow
from web.i18n import LANGUAGES, Speech, choose, native_name
from web.session import CSRF_FIELD, set_cookie
from web.words import WORDS

TEMPLATES = Path(__file__).parent / "templates"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
# Before a request's own words are given (each page passes its person's): English.
environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]

# A language chosen before signing in (on the sign-in page).
LANGUAGE_COOKIE = "homeward_language"


@pass_context
def moment(context: Context, value: datetime | None) -> str:
    """A moment as agencies read it in every country: ISO date, 24-hour time, UTC."""
    if value is None:
        return ""
    return _digits(context, as_utc(value).strftime("%Y-%m-%d %H:%M UTC"))


@pass_context
def day(context: Context, value: date | datetime | None) -> str:
    if value is None:
        return ""
    return _digits(context, value.strftime("%Y-%m-%d"))


def _digits(context: Context, text: str) -> str:
    speech = context.get("speech")
    return speech.digits(text) if isinstance(speech, Speech) else text


def speech_for(request: Request) -> Speech:
    """The person's language: their choice, their agency's, their browser's, English."""
    visitor = getattr(request.state, "visitor", None)
    accept = request.headers.get("accept-language")
    if visitor is None:
        language = choose(
            chosen=request.cookies.get(LANGUAGE_COOKIE), agency=None, accept_language=accept
        )
        return Speech(language)
    language = choose(
        chosen=visitor.language, agency=visitor.agency_language, accept_language=accept
    )
    return Speech(language, native_digits=visitor.native_digits)


environment.filters["moment"] = moment
environment.filters["day"] = day
environment.globals["words"] = WORDS
environment.globals["CSRF_FIELD"] = CSRF_FIELD


def page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """The page, with the session cookie issued again (its idle limit moves on)."""
    session = getattr(request.state, "page_session", None)
    speech = speech_for(request)
    values = {
        **speech.callables(),
        "speech": speech,
        "lang": speech.language,
        "direction": speech.direction,
        "num": speech.number,
        "languages": [(code, native_name(code)) for code in LANGUAGES],
        "request": request,
        "csrf": session.csrf if session is not None else "",
        "signed_in": getattr(request.state, "visitor", None),
        "now": utcnow(),
        **(context or {}),
    }
    body = environment.get_template(template).render(values)
    response = HTMLResponse(
        body, status_code=status_code, headers={"Content-Language": speech.language}
    )
    if session is not None:
        set_cookie(response, request.app.state.settings, session, utcnow())
    return response
