"""The pages' part of the application: routes, static files, error pages, security headers.

Every path outside `/api/` and the API's documentation is a page. An error raised while
answering a page is shown as a page (a 404 looks the same whether the case does not exist
or is not yours); an error of the JSON API stays JSON."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import HomewardError
from web.render import page
from web.routes import admin, case_actions, cases, dashboard, front, work
from web.session import SignInNeeded
from web.words import N_

STATIC = Path(__file__).parent / "static"

# No inline script or style anywhere: every script and style sheet is a file of Homeward's.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
# Files change only with a release; a page (which holds survivor data) is never cached.
STATIC_CACHE = "public, max-age=3600"

_NOT_PAGES = ("/api/", "/docs")


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(_NOT_PAGES)


class SecurityHeaders:
    """The security headers on every page's answer; the API's answers pass untouched (a
    plain ASGI middleware: nothing wraps the API's requests)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(_NOT_PAGES):
            await self.app(scope, receive, send)
            return
        static = path.startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if static:
                    headers["Cache-Control"] = STATIC_CACHE
            await send(message)

        await self.app(scope, receive, with_headers)


Handler = Callable[[Request, Any], Response | Awaitable[Response]]

# What a person is told for each error status, when the error's own words are not theirs.
_HEADINGS = {
    400: N_("This request could not be read"),
    401: N_("Sign in first"),
    403: N_("This is not yours to do"),
    404: N_("Not found"),
    405: N_("This page cannot be used that way"),
    409: N_("Someone else got there first"),
    413: N_("What you sent is too large"),
    422: N_("Something in the form needs fixing"),
    429: N_("Too many attempts"),
    503: N_("Homeward is busy or its database is down"),
}


def error_page(request: Request, status_code: int, detail: str | None) -> Response:
    # A 404 says nothing of why: no such case and not your case read the same.
    shown = None if status_code in (404, 500) else detail
    response = page(
        request,
        "error.html",
        {"status_code": status_code, "heading": _HEADINGS.get(status_code), "detail": shown},
        status_code=status_code,
    )
    return response


def _page_or(previous: Handler) -> Handler:
    async def answer_of(request: Request, exc: Exception) -> Response:
        answer = previous(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    async def handle(request: Request, exc: Exception) -> Response:
        if not is_page(request):
            return await answer_of(request, exc)
        if isinstance(exc, SignInNeeded):
            return RedirectResponse(exc.sign_in_url(), status_code=303)
        if isinstance(exc, HomewardError):
            return error_page(request, exc.status_code, exc.detail)
        if isinstance(exc, RequestValidationError):
            # A malformed id in a page's path: as if there were no such thing.
            return error_page(request, 404, None)
        if isinstance(exc, StarletteHTTPException):
            return error_page(request, exc.status_code, None)
        answer = await answer_of(request, exc)  # logs it, by kind only
        return error_page(request, answer.status_code, None)

    return handle


def install_pages(app: FastAPI) -> None:
    for module in (front, work, cases, case_actions, dashboard, admin):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for kind, previous in list(app.exception_handlers.items()):
        app.exception_handlers[kind] = _page_or(previous)
    app.add_middleware(SecurityHeaders)
