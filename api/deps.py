"""Dependencies shared by the routes: settings, the request's session, the current user."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated

import anyio
from fastapi import BackgroundTasks, Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from api.security import user_id_from_token
from core.db import concurrent_sessions, engine_for
from core.errors import Unauthorized
from core.settings import Settings
from domain.access import require_admin
from domain.agencies import active_user
from domain.cases import REFERENCE_EXAMPLE, case_id_for
from domain.wakes import forget_wake, take_committed_wakes
from models import User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

# Wakes a case's flow run after a commit; True when the workflow engine took the wake.
Waker = Callable[[Settings, uuid.UUID], bool]
# Whether a service the API needs answers (e.g. flows.control.prefect_healthy).
HealthCheck = Callable[[], bool]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def session_slot(request: Request, settings: SettingsDep) -> AsyncIterator[None]:
    """Wait, without holding a thread, until this process may open another session.

    FastAPI runs each sync dependency and the route in its own call to the thread pool.
    A request whose transaction holds a lock (SQLite's write lock, an Idempotency-Key row)
    needs a thread again after each step; were every thread blocked on that lock, it would
    never get one. Bounding the sessions well below the threads rules that out.
    """
    state = request.app.state
    if getattr(state, "session_slots", None) is None:
        state.session_slots = anyio.Semaphore(concurrent_sessions(settings.resolved_database_url))
    async with state.session_slots:
        yield


def get_waker(request: Request) -> Waker:
    waker: Waker = request.app.state.wake_case
    return waker


WakerDep = Annotated[Waker, Depends(get_waker)]


def get_session(
    settings: SettingsDep,
    wake: WakerDep,
    background: BackgroundTasks,
    _slot: Annotated[None, Depends(session_slot, scope="function")],
) -> Iterator[Session]:
    """The request's unit of work: routes commit; anything unfinished is rolled back. Each
    case whose wake a committed decision requested (domain.wakes) is then woken once, after
    the response, unless the route woke it itself (`wake_now`)."""
    with Session(engine_for(settings.resolved_database_url), expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()
            for case_id in take_committed_wakes(session):
                background.add_task(wake, settings, case_id)


# Function scope: the transaction ends when the route returns, before the response and its
# background tasks (which open their own sessions; on SQLite they would wait for this one).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_current_user(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User:
    if token is None:
        raise Unauthorized("log in first: send Authorization: Bearer <token>")
    return active_user(session, user_id_from_token(settings, token))


CurrentUser = Annotated[User, Depends(get_current_user)]


CASE_KEY_DESCRIPTION = (
    "The case: its id (a UUID) or its reference as every notification carries it "
    f"(e.g. `{REFERENCE_EXAMPLE}`, in any letter case)."
)


def get_case_id(
    _user: CurrentUser,
    session: SessionDep,
    case_id: Annotated[
        str,
        Path(
            description=CASE_KEY_DESCRIPTION,
            examples=["123e4567-e89b-42d3-a456-426614174000", REFERENCE_EXAMPLE],
        ),
    ],
) -> uuid.UUID:
    """The id of the case the path names, by id or by reference.

    Access is not decided here: the route's domain function applies its rule to the id,
    so a reference is answered exactly as the id it names (and one of no case exactly as
    an unknown id). The caller is authenticated first, so a 401 comes before a 422."""
    return case_id_for(session, case_id)


CaseId = Annotated[uuid.UUID, Depends(get_case_id)]


def wake_now(session: Session, settings: Settings, wake: Waker, case_id: uuid.UUID) -> bool:
    """After the decision's commit, wake its case before answering: True when the engine
    took the wake. The other cases the decision moved are woken after the response."""
    forget_wake(session, case_id)
    return wake(settings, case_id)


def get_admin(user: CurrentUser) -> User:
    return require_admin(user)


AdminUser = Annotated[User, Depends(get_admin)]


def client_address(request: Request) -> str | None:
    """The caller's address as the server saw it, for the audit log."""
    # The audit column holds 64 characters; an IPv6 address needs at most 45.
    return request.client.host[:64] if request.client else None


ClientAddress = Annotated[str | None, Depends(client_address)]
