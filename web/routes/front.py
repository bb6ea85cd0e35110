"""The front door: signing in and out."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status
from fastapi.responses import RedirectResponse

from api.deps import ClientAddress, SessionDep, SettingsDep
from core.clock import utcnow
from core.languages import spoken
from domain.agencies import TooManyLogins, authenticate, set_language
from domain.audit import Action, record_audit
from web.render import LANGUAGE_COOKIE, page
from web.session import (
    COOKIE,
    CSRF_FIELD,
    VisitorDep,
    check_csrf,
    clear_cookie,
    new_session,
    read_cookie,
    safe_next,
    set_cookie,
)
from web.words import N_

router = APIRouter(include_in_schema=False)

# The sign-in form's own CSRF token, before there is a session to hold one.
LOGIN_COOKIE = "homeward_login"


@router.get("/")
def front_door(request: Request, settings: SettingsDep) -> Response:
    if read_cookie(settings, request.cookies.get(COOKIE)) is not None:
        return RedirectResponse("/inbox", status_code=status.HTTP_303_SEE_OTHER)
    return _sign_in_page(request, settings, next_path="/inbox")


@router.get("/login")
def login_page(request: Request, settings: SettingsDep, next: str | None = None) -> Response:
    return _sign_in_page(request, settings, next_path=safe_next(next))


def _sign_in_page(
    request: Request,
    settings: SettingsDep,
    *,
    next_path: str,
    username: str = "",
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    token = secrets.token_urlsafe(24)
    response = page(
        request,
        "login.html",
        {"next": next_path, "username": username, "problem": problem, "login_csrf": token},
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.resolved_public_url.startswith("https://"),
        path="/login",
        max_age=3600,
    )
    return response


@router.post("/login")
def sign_in(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/inbox",
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    target = safe_next(next)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf):
        return _sign_in_page(
            request,
            settings,
            next_path=target,
            username=username,
            problem=N_("The sign-in form was out of date; sign in again."),
            status_code=status.HTTP_403_FORBIDDEN,
        )
    now = utcnow()
    try:
        user = authenticate(session, username=username, password=password, address=address, now=now)
    except TooManyLogins as refusal:
        return _sign_in_page(
            request,
            settings,
            next_path=target,
            username=username,
            problem=refusal.detail,
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        )
    # Committed for a failure too: the audit entry is what the next attempt counts.
    session.commit()
    if user is None:
        return _sign_in_page(
            request,
            settings,
            next_path=target,
            username=username,
            problem=N_("Wrong username or password."),
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    set_cookie(response, settings, new_session(user.id, now), now)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def sign_out(
    visitor: VisitorDep,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(visitor, csrf)
    record_audit(session, action=Action.logout, at=utcnow(), user=visitor.user, address=address)
    session.commit()
    response = RedirectResponse("/login?signed_out=1", status_code=status.HTTP_303_SEE_OTHER)
    clear_cookie(response, settings)
    return response


@router.post("/language")
def change_language(
    visitor: VisitorDep,
    session: SessionDep,
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    language: Annotated[str, Form()] = "",
    native_digits: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/inbox",
) -> Response:
    """Remember the signed-in person's language (empty: their agency's) and digits."""
    check_csrf(visitor, csrf)
    set_language(
        session,
        user=visitor.user,
        language=language or None,
        native_digits=native_digits == "yes",
    )
    session.commit()
    return RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)


@router.get("/language")
def language_before_sign_in(
    settings: SettingsDep, lang: str = "", next: str = "/login"
) -> Response:
    """The sign-in page's language links: kept in a cookie of this browser only."""
    response = RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    chosen = spoken(lang)
    if chosen is not None:
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            httponly=True,
            samesite="lax",
            secure=settings.resolved_public_url.startswith("https://"),
            max_age=365 * 24 * 3600,
        )
    return response
