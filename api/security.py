"""Bearer tokens (JWT, HS256) for logged-in users."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import jwt

from core.errors import Unauthorized
from core.settings import Settings

ALGORITHM = "HS256"


def issue_token(settings: Settings, *, user_id: uuid.UUID, now: datetime) -> str:
    claims = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=settings.token_minutes)).timestamp()),
    }
    return jwt.encode(claims, settings.signing_key(), algorithm=ALGORITHM)


def user_id_from_token(settings: Settings, token: str) -> uuid.UUID:
    try:
        claims = jwt.decode(
            token,
            settings.signing_key(),
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub"]},
        )
        return uuid.UUID(claims["sub"])
    except jwt.ExpiredSignatureError:
        raise Unauthorized("your session has expired; log in again") from None
    except (jwt.InvalidTokenError, ValueError):
        raise Unauthorized("the bearer token is not valid; log in again") from None
