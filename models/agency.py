"""Agencies and the people who act for them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from core.clock import utcnow
from models.enums import AgencyKind, Role
from models.types import EncryptedJSON, EnumText, UTCDateTime


class Agency(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=200)
    kind: AgencyKind = Field(sa_type=EnumText, index=True)
    country: str = Field(max_length=2, index=True)
    nationality_served: str | None = Field(default=None, max_length=2, index=True)
    capacity: int | None = None  # shelters: places for survivors
    # What a minor's journey needs (DESIGN §2: flagged when identified): an escort able to
    # accompany children, female escorts for girls where the corridor asks, a shelter
    # that takes children.
    escorts_children: bool = False
    female_escorts: bool = False
    accepts_children: bool = False
    language: str | None = Field(default=None, max_length=35)
    # Apprise URLs carry credentials: write-only through the API, never logged, and
    # encrypted at rest (one value for the whole list).
    notify_urls: list[str] = Field(
        default_factory=list,
        sa_column=Column(EncryptedJSON("agency.notify_urls"), nullable=False),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class User(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    username: str = Field(max_length=80, unique=True, index=True)
    password_hash: str
    agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    role: Role = Field(sa_type=EnumText)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The language the pages speak to them in, once they chose one (else their agency's).
    language: str | None = Field(default=None, max_length=8)
    # Numbers in the digits of their script (Bengali, Devanagari, Eastern Arabic) where it
    # has its own.
    native_digits: bool = False
