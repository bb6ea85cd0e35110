from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import AdminUser, SessionDep
from api.schemas import UserPublic
from core.clock import utcnow
from domain.agencies import NewUser, create_user

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED)
def register_user(data: NewUser, admin: AdminUser, session: SessionDep) -> UserPublic:
    """Create an account in an agency, with a role that agency's kind can hold."""
    user = create_user(session, data=data, now=utcnow())
    session.commit()
    return UserPublic.of(user)
