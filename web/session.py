"""The pages' sign-in: a signed session cookie, its idle expiry and the CSRF token of forms.

The cookie holds a JWT (the API's signing key, HS256) with the user's id, when they signed
in, when the cookie lapses for idleness and a random CSRF token. Every page request that
finds it valid issues it again with a later idle limit, up to `web_session_hours` after
signing in. The CSRF token is the cookie's own: a form carries it in a hidden field, and a
form whose field does not match the cookie it came with is refused with 403. Another site
can make a browser send the cookie (SameSite=Lax stops that only for POSTs from other
sites) but cannot read the token, which lives in an HttpOnly cookie and in pages of this
origin.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import quote

import jwt
from fastapi import Depends, Request, Response

from api.deps import SessionDep, SettingsDep
from core.clock import utcnow
from core.errors import Forbidden, HomewardError
from core.settings import Settings
from domain.access import administers, launches_cases
from domain.agencies import active_user, get_agency
from domain.dashboard import reads_dashboard
from models import User
from models.enums import Role

COOKIE = "homeward_session"
CSRF_FIELD = "csrf"
ALGORITHM = "HS256"
# Tells a session cookie from an API bearer token signed with the same key.
AUDIENCE = "homeward-pages"


class SignInNeeded(HomewardError):
    """No valid session: the page handlers' error handler sends the browser to sign in."""

    status_code = 401
    kind = "Unauthorized"

    def __init__(self, detail: str, *, next_path: str) -> None:
        super().__init__(detail)
        self.next_path = next_path

    def sign_in_url(self) -> str:
        return f"/login?next={quote(self.next_path, safe='/')}"


@dataclass(frozen=True)
class PageSession:
    user_id: uuid.UUID
    signed_in_at: datetime
    csrf: str


def new_session(user_id: uuid.UUID, now: datetime) -> PageSession:
    return PageSession(user_id=user_id, signed_in_at=now, csrf=secrets.token_urlsafe(24))


def set_cookie(response: Response, settings: Settings, page: PageSession, now: datetime) -> None:
    """Issue the cookie (again), valid for another idle period but never past the session's
    end; Secure when Homeward is reached over HTTPS."""
    ends = min(
        now + timedelta(minutes=settings.web_idle_minutes),
        page.signed_in_at + timedelta(hours=settings.web_session_hours),
    )
    claims = {
        "sub": str(page.user_id),
        "aud": AUDIENCE,
        "auth": int(page.signed_in_at.timestamp()),
        "exp": int(ends.timestamp()),
        "csrf": page.csrf,
    }
    response.set_cookie(
        COOKIE,
        jwt.encode(claims, settings.signing_key(), algorithm=ALGORITHM),
        httponly=True,
        samesite="lax",
        secure=settings.resolved_public_url.startswith("https://"),
        path="/",
    )


def clear_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.resolved_public_url.startswith("https://"),
    )


def read_cookie(settings: Settings, value: str | None) -> PageSession | None:
    """The session a cookie holds, or None when it is absent, forged or expired."""
    if not value:
        return None
    try:
        claims = jwt.decode(
            value,
            settings.signing_key(),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["exp", "sub", "auth", "csrf", "aud"]},
        )
        return PageSession(
            user_id=uuid.UUID(claims["sub"]),
            signed_in_at=datetime.fromtimestamp(int(claims["auth"]), tz=utcnow().tzinfo),
            csrf=str(claims["csrf"]),
        )
    except (jwt.InvalidTokenError, ValueError, TypeError):
        return None


def _next_path(request: Request) -> str:
    # A form's own page is where to come back to, not the POST's target.
    path = request.url.path
    if request.method != "GET":
        return "/inbox"
    return f"{path}?{request.url.query}" if request.url.query else path


@dataclass(frozen=True)
class Visitor:
    """The signed-in person behind a page request: the user row for the domain functions,
    and what the pages show of them (kept apart: a rolled-back session expires the row)."""

    user: User
    page: PageSession
    username: str
    role: Role
    agency_id: uuid.UUID
    # Their language: their own choice, else their agency's (web.i18n.choose decides).
    language: str | None = None
    agency_language: str | None = None
    native_digits: bool = False
    # What the navigation offers them, as the domain's policy says.
    launches_cases: bool = False
    reads_dashboard: bool = False
    administers: bool = False


def signed_in(request: Request, session: SessionDep, settings: SettingsDep) -> Visitor:
    page = read_cookie(settings, request.cookies.get(COOKIE))
    if page is None:
        expired = COOKIE in request.cookies
        raise SignInNeeded(
            "your session has ended; sign in again" if expired else "sign in first",
            next_path=_next_path(request),
        )
    try:
        user = active_user(session, page.user_id)
    except HomewardError:
        raise SignInNeeded(
            "this account no longer exists or was deactivated", next_path="/inbox"
        ) from None
    request.state.page_session = page
    visitor = Visitor(
        user=user,
        page=page,
        username=user.username,
        role=user.role,
        agency_id=user.agency_id,
        language=user.language,
        agency_language=get_agency(session, user.agency_id).language,
        native_digits=user.native_digits,
        launches_cases=launches_cases(user),
        reads_dashboard=reads_dashboard(user),
        administers=administers(user),
    )
    request.state.visitor = visitor
    return visitor


VisitorDep = Annotated[Visitor, Depends(signed_in)]


async def submitted_form(request: Request, visitor: Visitor) -> dict[str, str]:
    """The text fields of a posted form, once its CSRF token matched the visitor's."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    check_csrf(visitor, form.get(CSRF_FIELD))
    return form


def check_csrf(visitor: Visitor, submitted: str | None) -> None:
    if not submitted or not hmac.compare_digest(submitted, visitor.page.csrf):
        raise Forbidden(
            "this form is out of date or did not come from Homeward; open the page again "
            "and resend it"
        )


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/inbox"
    return target
