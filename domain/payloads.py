"""What each task kind's completion must carry; validated before anything is written."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from core.countries import CountryCode
from core.languages import LanguageCode
from domain.plausible import DocumentExpiry, RecentMoment, TravelDate
from models.enums import (
    FollowUpOutcome,
    HoldReason,
    HoldRelease,
    ReopenReason,
    Sex,
    TraffickingStatus,
    TravelMode,
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NationalityApproved(Payload):
    decision: Literal["approved"]
    travel_document_number: ShortText
    travel_document_expires_on: DocumentExpiry


class NationalityRejected(Payload):
    decision: Literal["rejected"]
    reason: Text


class InformationRequested(Payload):
    """The consulate needs something from the coordinator before it can decide."""

    decision: Literal["information_requested"]
    question: LongText


class InformationProvided(Payload):
    answer: LongText


class TravelDocumentReissued(Payload):
    travel_document_number: ShortText
    travel_document_expires_on: DocumentExpiry


class DocumentRecorded(Payload):
    """A document the corridor requires before departure (which one: the task says)."""

    reference: ShortText
    issued_on: date
    expires_on: DocumentExpiry | None = None


class TransportPlan(Payload):
    travel_date: TravelDate
    mode: TravelMode
    crossing_point: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    escort_agency_id: uuid.UUID
    receiving_shelter_id: uuid.UUID
    # A home-country NGO to record the follow-ups; the receiving shelter does them if absent.
    follow_up_agency_id: uuid.UUID | None = None


class PlacementAccepted(Payload):
    decision: Literal["accepted"]


class PlacementDeclined(Payload):
    decision: Literal["declined"]
    reason: Text


class Departure(Payload):
    departed_at: RecentMoment


class Handover(Payload):
    received_at: RecentMoment


class FollowUp(Payload):
    outcome: FollowUpOutcome
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] | None = None


class TransferAccepted(Payload):
    decision: Literal["accepted"]


class TransferRejected(Payload):
    decision: Literal["rejected"]
    reason: Text


class DuplicateLinked(Payload):
    """The two cases are one survivor: the later one closes as a duplicate."""

    decision: Literal["linked"]


class DuplicateDismissed(Payload):
    decision: Literal["dismissed"]
    reason: Text | None = None


class ClosureApproved(Payload):
    decision: Literal["close"]
    reason: Text


class FollowUpContinued(Payload):
    decision: Literal["continue_follow_up"]
    reason: Text


VerifyNationality = Annotated[
    NationalityApproved | NationalityRejected | InformationRequested,
    Field(discriminator="decision"),
]
AcceptTransfer = Annotated[TransferAccepted | TransferRejected, Field(discriminator="decision")]
ResolveDuplicate = Annotated[DuplicateLinked | DuplicateDismissed, Field(discriminator="decision")]
ApproveClosure = Annotated[ClosureApproved | FollowUpContinued, Field(discriminator="decision")]
AcceptPlacement = Annotated[PlacementAccepted | PlacementDeclined, Field(discriminator="decision")]


# --- requests that are not a task ------------------------------------------------------


class NewHold(Payload):
    """A court or the police needs the survivor to stay: departure waits until release."""

    court_case_reference: ShortText
    reason: HoldReason


class HoldReleaseIn(Payload):
    basis: HoldRelease
    # The court's permission (order number); not needed when remote testimony is arranged.
    permission_reference: ShortText | None = None

    @model_validator(mode="after")
    def _permission_named(self) -> HoldReleaseIn:
        if self.basis == HoldRelease.court_permission and self.permission_reference is None:
            raise ValueError(
                "permission_reference: name the court's permission (e.g. its order number)"
            )
        return self


class NewTransfer(Payload):
    to_shelter_id: uuid.UUID
    reason: Text


class Reopening(Payload):
    """Why a closed case is taken up again (e.g. news of re-trafficking after closure)."""

    reason: ReopenReason
    note: Text | None = None


# --- launching a case ------------------------------------------------------------------

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _each_once(codes: list[str]) -> list[str]:
    """bn and ben are one language: kept once, in the order given."""
    return list(dict.fromkeys(codes))


class SurvivorIn(Payload):
    given_name: Name
    family_name: Name
    sex: Sex
    birth_date: date | None = None
    age_estimate: Annotated[int, Field(ge=0, le=120)] | None = None
    nationality: CountryCode
    languages: Annotated[list[LanguageCode], Field(max_length=20), AfterValidator(_each_once)] = []

    @model_validator(mode="after")
    def _age_known(self) -> SurvivorIn:
        if self.birth_date is None and self.age_estimate is None:
            raise ValueError(
                "birth_date: give the survivor's birth date as YYYY-MM-DD or, if it is "
                "unknown, an age_estimate in years"
            )
        if self.birth_date is not None and self.birth_date > date.today():
            raise ValueError("birth_date: the date is in the future; check it")
        if self.birth_date is not None and self.birth_date.year < 1900:
            raise ValueError("birth_date: the date is before 1900; check it")
        return self


class Consent(Payload):
    repatriation: bool
    data_sharing: bool
    follow_up: bool


class NewCase(Payload):
    survivor: SurvivorIn
    current_country: CountryCode
    trafficking_status: TraffickingStatus
    consent: Consent

    @model_validator(mode="after")
    def _voluntary(self) -> NewCase:
        for purpose in ("repatriation", "data_sharing"):
            if not getattr(self.consent, purpose):
                raise ValueError(
                    f"consent.{purpose}: repatriation is voluntary; a case is launched only "
                    "with the survivor's consent to repatriation and to data sharing (true)"
                )
        if self.current_country == self.survivor.nationality:
            raise ValueError(
                "current_country: it is the survivor's nationality, so there is nothing to "
                "repatriate; give the country where the survivor is now"
            )
        return self
