from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api.deps import AdminUser, SessionDep
from api.schemas import UserPublic
from core.clock import utcnow
from domain.agencies import NewUser, create_user, deactivate_user

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED)
def register_user(data: NewUser, admin: AdminUser, session: SessionDep) -> UserPublic:
    """Create an account in an agency, with a role that agency's kind can hold."""
    user = create_user(session, data=data, now=utcnow(), actor=admin)
    session.commit()
    return UserPublic.of(user)


@router.post("/{user_id}/deactivate")
def deactivate(user_id: uuid.UUID, admin: AdminUser, session: SessionDep) -> UserPublic:
    """Deactivate an account: its tokens stop working at once and it can no longer log in.

    An administrator cannot deactivate their own account (409).
    """
    user = deactivate_user(session, user_id=user_id, actor=admin, now=utcnow())
    session.commit()
    return UserPublic.of(user)
