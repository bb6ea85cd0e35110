"""Remembering the first answer to a request sent with an idempotency key.

A key is claimed by inserting its row in the transaction that does the request's work, and
the answer is written into that row before the same commit: a committed key always has its
answer, and work that was committed always has its key. The row's unique constraint makes
concurrent requests with one key queue behind the first: PostgreSQL holds the second insert
until the first transaction ends, SQLite never runs two write transactions at once. The
second then finds the committed row and gets its answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from core.errors import Conflict, Invalid
from models import IdempotencyKey

# How long a request waits for an earlier one with the same key to finish before it is
# told to come back (PostgreSQL; on SQLite the database's own busy timeout applies).
IN_PROGRESS_WAIT_SECONDS = 10
_LOCK_NOT_AVAILABLE = "55P03"


class KeyInProgress(Conflict):
    """An earlier request with the same key is still running."""

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


@dataclass(frozen=True)
class Claim:
    """This transaction holds the key: do the work, then `remember_answer`."""

    id: uuid.UUID


@dataclass(frozen=True)
class StoredAnswer:
    """The key was used before, for the same request: answer as the first time."""

    status_code: int
    body: Any
    case_id: uuid.UUID | None


def claim_key(
    session: Session,
    *,
    user_id: uuid.UUID,
    route: str,
    key: str,
    fingerprint: str,
    now: datetime,
    lifetime: timedelta,
) -> Claim | StoredAnswer:
    """Claim `key` for this request, or return the answer given to its first use.

    Raises Invalid when the key was used for another request (another body or path),
    KeyInProgress when the first request still runs after IN_PROGRESS_WAIT_SECONDS.
    """
    new_id = uuid.uuid4()
    values = {
        "id": new_id,
        "user_id": user_id,
        "route": route,
        "key": key,
        "fingerprint": fingerprint,
        "created_at": now,
        "expires_at": now + lifetime,
    }
    postgresql = session.get_bind().dialect.name == "postgresql"
    insert = postgresql_insert if postgresql else sqlite_insert
    statement = (
        insert(IdempotencyKey)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["user_id", "route", "key"])
        .returning(col(IdempotencyKey.id))
    )
    with _bounded_wait(session, postgresql):
        inserted = session.execute(statement).first()
    if inserted is not None:
        return Claim(new_id)
    row = _find(session, user_id=user_id, route=route, key=key)
    if row.expires_at <= now:
        # A key past its lifetime is forgotten: this request starts afresh under it. The
        # guard lets one of several such requests take it over; the others wait for it.
        with _bounded_wait(session, postgresql):
            taken = session.execute(
                update(IdempotencyKey)
                .where(col(IdempotencyKey.id) == row.id, col(IdempotencyKey.expires_at) <= now)
                .values(
                    {k: v for k, v in values.items() if k != "id"}
                    | {"status_code": None, "response": None, "case_id": None}
                )
            ).rowcount  # type: ignore[attr-defined]
        if taken == 1:
            return Claim(row.id)
        row = _find(session, user_id=user_id, route=route, key=key)
    if row.fingerprint != fingerprint:
        raise Invalid(
            "this Idempotency-Key was already used for another request (another body or "
            "task); send a new key for a new request"
        )
    if row.status_code is None:
        raise KeyInProgress("a request with this Idempotency-Key is in progress; try again")
    return StoredAnswer(row.status_code, row.response, row.case_id)


def remember_answer(
    session: Session,
    claim: Claim,
    *,
    status_code: int,
    body: Any,
    case_id: uuid.UUID | None = None,
) -> None:
    """Store the answer with the claimed key; it commits with the request's work."""
    session.execute(
        update(IdempotencyKey)
        .where(col(IdempotencyKey.id) == claim.id)
        .values(status_code=status_code, response=body, case_id=case_id)
    )


def prune_expired_keys(session: Session, *, now: datetime, limit: int = 500) -> int:
    """Delete up to `limit` keys past their lifetime; rows another transaction holds are
    skipped (PostgreSQL), so pruning never waits for or blocks a request."""
    doomed = (
        select(IdempotencyKey.id)
        .where(col(IdempotencyKey.expires_at) <= now)
        .order_by(col(IdempotencyKey.expires_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = session.execute(
        delete(IdempotencyKey).where(col(IdempotencyKey.id).in_(doomed.scalar_subquery()))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _find(session: Session, *, user_id: uuid.UUID, route: str, key: str) -> IdempotencyKey:
    return session.exec(
        select(IdempotencyKey)
        .where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.route == route,
            IdempotencyKey.key == key,
        )
        .execution_options(populate_existing=True)
    ).one()


@contextmanager
def _bounded_wait(session: Session, postgresql: bool) -> Iterator[None]:
    """Wait at most IN_PROGRESS_WAIT_SECONDS for a row another transaction holds."""
    if not postgresql:
        yield
        return
    session.execute(text(f"SET LOCAL lock_timeout = '{IN_PROGRESS_WAIT_SECONDS}s'"))
    try:
        yield
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise KeyInProgress(
                "a request with this Idempotency-Key is in progress; try again"
            ) from None
        raise
    session.execute(text("SET LOCAL lock_timeout = DEFAULT"))
