"""Idempotency keys: the first answer to a request a client may send more than once."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import EncryptedJSON, UTCDateTime


class IdempotencyKey(SQLModel, table=True):
    """One `Idempotency-Key` of one user on one route.

    The row is written in the transaction that does the request's work, so a committed row
    always holds the answer, and work done always has its row. The unique constraint is
    what makes two concurrent requests with the same key do the work once.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (
        UniqueConstraint("user_id", "route", "key", name="uq_idempotency_key_user_route_key"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id")
    # The route's template, e.g. "POST /api/v1/tasks/{task_id}/complete".
    route: str = Field(max_length=120)
    key: str = Field(max_length=255)
    # SHA-256 of the path and the body: the same key with another request is refused.
    fingerprint: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    # The case the answer is about, to audit a replay of its survivor data.
    case_id: uuid.UUID | None = Field(default=None)
    # The answer as first sent. It can hold survivor data (a launched case), so it is
    # encrypted like every other personal field. Both are null only inside the
    # transaction that is still doing the work.
    status_code: int | None = Field(default=None)
    response: Any | None = Field(
        default=None, sa_column=Column(EncryptedJSON("idempotency_key.response"))
    )
