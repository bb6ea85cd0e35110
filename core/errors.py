"""Domain errors; each carries the HTTP status the API renders it with."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


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
    """A payload that parses but breaks a rule a person can fix."""

    status_code = 422
    kind = "ValidationError"


class Unauthorized(HomewardError):
    status_code = 401
    kind = "Unauthorized"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


# Where the request's parts are named in a location, they add nothing for the reader.
_LOCATION_NOISE = frozenset({"body", "query", "path", "form", "header"})


def describe_validation_errors(errors: Iterable[Mapping[str, Any]]) -> str:
    """Field path and message for each problem, never the submitted value: a field typed
    into the wrong place may hold a survivor's personal data."""
    parts = []
    for error in errors:
        if error.get("type") == "json_invalid":
            # The location is a character offset, not a field.
            parts.append(_message(error))
            continue
        where = ".".join(_name(p) for p in error.get("loc", ()) if p not in _LOCATION_NOISE)
        if not where and error.get("type") in _NOT_AN_OBJECT:
            parts.append(f"the body {_OBJECT}")
            continue
        parts.append(f"{where}: {_message(error)}" if where else _message(error))
    return "; ".join(parts) or "the request is not valid"


# pydantic's words for "not an object", which say little to someone who sent an array.
_NOT_AN_OBJECT = frozenset({"model_attributes_type", "model_type", "dict_type"})
_OBJECT = "must be a JSON object, a dictionary of fields"

# A field name is the caller's own text: an unknown one is named, up to this length.
_NAME_LENGTH = 40


def _name(part: object) -> str:
    name = str(part)
    return name if len(name) <= _NAME_LENGTH else name[: _NAME_LENGTH - 1] + "…"


def _message(error: Mapping[str, Any]) -> str:
    context = error.get("ctx") or {}
    if error.get("type") == "json_invalid":
        position = next((p for p in error.get("loc", ()) if isinstance(p, int)), None)
        at = f" at character {position}" if position is not None else ""
        return f"the body is not valid JSON ({context.get('error', 'syntax error')}{at})"
    if error.get("type") in _NOT_AN_OBJECT:
        return _OBJECT
    if error.get("type") == "union_tag_not_found":
        field = str(context.get("discriminator", "a field")).strip("'")
        return f"{field}: Field required"
    if error.get("type") == "uuid_parsing":
        # pydantic's own text quotes the offending character.
        return "must be a UUID such as 123e4567-e89b-42d3-a456-426614174000"
    if error.get("type") == "union_tag_invalid":
        # pydantic's own text quotes the submitted tag.
        field = str(context.get("discriminator", "value")).strip("'")
        return f"{field} must be one of {context.get('expected_tags', 'the documented values')}"
    return str(error.get("msg", "invalid value")).removeprefix("Value error, ")
