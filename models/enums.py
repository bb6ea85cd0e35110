"""Enumerations shared by tables, the workflow and the API."""

from __future__ import annotations

from enum import StrEnum


class AgencyKind(StrEnum):
    ngo = "ngo"
    consulate = "consulate"
    shelter = "shelter"
    escort = "escort"
    government = "government"


class Role(StrEnum):
    coordinator = "coordinator"
    consular_officer = "consular_officer"
    shelter_officer = "shelter_officer"
    escort_officer = "escort_officer"
    case_worker = "case_worker"
    supervisor = "supervisor"
    admin = "admin"


class Sex(StrEnum):
    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class TraffickingStatus(StrEnum):
    actual = "actual"
    possible = "possible"


class Stage(StrEnum):
    identification = "identification"
    consular_verification = "consular_verification"
    safe_transport = "safe_transport"
    shelter_handover = "shelter_handover"
    reintegration_followup = "reintegration_followup"
    closed = "closed"


class CaseStatus(StrEnum):
    open = "open"
    closed = "closed"
    rejected = "rejected"
    halted = "halted"


class TaskKind(StrEnum):
    verify_nationality = "verify_nationality"
    plan_transport = "plan_transport"
    accept_placement = "accept_placement"
    confirm_departure = "confirm_departure"
    confirm_handover = "confirm_handover"
    record_follow_up = "record_follow_up"
    provide_information = "provide_information"
    reissue_travel_document = "reissue_travel_document"
    record_document = "record_document"
    accept_transfer = "accept_transfer"
    resolve_duplicate = "resolve_duplicate"
    approve_closure = "approve_closure"


class TaskStatus(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class TravelMode(StrEnum):
    road = "road"
    air = "air"
    rail = "rail"
    sea = "sea"


class HoldReason(StrEnum):
    """Why a court or the police needs the survivor to stay."""

    witness_in_trial = "witness_in_trial"
    investigation = "investigation"
    court_order = "court_order"
    other = "other"


class HoldRelease(StrEnum):
    court_permission = "court_permission"
    remote_testimony_arranged = "remote_testimony_arranged"


class ClosureReview(StrEnum):
    """Whether closing the case waits for a supervisor (after re-trafficking, lost contact
    or a reopening)."""

    required = "required"
    approved = "approved"


class ReopenReason(StrEnum):
    re_trafficked = "re_trafficked"
    lost_contact = "lost_contact"
    at_risk = "at_risk"
    other = "other"


class FollowUpOutcome(StrEnum):
    reintegrating = "reintegrating"
    at_risk = "at_risk"
    re_trafficked = "re_trafficked"
    lost_contact = "lost_contact"


class NotificationStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class ConsentPurpose(StrEnum):
    repatriation = "repatriation"
    data_sharing = "data_sharing"
    follow_up = "follow_up"


class DocumentKind(StrEnum):
    travel_document = "travel_document"
    child_protection_clearance = "child_protection_clearance"
    exit_permit = "exit_permit"
