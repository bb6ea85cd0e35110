"""What a refused payload's 422 says: for each problem, the field it is in (a dotted path,
such as survivor.birth_date) and what to send instead.

The submitted value is never repeated, nor any text of the parser's that quotes it: a
field typed into the wrong place may hold a survivor's personal data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# Where the request's parts are named in a location, they add nothing for the reader.
_LOCATION_NOISE = frozenset({"body", "query", "path", "form", "header"})

# A field name is the caller's own text: an unknown one is named, up to this length.
_NAME_LENGTH = 40

DATE = "a date as YYYY-MM-DD, e.g. 2001-03-04"
MOMENT = "a time with its zone, e.g. 2026-12-01T10:00:00+05:30"
OBJECT = "a JSON object, a dictionary of fields"
UUID = "a UUID such as 123e4567-e89b-42d3-a456-426614174000"

# pydantic's words for "not an object", which say little to someone who sent an array.
_NOT_AN_OBJECT = frozenset({"model_attributes_type", "model_type", "dict_type"})

# What to send, by pydantic's error type, where the type says it all.
_SEND: dict[str, str] = {
    "timezone_aware": MOMENT,
    "datetime_type": MOMENT,
    "datetime_parsing": MOMENT,
    "datetime_from_date_parsing": MOMENT,
    "datetime_object_invalid": MOMENT,
    "date_type": DATE,
    "date_parsing": DATE,
    "date_from_datetime_parsing": DATE,
    "date_from_datetime_inexact": DATE + " (a date alone, without a time)",
    "uuid_type": UUID,
    "uuid_parsing": UUID,
    "uuid_version": UUID,
    "string_type": "text (a JSON string)",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_parsing_size": "a whole number of a sensible size",
    "int_from_float": "a whole number, without a fraction",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "list_type": "a list (a JSON array)",
    "tuple_type": "a list (a JSON array)",
    "set_type": "a list (a JSON array)",
    "none_required": "null",
}

# The context key holding each bound, and how to say it.
_BOUNDS: dict[object, tuple[str, str]] = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "more than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
}
_FALLBACK = "is not valid; see the field's description in the OpenAPI page"

# A rule's own message may start with the field it concerns ("birth_date: ..."): the field
# then joins the path the rule was checked at.
_LEADING_FIELD = re.compile(r"^([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*): (.+)$", re.DOTALL)


def describe_validation_errors(
    errors: Iterable[Mapping[str, Any]],
    *,
    tag: object = None,
    expected_tags: Sequence[str] = (),
    body_fields: Sequence[str] = (),
) -> str:
    """One sentence per problem, joined by "; ".

    `tag` is the value of a discriminated union's discriminator ("declined"): pydantic puts
    it first in the location of the member's errors, where it is not a field; `expected_tags`
    are its accepted values, named when it is missing. `body_fields`
    are the required fields of the body, named when no body came at all."""
    problems = validation_problems(
        errors, tag=tag, expected_tags=expected_tags, body_fields=body_fields
    )
    return "; ".join(problems) or "the request is not valid"


def validation_problems(
    errors: Iterable[Mapping[str, Any]],
    *,
    tag: object = None,
    expected_tags: Sequence[str] = (),
    body_fields: Sequence[str] = (),
) -> list[str]:
    """The sentences of describe_validation_errors, each once, in order: "field: what to
    send" where the problem is in one field."""
    parts: list[str] = []
    for error in errors:
        part = _describe(error, tag=tag, expected_tags=expected_tags, body_fields=body_fields)
        if part not in parts:
            parts.append(part)
    return parts


def problem_field(problem: str) -> tuple[str | None, str]:
    """A problem's field (a dotted path) and its message; None for a problem of the whole."""
    leading = _LEADING_FIELD.match(problem)
    if leading is None:
        return None, problem
    return leading.group(1), leading.group(2)


