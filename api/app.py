"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from api.deps import Waker
from api.errors import install_error_handlers
from api.routes import agencies, auth, cases, consent, health, tasks, users
from core.settings import Settings


def create_app(settings: Settings | None = None, *, wake_case: Waker | None = None) -> FastAPI:
    settings = settings or Settings()
    if wake_case is None:
        from flows.control import wake_case_within as prefect_wake

        wake_case = prefect_wake
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
    install_error_handlers(app)
    v1 = APIRouter(prefix="/api/v1")
    for module in (health, auth, agencies, users, cases, consent, tasks):
        v1.include_router(module.router)
    app.include_router(v1)
    return app
