"""Every error leaves as JSON {"error": kind, "detail": message}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.idempotency import Replay
from core.errors import HomewardError
from core.validation import describe_validation_errors

logger = logging.getLogger("homeward.api")

_KIND_BY_STATUS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "ValidationError",
    429: "TooManyRequests",
    503: "ServiceUnavailable",
}


class ErrorBody(BaseModel):
    """Every answer that is not a success."""

    model_config = ConfigDict(extra="forbid")

    error: str
    detail: str


JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def error_response(
    status: int, kind: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": kind, "detail": detail}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HomewardError)
    async def _domain(_: Request, exc: HomewardError) -> JSONResponse:
        return error_response(exc.status_code, exc.kind, exc.detail, exc.headers or None)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        wrong_media = _wrong_media_type(request, exc)
        if wrong_media is not None:
            return error_response(415, "UnsupportedMediaType", wrong_media)
        detail = describe_validation_errors(exc.errors(), body_fields=_required_fields(request))
        return error_response(422, "ValidationError", detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        unreadable = _unreadable_body(exc)
        if unreadable is not None:
            return error_response(422, "ValidationError", unreadable)
        kind = _KIND_BY_STATUS.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) else kind
        return error_response(exc.status_code, kind, detail, getattr(exc, "headers", None))

    @app.exception_handler(Replay)
    async def _replay(_: Request, exc: Replay) -> JSONResponse:
        return exc.response()

    # The database refused or lost the connection (stopped, unreachable, file unreadable,
    # locked beyond the busy timeout) or every pooled connection is busy: the client may
    # retry, so 503 with Retry-After rather than 500. Raised at session start, in the
    # dependencies (login, current user) and at commit alike.
    @app.exception_handler(OperationalError)
    async def _database_down(_: Request, exc: DBAPIError) -> JSONResponse:
        return database_unavailable(exc)

    @app.exception_handler(PoolTimeout)
    async def _database_busy(_: Request, exc: PoolTimeout) -> JSONResponse:
        return database_unavailable(exc)

    @app.exception_handler(InterfaceError)  # psycopg: "the connection is closed"
    async def _connection_closed(_: Request, exc: InterfaceError) -> JSONResponse:
        return database_unavailable(exc)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        return _internal(exc)


# Seconds a client is asked to wait when a dependency is down.
RETRY_AFTER_SECONDS = 5


def database_unavailable(exc: Exception) -> JSONResponse:
    # The driver's message can quote SQL parameters: log the kind only.
    cause = getattr(exc, "orig", None) or exc
    logger.error("database unavailable: %s", type(cause).__name__)
    return error_response(
        503,
        "ServiceUnavailable",
        "the database is unavailable; try again shortly (a retry with the same "
        "Idempotency-Key cannot do the work twice)",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _internal(exc: Exception) -> JSONResponse:
    logger.error("unexpected error: %s", type(exc).__name__)
    return error_response(500, "InternalError", "an unexpected error occurred; it was logged")


def _required_fields(request: Request) -> list[str]:
    """The required top-level fields of the body the route reads, if it is a model."""
    body_field = getattr(request.scope.get("route"), "body_field", None)
    model = getattr(getattr(body_field, "field_info", None), "annotation", None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    return [name for name, field in model.model_fields.items() if field.is_required()]


def _wrong_media_type(request: Request, exc: RequestValidationError) -> str | None:
    """What to send instead, when the body was refused because it came as another media
    type than the route reads (FastAPI then validates the raw bytes, or an empty form, and
    its messages would send the caller looking in the wrong place)."""
    body_field = getattr(request.scope.get("route"), "body_field", None)
    if body_field is None:
        return None
    wants_form = isinstance(body_field.field_info, params.Form)
    declared = request.headers.get("content-type")
    media = (declared or "").split(";")[0].strip().lower()
    if wants_form:
        fits = media in (FORM, "multipart/form-data")
    else:
        fits = media == JSON or (media.startswith("application/") and media.endswith("+json"))
    if fits:
        return None
    if declared is None:
        # No Content-Type: a missing body is a validation problem, a body of unknown
        # type is not.
        errors = exc.errors()
        if not any(e.get("loc") == ("body",) and e.get("type") != "missing" for e in errors):
            return None
    expected = FORM if wants_form else JSON
    return f"this route reads {expected}: send the body with Content-Type: {expected}"


def _unreadable_body(exc: StarletteHTTPException) -> str | None:
    """FastAPI answers 400 "There was an error parsing the body" for any failure to read a
    JSON body other than a syntax error; say which, as the 422 of an invalid payload."""
    if exc.status_code != 400:
        return None
    cause = exc.__cause__
    if isinstance(cause, UnicodeDecodeError):
        return "the body is not valid UTF-8: send JSON encoded as UTF-8"
    if isinstance(cause, RecursionError):
        return "the body nests objects or arrays too deeply to be read; flatten it"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return "a number in the body has thousands of digits; no field takes one that long"
    if isinstance(cause, ValueError):
        return "the body could not be read as JSON"
    return None
