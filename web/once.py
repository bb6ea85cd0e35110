"""A form sent twice records once: each form carries a key made when it was shown.

The page puts a fresh key in a hidden field (the browser's script replaces it with one of
its own when it keeps a draft, and keeps it until the answer comes). The first submission
claims the key with the same table the API's `Idempotency-Key` uses; a resend after a
dropped connection finds the key answered and is sent where the first one went."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import timedelta

from sqlmodel import Session

from core.clock import utcnow
from core.errors import Invalid
from core.settings import Settings
from domain.idempotency import Claim, StoredAnswer, claim_key, remember_answer
from web.session import CSRF_FIELD

KEY_FIELD = "idempotency_key"
_MAX_KEY_LENGTH = 255
_NOT_THE_REQUEST = frozenset({CSRF_FIELD, KEY_FIELD})


def new_key() -> str:
    return str(uuid.uuid4())


def claim_form(
    session: Session,
    settings: Settings,
    *,
    user_id: uuid.UUID,
    route: str,
    path: str,
    form: Mapping[str, str],
) -> Claim | StoredAnswer | None:
    """This submission's claim on its key, the first answer to it, or None without a key."""
    key = form.get(KEY_FIELD, "")
    if not key:
        return None
    if len(key) > _MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise Invalid("the form's key is not valid; open the page again and resend it")
    digest = hashlib.sha256(f"POST {path}".encode())
    for name in sorted(form):
        if name not in _NOT_THE_REQUEST:
            for part in (name, form[name]):
                data = part.encode()
                digest.update(len(data).to_bytes(8, "big") + data)
    return claim_key(
        session,
        user_id=user_id,
        route=f"PAGE {route}"[:120],
        key=key,
        fingerprint=digest.hexdigest(),
        now=utcnow(),
        lifetime=timedelta(hours=settings.idempotency_key_hours),
    )


def remember_location(
    session: Session,
    claim: Claim | StoredAnswer | None,
    location: str,
    case_id: uuid.UUID | None,
) -> None:
    if isinstance(claim, Claim):
        remember_answer(
            session, claim, status_code=303, body={"location": location}, case_id=case_id
        )


def replayed_location(answer: StoredAnswer) -> str:
    body = answer.body if isinstance(answer.body, dict) else {}
    location = body.get("location")
    return location if isinstance(location, str) and location.startswith("/") else "/inbox"