def _describe(
    error: Mapping[str, Any],
    *,
    tag: object,
    expected_tags: Sequence[str],
    body_fields: Sequence[str],
) -> str:
    kind = error.get("type")
    context = error.get("ctx") or {}
    if kind == "json_invalid":
        # The location is a character offset, not a field.
        position = next((p for p in error.get("loc", ()) if isinstance(p, int)), None)
        at = f" at character {position}" if position is not None else ""
        return f"the body is not valid JSON ({context.get('error', 'syntax error')}{at})"
    location = tuple(error.get("loc", ()))
    if kind == "missing" and location == ("body",):
        fields = (
            f"the required fields {', '.join(body_fields)}"
            if body_fields
            else "the fields the operation requires (see its examples in the OpenAPI page)"
        )
        return f"body: no body was sent; send a JSON object with {fields}"
    path: list[object] = [p for p in location if p not in _LOCATION_NOISE]
    if tag is not None and path and path[0] == tag:
        path = path[1:]
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        path.append(str(context.get("discriminator", "decision")).strip("'"))
    if kind == "value_error":
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        leading = _LEADING_FIELD.match(message)
        if leading is not None:
            path.append(leading.group(1))
            message = leading.group(2)
        return _at(path, message)
    if kind == "union_tag_not_found" and expected_tags:
        return _at(path, f"this field is required; send one of {', '.join(expected_tags)}")
    if not path and kind in _NOT_AN_OBJECT:
        return f"the body must be {OBJECT}"
    return _at(path, _advice(kind, context, str(error.get("msg", ""))))


def _at(path: list[object], message: str) -> str:
    return f"{_dotted(path)}: {message}" if path else message


def _dotted(path: list[object]) -> str:
    """survivor.languages.1: an item of a list is named by its place, counted from 0."""
    return ".".join(_name(part) for part in path)


def _advice(kind: object, context: Mapping[str, Any], text: str) -> str:
    """What is wrong and what to send instead, from the error's type and its limits (the
    context holds the rule's bounds and choices, never the value except where noted)."""
    if kind == "missing":
        return "this field is required; add it"
    if kind == "extra_forbidden":
        return "this is not a field Homeward accepts here; remove it"
    if kind in _NOT_AN_OBJECT:
        return f"must be {OBJECT}"
    if kind in ("enum", "literal_error"):
        return f"must be one of {_choices(context.get('expected'))}"
    if kind == "union_tag_invalid":
        # The context's `tag` is the submitted value: left out.
        return f"must be one of {_choices(context.get('expected_tags'))}"
    if kind == "union_tag_not_found":
        return "this field is required; it says which kind of answer the payload is"
    if kind == "string_too_short":
        least = context.get("min_length", 1)
        return "must not be empty" if least == 1 else f"must have at least {least} characters"
    if kind == "string_too_long":
        return f"must have at most {context.get('max_length')} characters; shorten it"
    if kind == "too_short":
        return f"must have at least {context.get('min_length')} items"
    if kind == "too_long":
        return f"must have at most {context.get('max_length')} items"
    if kind == "string_pattern_mismatch":
        return "is not in the expected form; see the field's description"
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"must be {words} {context.get(key)}"
    if isinstance(kind, str) and kind in _SEND:
        return f"must be {_SEND[kind]}"
    # pydantic's remaining messages describe the rule; one that quotes anything may be
    # quoting the value.
    if not text or any(q in text for q in "'\"`"):
        return _FALLBACK
    return text.replace("Input should be", "must be")


def _choices(expected: object) -> str:
    """pydantic's "'a', 'b' or 'c'" as "a, b, c"."""
    if expected is None:
        return "the documented values"
    words = re.findall(r"'([^']*)'", str(expected))
    return ", ".join(words) if words else str(expected)


def _name(part: object) -> str:
    name = str(part)
    return name if len(name) <= _NAME_LENGTH else name[: _NAME_LENGTH - 1] + "…"
