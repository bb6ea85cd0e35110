"""Cases and the survivors they concern."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from core.clock import utcnow
from models.enums import (
    CaseStatus,
    ClosureReview,
    HoldReason,
    HoldRelease,
    Sex,
    Stage,
    TraffickingStatus,
    TravelMode,
)
from models.types import EncryptedText, EnumText, UTCDateTime


class Survivor(SQLModel, table=True):
    """Personal data; read only through the access policy."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Encrypted at rest: SQL cannot filter or sort on the names.
    given_name: str = Field(max_length=200, sa_type=EncryptedText("survivor.given_name"))
    family_name: str = Field(max_length=200, sa_type=EncryptedText("survivor.family_name"))
    # The rest stay clear: the consulate lookup and the statistics query them.
    sex: Sex = Field(sa_type=EnumText)
    birth_date: date | None = None
    age_estimate: int | None = None
    nationality: str = Field(max_length=2)
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Set when the case's personal data is purged: the age band at launch, kept for figures.
    age_band: str | None = Field(default=None, max_length=20)


class Case(SQLModel, table=True):
    # The case list is read a page at a time, newest first with the id as tie-breaker.
    __table_args__ = (Index("ix_case_created_at_id", "created_at", "id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    reference: str = Field(max_length=20, unique=True, index=True)
    survivor_id: uuid.UUID = Field(foreign_key="survivor.id", unique=True)
    coordinator_agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    created_by_user_id: uuid.UUID = Field(foreign_key="user.id")
    current_country: str = Field(max_length=2)
    trafficking_status: TraffickingStatus = Field(sa_type=EnumText)
    consent_repatriation: bool
    consent_data_sharing: bool
    consent_follow_up: bool
    stage: Stage = Field(sa_type=EnumText, default=Stage.identification, index=True)
    status: CaseStatus = Field(sa_type=EnumText, default=CaseStatus.open, index=True)
    # Why the case cannot move on by itself (e.g. no consulate registered); None when it can.
    blocked_reason: str | None = Field(default=None, max_length=300)
    is_minor: bool | None = None
    consulate_agency_id: uuid.UUID | None = Field(default=None, foreign_key="agency.id")
    escort_agency_id: uuid.UUID | None = Field(default=None, foreign_key="agency.id")
    shelter_agency_id: uuid.UUID | None = Field(default=None, foreign_key="agency.id")
    # A home-country NGO named to do the follow-ups; the receiving shelter when None.
    follow_up_agency_id: uuid.UUID | None = Field(default=None, foreign_key="agency.id")
    travel_date: date | None = None
    travel_mode: TravelMode | None = Field(default=None, sa_type=EnumText)
    crossing_point: str | None = Field(default=None, max_length=200)
    travel_document_number: str | None = Field(default=None, max_length=64)
    travel_document_expires_on: date | None = None
    # When the receiving shelter took the survivor in (accepted the placement or a
    # transfer): from then until the case closes the survivor holds one of its places.
    placed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    departed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    handed_over_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Why a closed case closed when it is not the end of its follow-ups ("duplicate").
    closed_reason: str | None = Field(default=None, max_length=40)
    # No foreign key: on SQLite adding one would rebuild the referenced table itself.
    duplicate_of_case_id: uuid.UUID | None = None
    # Follow-ups beyond the corridor's offsets (a supervisor's "continue", a reopening),
    # and whether closing waits for a supervisor.
    extra_follow_ups: int = 0
    # Why the case was last reopened (free text: encrypted).
    reopen_note: str | None = Field(
        default=None, max_length=500, sa_type=EncryptedText("case.reopen_note")
    )
    closure_review: ClosureReview | None = Field(default=None, sa_type=EnumText)
    # When personal data was replaced by a tombstone (retention); None while it is kept.
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    flow_run_id: uuid.UUID | None = None
    # Set with a decision in the same transaction; cleared when the flow has read it.
    # The sweeper resumes runs whose wake request is older than a few seconds.
    wake_requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # Each suspension of the flow run uses a fresh key derived from this counter.
    suspensions: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LegalHold(SQLModel, table=True):
    """A court or the police needs the survivor in the country: departure waits."""

    __tablename__ = "legal_hold"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    # A court case number can lead to the survivor: encrypted at rest.
    court_case_reference: str = Field(
        max_length=64, sa_type=EncryptedText("legal_hold.court_case_reference")
    )
    reason: HoldReason = Field(sa_type=EnumText)
    placed_by_user_id: uuid.UUID = Field(foreign_key="user.id")
    placed_at: datetime = Field(sa_type=UTCDateTime)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    released_by_user_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    release_basis: HoldRelease | None = Field(default=None, sa_type=EnumText)
    permission_reference: str | None = Field(
        default=None, max_length=64, sa_type=EncryptedText("legal_hold.permission_reference")
    )
