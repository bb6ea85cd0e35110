from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import AdminUser, ClientAddress, CurrentUser, SessionDep
from api.schemas import AgencyPublic
from core.clock import utcnow
from domain.agencies import NewAgency, create_agency, list_agencies
from domain.shelters import occupancy
from models.enums import AgencyKind

router = APIRouter(prefix="/agencies", tags=["agencies"])


@router.post("", status_code=status.HTTP_201_CREATED)
def register_agency(
    data: NewAgency,
    admin: AdminUser,
    session: SessionDep,
    address: ClientAddress,
) -> AgencyPublic:
    """Register an agency. `notify_urls` (Apprise URLs) are stored but never returned.

    Registering a consulate moves on the cases that were waiting for one.
    """
    agency, _ = create_agency(session, data=data, now=utcnow(), actor=admin, address=address)
    session.commit()
    return AgencyPublic.of(agency)


@router.get("")
def agencies(user: CurrentUser, session: SessionDep) -> list[AgencyPublic]:
    """All registered agencies, without their notification URLs; shelters with the places
    taken now, so that a coordinator can choose one with room."""
    found = list_agencies(session)
    taken = occupancy(session, [a.id for a in found if a.kind == AgencyKind.shelter])
    return [AgencyPublic.of(a, occupancy=taken.get(a.id)) for a in found]
