"""The audit log: who read or changed what, when, from where. Append-only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from core.clock import utcnow
from models.types import UTCDateTime


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # The acting account; None for a failed login, whose attempted name is in `username`.
    user_id: uuid.UUID | None = Field(default=None, foreign_key="user.id", index=True)
    agency_id: uuid.UUID | None = Field(default=None, foreign_key="agency.id")
    username: str | None = Field(default=None, max_length=80, index=True)
    action: str = Field(max_length=40, index=True)
    case_id: uuid.UUID | None = Field(default=None, foreign_key="case.id", index=True)
    address: str | None = Field(default=None, max_length=64, index=True)
    # What was touched (field names, task kind, ids); never the values of personal data.
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
