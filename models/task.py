"""Human work: one task per step an agency must take."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.clock import utcnow
from models.enums import TaskKind, TaskStatus
from models.types import EncryptedJSON, EnumText, UTCDateTime


class Task(SQLModel, table=True):
    # (case, kind, round) is unique so that creating a task is idempotent: a flow run that
    # re-executes after a crash finds the task it already made instead of making another.
    # The inbox is read a page at a time in its sort order (due, opened, id), with or
    # without a status: each index serves one of the two reads without a sort.
    __table_args__ = (
        UniqueConstraint("case_id", "kind", "round", name="uq_task_case_kind_round"),
        Index("ix_task_agency_status_due", "agency_id", "status", "due_at", "opened_at", "id"),
        Index("ix_task_agency_due", "agency_id", "due_at", "opened_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    kind: TaskKind = Field(sa_type=EnumText)
    round: int = 1
    agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    status: TaskStatus = Field(sa_type=EnumText, default=TaskStatus.open, index=True)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    # When the overdue and escalation messages went out: each is sent once.
    overdue_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # What the assigned agency needs to act: the question it must answer, the document it
    # must record, the shelter a transfer comes from. May hold free text: encrypted.
    context: dict[str, Any] | None = Field(
        default=None, sa_column=Column(EncryptedJSON("task.context"))
    )
    outcome: str | None = Field(default=None, max_length=40)
    # The validated decision, free-text reasons and notes included: encrypted at rest.
    payload: dict[str, Any] | None = Field(
        default=None, sa_column=Column(EncryptedJSON("task.payload"))
    )
