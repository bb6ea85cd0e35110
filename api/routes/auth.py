from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import ClientAddress, SessionDep, SettingsDep
from api.schemas import Token
from api.security import issue_token
from core.clock import utcnow
from core.errors import Unauthorized
from domain.agencies import authenticate

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    responses={
        status.HTTP_401_UNAUTHORIZED: {"description": "Wrong username or password."},
        status.HTTP_429_TOO_MANY_REQUESTS: {
            "description": "Too many failed logins for this username or from this address "
            "in the last 15 minutes; `Retry-After` says how many seconds to wait."
        },
    },
)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
) -> Token:
    """Exchange a username and password for a bearer token.

    After 5 failed logins for a username, or from an address, within 15 minutes, further
    attempts are refused with 429 until the oldest failure is 15 minutes old.
    """
    now = utcnow()
    # A lockout (429 with Retry-After) propagates as it is.
    user = authenticate(
        session, username=form.username, password=form.password, address=address, now=now
    )
    # Committed for a failure too: the audit entry is what the next attempt counts.
    session.commit()
    if user is None:
        raise Unauthorized("wrong username or password")
    token = issue_token(settings, user_id=user.id, now=now)
    return Token(access_token=token, expires_in=settings.token_minutes * 60)
