from __future__ import annotations

from fastapi import APIRouter

from api.deps import CaseId, ClientAddress, CurrentUser, SessionDep
from api.schemas import CaseConsent
from core.clock import utcnow
from domain.consent import ConsentChange, change_consent

router = APIRouter(prefix="/cases", tags=["cases"])


@router.post("/{case_id}/consent")
def record_consent(
    case_id: CaseId,
    change: ConsentChange,
    address: ClientAddress,
    user: CurrentUser,
    session: SessionDep,
) -> CaseConsent:
    """Record the survivor's consent per purpose (coordinating NGO only).

    Withdrawing consent to repatriation or to data sharing halts the case: open tasks are
    withdrawn and their agencies told only that the case is halted. Giving it again resumes
    the case where it stopped. Withdrawing consent to follow-up contact closes the case
    instead of further follow-ups."""
    case = change_consent(
        session, user=user, case_id=case_id, change=change, now=utcnow(), address=address
    )
    session.commit()
    return CaseConsent(
        id=case.id,
        reference=case.reference,
        stage=case.stage,
        status=case.status,
        consent={
            "repatriation": case.consent_repatriation,
            "data_sharing": case.consent_data_sharing,
            "follow_up": case.consent_follow_up,
        },
    )
