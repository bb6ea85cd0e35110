"""The outbox: notifications written in the same transaction as the decision causing them.

A row holds only the facts a message may carry (reference, task kind, due date); the
notifications package renders the text when it sends, so nothing personal can slip in.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from core.clock import utcnow
from models.enums import NotificationStatus
from models.types import EnumText, UTCDateTime


class Notification(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Unique: enqueueing the same message twice (a re-executed flow step) is a no-op.
    dedupe_key: str = Field(max_length=200, unique=True)
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    case_reference: str = Field(max_length=20)
    agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    task_id: uuid.UUID | None = Field(default=None, foreign_key="task.id")
    kind: str = Field(max_length=60)
    task_kind: str | None = Field(default=None, max_length=40)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: NotificationStatus = Field(
        sa_type=EnumText, default=NotificationStatus.pending, index=True
    )
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Fingerprints of the agency's URLs already delivered to, so a retry after a partial
    # failure sends only to the targets that missed it.
    delivered_targets: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
