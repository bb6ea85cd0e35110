from __future__ import annotations

from fastapi import APIRouter

from api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> Health:
    """Liveness: answers 200 while the API process is serving."""
    return Health()
