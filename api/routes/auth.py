from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import SessionDep, SettingsDep
from api.schemas import Token
from api.security import issue_token
from core.clock import utcnow
from domain.agencies import authenticate

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token")
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    """Exchange a username and password for a bearer token."""
    user = authenticate(session, username=form.username, password=form.password)
    token = issue_token(settings, user_id=user.id, now=utcnow())
    return Token(access_token=token, expires_in=settings.token_minutes * 60)
