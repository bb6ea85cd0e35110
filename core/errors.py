"""Domain errors; each carries the HTTP status the API renders it with."""

from __future__ import annotations


class HomewardError(Exception):
    status_code = 400
    kind = "Error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer needs (e.g. Retry-After); none by default."""
        return {}


class NotFound(HomewardError):
    status_code = 404
    kind = "NotFound"


class Forbidden(HomewardError):
    status_code = 403
    kind = "Forbidden"


class Conflict(HomewardError):
    status_code = 409
    kind = "Conflict"


class Invalid(HomewardError):
    """A payload that parses but breaks a rule a person can fix; `problems` are its
    sentences one by one ("field: what to send"), the detail joins them."""

    status_code = 422
    kind = "ValidationError"

    def __init__(self, detail: str, *, problems: list[str] | None = None) -> None:
        super().__init__(detail)
        self.problems = problems or [detail]


class Unauthorized(HomewardError):
    status_code = 401
    kind = "Unauthorized"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}
