"""The coordinating NGO's dashboard: counts of its cases, each linking to the list."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.deps import SessionDep
from core.clock import utcnow
from domain.dashboard import caseload_for
from web.render import page
from web.session import VisitorDep
from web.words import STAGES

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
def dashboard(request: Request, visitor: VisitorDep, session: SessionDep) -> Response:
    caseload = caseload_for(session, user=visitor.user, now=utcnow())
    return page(request, "dashboard.html", {"caseload": caseload, "stages": STAGES})
