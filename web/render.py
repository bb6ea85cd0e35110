"""Rendering pages: one Jinja2 environment, every word through gettext.

Templates say `{{ _("...") }}` and `{% trans %}` for every word a person reads, so that
catalogs can give each person their language; until then the words are the English
ones."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from core.clock import as_utc, utcnow
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
environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]


def moment(value: datetime | None) -> str:
    """A moment as agencies read it in every country: ISO date, 24-hour time, UTC."""
    if value is None:
        return ""
    return as_utc(value).strftime("%Y-%m-%d %H:%M UTC")


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d")


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
    values = {
        "request": request,
        "csrf": session.csrf if session is not None else "",
        "signed_in": getattr(request.state, "visitor", None),
        "now": utcnow(),
        **(context or {}),
    }
    body = environment.get_template(template).render(values)
    response = HTMLResponse(body, status_code=status_code)
    if session is not None:
        set_cookie(response, request.app.state.settings, session, utcnow())
    return response
