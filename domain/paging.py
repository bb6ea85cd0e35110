"""Keyset pages of a list: a page of rows and an opaque cursor for the next one.

A cursor holds the sort key of the last row a page returned (the list's sort columns and
the id as tie-breaker), so the next page starts right after it with an indexed range
condition instead of an OFFSET that reads and skips every earlier row. It is a position,
never a permission: each page applies the same visibility rules as the first."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, and_, or_

from core.errors import Invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    # None on the last page.
    next_cursor: str | None


@dataclass(frozen=True)
class SortKey:
    """The columns a list is sorted on, the last one unique (the id), all in one direction."""

    columns: Sequence[Any]
    descending: bool = False


def page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit: must be between 1 and {MAX_LIMIT} (default {DEFAULT_LIMIT})")
    return limit


def encode_cursor(list_name: str, key: Sequence[datetime | uuid.UUID]) -> str:
    values = [v.isoformat() if isinstance(v, datetime) else str(v) for v in key]
    raw = json.dumps([list_name, *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_BAD_CURSOR = (
    "cursor: is not a cursor of this list; follow the Link header of the previous page "
    "as it is, or leave cursor out to start from the first page"
)


def decode_cursor(list_name: str, cursor: str, types: Sequence[type]) -> list[Any]:
    """The sort key a cursor of this list holds, each value of the given type (datetime or
    UUID); Invalid naming `cursor` for anything this list did not give out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
    except (binascii.Error, ValueError):
        raise Invalid(_BAD_CURSOR) from None
    if (
        not isinstance(decoded, list)
        or len(decoded) != len(types) + 1
        or decoded[0] != list_name
        or not all(isinstance(v, str) for v in decoded[1:])
    ):
        raise Invalid(_BAD_CURSOR)
    key: list[Any] = []
    for kind, text in zip(types, decoded[1:], strict=True):
        try:
            value: Any = datetime.fromisoformat(text) if kind is datetime else uuid.UUID(text)
        except ValueError:
            raise Invalid(_BAD_CURSOR) from None
        if isinstance(value, datetime) and value.tzinfo is None:
            raise Invalid(_BAD_CURSOR)
        key.append(value)
    return key


def after(sort: SortKey, key: Sequence[Any]) -> ColumnElement[bool]:
    """SQL condition: the row comes after `key` in the sort order. Written out as
    a > x OR (a = x AND (b > y OR ...)) rather than as a row-value comparison, so that the
    columns' own types bind the values on every backend."""
    condition: ColumnElement[bool] | None = None
    for column, value in reversed(list(zip(sort.columns, key, strict=True))):
        beyond = column < value if sort.descending else column > value
        condition = beyond if condition is None else or_(beyond, and_(column == value, condition))
    assert condition is not None
    return condition


def page_from(
    rows: list[T], *, limit: int, list_name: str, key_of: Callable[[T], Sequence[Any]]
) -> Page[T]:
    """The page of `limit` rows out of the `limit + 1` fetched; the one extra row only
    tells whether a next page exists."""
    items = rows[:limit]
    more = len(rows) > limit
    return Page(items, encode_cursor(list_name, key_of(items[-1])) if more else None)
