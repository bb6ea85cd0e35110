from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import SettingsDep
from api.errors import RETRY_AFTER_SECONDS
from api.schemas import Check, Health, Liveness
from core.db import ping

logger = logging.getLogger("homeward.api")
router = APIRouter(prefix="/health", tags=["health"])

# Each dependency gets this long to answer; both are asked at once.
CHECK_TIMEOUT_SECONDS = 2.0

UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {
        "model": Health,
        "description": "A dependency is down: `checks` says which; `Retry-After` says when "
        "to ask again. The body also carries `error` and `detail` like every error.",
    }
}


@router.get("", response_model=Health, responses=UNAVAILABLE)
async def health(request: Request, settings: SettingsDep) -> Health | JSONResponse:
    """Readiness: 200 when the database and Prefect both answer within a couple of
    seconds, else 503 naming the one that does not. No login needed."""
    checks: dict[str, Any] = {"database": asyncio.to_thread(_database_up, settings)}
    prefect_up = request.app.state.prefect_healthy
    if prefect_up is not None:
        checks["prefect"] = asyncio.to_thread(prefect_up)
    answers = await asyncio.gather(*checks.values())
    results: dict[str, Check] = {
        name: "ok" if up else "unavailable" for name, up in zip(checks, answers, strict=True)
    }
    down = [name for name, result in results.items() if result != "ok"]
    if not down:
        return Health(checks=results)
    return JSONResponse(
        {
            **Health(status="unavailable", checks=results).model_dump(mode="json"),
            "error": "ServiceUnavailable",
            "detail": f"unavailable: {', '.join(down)}",
        },
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@router.get("/live")
def live() -> Liveness:
    """Liveness: 200 while the API process serves requests; checks nothing else."""
    return Liveness()


def _database_up(settings: SettingsDep) -> bool:
    try:
        ping(settings.resolved_database_url, timeout_seconds=CHECK_TIMEOUT_SECONDS)
    except Exception as error:  # whatever the failure, the database is not answering
        logger.warning("database health check failed: %s", type(error).__name__)
        return False
    return True
