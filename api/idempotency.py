"""The `Idempotency-Key` header: a repeated request gets the first answer, not a second effect.

A route takes `idempotency: IdempotencyDep` and, before it commits, calls
`idempotency.remember(session, status, answer, case_id=...)`. The dependency claims the key
in the request's transaction (see domain.idempotency); when the key was used before for
the same request it answers at once, as the first time, with `Idempotent-Replayed: true`.
Only successful answers are remembered: a request that fails leaves nothing behind (its
transaction is rolled back), so sending it again with the same key tries it again.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import Session

from api.deps import ClientAddress, CurrentUser, SessionDep, SettingsDep
from core.clock import utcnow
from core.errors import Invalid
from domain.audit import Action, record_audit
from domain.idempotency import Claim, StoredAnswer, claim_key, prune_expired_keys, remember_answer

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Expired keys are pruned by the requests that bring new ones, at most this often per process.
PRUNE_EVERY_SECONDS = 60.0

KEY_DESCRIPTION = (
    "Optional. A unique value (e.g. a UUID) the client makes for this request and sends "
    "again when it retries. A repeat with the same key returns the first answer (same "
    "status and body, with `Idempotent-Replayed: true`) without doing anything again; the "
    "same key with another request is refused with 422. Keys are per user and route and "
    "are remembered for HOMEWARD_IDEMPOTENCY_KEY_HOURS (24 h by default)."
)


class Replay(Exception):
    """Raised by the dependency to answer with a stored response; rendered in api/errors.py."""

    def __init__(self, answer: StoredAnswer) -> None:
        super().__init__("replayed answer")
        self.answer = answer

    def response(self) -> JSONResponse:
        return JSONResponse(
            self.answer.body,
            status_code=self.answer.status_code,
            headers={REPLAYED_HEADER: "true"},
        )


@dataclass(frozen=True)
class _Requested:
    key: str
    route: str
    fingerprint: str


async def _requested(
    request: Request,
    key: Annotated[
        str | None, Header(alias=HEADER, description=KEY_DESCRIPTION, max_length=MAX_KEY_LENGTH)
    ] = None,
) -> _Requested | None:
    """The key and what identifies the request: read here because the body is async."""
    if key is None:
        return None
    if not key or not key.isascii() or not key.isprintable():
        raise Invalid(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters")
    body = await request.body()
    try:
        # Same JSON, same request: key order and spacing do not make a retry another one.
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.url.path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big") + part)
    route = getattr(request.scope.get("route"), "path", request.url.path)
    return _Requested(key, f"{request.method} {route}"[:120], digest.hexdigest())


class Idempotency:
    """This request's claim on its key, if it sent one."""

    def __init__(self, claim: Claim | None) -> None:
        self.claim = claim

    def remember(
        self,
        session: Session,
        status_code: int,
        answer: BaseModel,
        *,
        case_id: uuid.UUID | None = None,
    ) -> None:
        """Store the answer with the key, in the request's transaction (before its commit)."""
        if self.claim is not None:
            body: Any = answer.model_dump(mode="json")
            remember_answer(
                session, self.claim, status_code=status_code, body=body, case_id=case_id
            )


_last_prune = 0.0


def idempotency(
    requested: Annotated[_Requested | None, Depends(_requested)],
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
) -> Idempotency:
    if requested is None:
        return Idempotency(None)
    now = utcnow()
    _prune_now_and_then(session)
    outcome = claim_key(
        session,
        user_id=user.id,
        route=requested.route,
        key=requested.key,
        fingerprint=requested.fingerprint,
        now=now,
        lifetime=timedelta(hours=settings.idempotency_key_hours),
    )
    if isinstance(outcome, Claim):
        return Idempotency(outcome)
    if outcome.case_id is not None:
        record_audit(
            session,
            action=Action.replay_answer,
            at=now,
            user=user,
            case_id=outcome.case_id,
            address=address,
            route=requested.route,
            status=outcome.status_code,
        )
    session.commit()
    raise Replay(outcome)


def _prune_now_and_then(session: Session) -> None:
    global _last_prune
    if time.monotonic() - _last_prune < PRUNE_EVERY_SECONDS:
        return
    _last_prune = time.monotonic()
    prune_expired_keys(session, now=utcnow())


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
