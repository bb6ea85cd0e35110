"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from api.deps import HealthCheck, Waker
from api.errors import install_error_handlers
from api.limits import RequestSizeLimit
from api.openapi import document_api
from api.routes import (
    agencies,
    auth,
    cases,
    consent,
    health,
    holds,
    notifications,
    tasks,
    transfers,
    users,
)
from core.settings import Settings
from domain.corridors import corridors_for
from web.app import install_pages


def create_app(
    settings: Settings | None = None,
    *,
    wake_case: Waker | None = None,
    prefect_healthy: HealthCheck | None = None,
) -> FastAPI:
    """The API. By default it wakes cases through Prefect and `GET /health` checks Prefect;
    an app given another `wake_case` checks Prefect only if also given `prefect_healthy`."""
    settings = settings or Settings()
    corridors_for(settings)  # raises CorridorConfigError: the API refuses to start
    if wake_case is None:
        from flows.control import prefect_healthy as prefect_check
        from flows.control import wake_case_within as prefect_wake

        wake_case = prefect_wake
        prefect_healthy = prefect_healthy or prefect_check
    app = FastAPI(
        title="Homeward",
        version="0.1.0",
        summary="Repatriation cases of trafficking survivors, moved on agency by agency.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.wake_case = wake_case
    app.state.prefect_healthy = prefect_healthy
    install_error_handlers(app)
    app.add_middleware(RequestSizeLimit, limit=settings.max_request_bytes)
    v1 = APIRouter(prefix="/api/v1")
    for module in (
        health,
        auth,
        agencies,
        users,
        cases,
        consent,
        holds,
        transfers,
        tasks,
        notifications,
    ):
        v1.include_router(module.router)
    app.include_router(v1)
    install_pages(app)
    document_api(app)
    return app
