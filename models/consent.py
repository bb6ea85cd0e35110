"""Consent per purpose, as recorded over time. The case holds the current answer."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from core.clock import utcnow
from models.enums import ConsentPurpose
from models.types import EnumText, UTCDateTime


class ConsentRecord(SQLModel, table=True):
    __tablename__ = "consent_record"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    purpose: ConsentPurpose = Field(sa_type=EnumText)
    granted: bool
    recorded_by_user_id: uuid.UUID = Field(foreign_key="user.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
