"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Column, DateTime, MetaData, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ClauseElement, ColumnElement
from sqlalchemy.sql.operators import OperatorType
from sqlalchemy.types import TypeDecorator

from core import crypto

_T = TypeVar("_T")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes; always hands back aware UTC, even from SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("Homeward stores only timezone-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Enumerations are stored as plain text: adding a value (a new task kind) then needs no
# ALTER TYPE on PostgreSQL; the API and the workflow validate values on the way in.
EnumText = String(40)


class _Opaque(TypeDecorator.Comparator[Any]):
    """Refuses comparisons with Python values: each encryption of a value differs (random
    nonce), so such a filter would silently never match. IS NULL and column-to-column
    comparisons (which the ORM itself makes) still work."""

    __slots__ = ()

    def operate(self, op: OperatorType, *other: Any, **kwargs: Any) -> ColumnElement[Any]:
        if any(not _is_sql(operand) for operand in other):
            raise TypeError(_not_searchable(self.expr))
        return super().operate(op, *other, **kwargs)

    def reverse_operate(self, op: OperatorType, other: Any, **kwargs: Any) -> ColumnElement[Any]:
        if not _is_sql(other):
            raise TypeError(_not_searchable(self.expr))
        return super().reverse_operate(op, other, **kwargs)


def _is_sql(operand: Any) -> bool:
    return (
        operand is None
        or isinstance(operand, ClauseElement)
        or hasattr(operand, "__clause_element__")
    )


def _not_searchable(expr: Any) -> str:
    context = getattr(expr.type, "context", "this column")
    return f"{context} is encrypted: SQL cannot compare it with a value or search it"


class _Encrypted(TypeDecorator[_T]):
    """Stores `v1:<key id>:…` text (core.crypto); `context` ("table.column") is bound in."""

    impl = Text
    cache_ok = True
    comparator_factory = _Opaque

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def __repr__(self) -> str:  # as Alembic's autogenerate writes it into a migration
        return f"{type(self).__name__}({self.context!r})"

    def seal(self, value: _T) -> str:
        raise NotImplementedError

    def open(self, plaintext: str) -> _T:
        raise NotImplementedError

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return crypto.encrypt(self.seal(value), context=self.context)

    def process_result_value(self, value: Any, dialect: Dialect) -> _T | None:
        if value is None:
            return None
        return self.open(crypto.decrypt(value, context=self.context))

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        raise TypeError(f"{self.context} is encrypted and never rendered into SQL text")


class EncryptedText(_Encrypted[str]):
    cache_ok = True

    def seal(self, value: str) -> str:
        if not isinstance(value, str):
            raise TypeError(f"{self.context} stores text, not {type(value).__name__}")
        return value

    def open(self, plaintext: str) -> str:
        return plaintext


class EncryptedJSON(_Encrypted[Any]):
    """A JSON document encrypted whole; Python None is SQL NULL."""

    cache_ok = True

    def seal(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def open(self, plaintext: str) -> Any:
        return json.loads(plaintext)


def encrypted_columns(metadata: MetaData) -> list[Column[Any]]:
    """Every encrypted column of the tables on `metadata`, in a stable order."""
    return [
        column
        for table in metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, _Encrypted)
    ]


def encryption_context(column: Column[Any]) -> str:
    assert isinstance(column.type, _Encrypted)
    return column.type.context
