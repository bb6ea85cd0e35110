"""The case timeline: append-only, no personal data."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from core.clock import utcnow
from models.types import UTCDateTime


class Event(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # Monotonic per case so that events written in the same instant keep their order.
    seq: int
    kind: str = Field(max_length=60)
    actor_user_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    actor_agency_id: uuid.UUID | None = Field(default=None, foreign_key="agency.id")
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
