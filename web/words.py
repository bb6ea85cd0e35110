"""The words the pages show for the domain's codes (stages, statuses, outcomes, roles).

Each is the English text, marked with `N_` so that the catalogs' extraction finds it;
templates pass it through `_()` when they show it."""

from __future__ import annotations

from models.enums import (
    AgencyKind,
    CaseStatus,
    DocumentKind,
    FollowUpOutcome,
    HoldReason,
    HoldRelease,
    NotificationStatus,
    ReopenReason,
    Role,
    Sex,
    Stage,
    TaskStatus,
    TraffickingStatus,
    TravelMode,
)
from notifications.messages import TASK_WORDING


def N_(text: str) -> str:
    return text


# The five stages of a repatriation, in order, as the progress bar shows them.
STAGES: tuple[Stage, ...] = (
    Stage.identification,
    Stage.consular_verification,
    Stage.safe_transport,
    Stage.shelter_handover,
    Stage.reintegration_followup,
)

FOLLOW_UP: dict[str, str] = {
    FollowUpOutcome.reintegrating: N_("Reintegrating"),
    FollowUpOutcome.at_risk: N_("At risk"),
    FollowUpOutcome.re_trafficked: N_("Re-trafficked"),
    FollowUpOutcome.lost_contact: N_("Lost contact"),
}

WORDS: dict[str, dict[str, str]] = {
    "stage": {
        Stage.identification: N_("Identification"),
        Stage.consular_verification: N_("Consular verification"),
        Stage.safe_transport: N_("Safe transport"),
        Stage.shelter_handover: N_("Shelter handover"),
        Stage.reintegration_followup: N_("Reintegration follow-up"),
        Stage.closed: N_("Closed"),
    },
    "case_status": {
        CaseStatus.open: N_("Open"),
        CaseStatus.closed: N_("Closed"),
        CaseStatus.rejected: N_("Rejected"),
        CaseStatus.halted: N_("Halted"),
    },
    "task_status": {
        TaskStatus.open: N_("Open"),
        TaskStatus.done: N_("Done"),
        TaskStatus.cancelled: N_("Withdrawn"),
    },
    "task": {kind: wording.short for kind, wording in TASK_WORDING.items()},
    "task_asks": {kind: wording.long for kind, wording in TASK_WORDING.items()},
    "sex": {
        Sex.female: N_("Female"),
        Sex.male: N_("Male"),
        Sex.other: N_("Other"),
        Sex.unknown: N_("Not known"),
    },
    "trafficking_status": {
        TraffickingStatus.actual: N_("Identified as trafficked"),
        TraffickingStatus.possible: N_("Possibly trafficked (screening not finished)"),
    },
    "mode": {
        TravelMode.road: N_("Road"),
        TravelMode.air: N_("Air"),
        TravelMode.rail: N_("Rail"),
        TravelMode.sea: N_("Sea"),
    },
    "follow_up": FOLLOW_UP,
    "role": {
        Role.coordinator: N_("Coordinator"),
        Role.consular_officer: N_("Consular officer"),
        Role.shelter_officer: N_("Shelter officer"),
        Role.escort_officer: N_("Escort officer"),
        Role.case_worker: N_("Case worker"),
        Role.supervisor: N_("Supervisor"),
        Role.admin: N_("Administrator"),
    },
    "agency_kind": {
        AgencyKind.ngo: N_("NGO"),
        AgencyKind.consulate: N_("Consulate"),
        AgencyKind.shelter: N_("Shelter"),
        AgencyKind.escort: N_("Escort"),
        AgencyKind.government: N_("Government"),
    },
    "document": {
        DocumentKind.travel_document: N_("Travel document"),
        DocumentKind.child_protection_clearance: N_("Child protection clearance"),
        DocumentKind.exit_permit: N_("Exit permit"),
    },
    "notification_status": {
        NotificationStatus.pending: N_("Waiting for its next attempt"),
        NotificationStatus.sent: N_("Delivered"),
        NotificationStatus.failed: N_("Failed"),
    },
    "hold_reason": {
        HoldReason.witness_in_trial: N_("The survivor is a witness in a trial"),
        HoldReason.investigation: N_("The police are investigating"),
        HoldReason.court_order: N_("A court ordered the survivor to stay"),
        HoldReason.other: N_("Another reason"),
    },
    "hold_release": {
        HoldRelease.court_permission: N_("The court gave permission to leave"),
        HoldRelease.remote_testimony_arranged: N_("Testimony from home is arranged"),
    },
    "reopen_reason": {
        ReopenReason.re_trafficked: N_("Re-trafficked"),
        ReopenReason.lost_contact: N_("Lost contact"),
        ReopenReason.at_risk: N_("At risk"),
        ReopenReason.other: N_("Another reason"),
    },
    # The decision words of task outcomes and what the timeline records.
    "outcome": {
        "approved": N_("Approved"),
        "rejected": N_("Rejected"),
        "information_requested": N_("Question asked"),
        "accepted": N_("Accepted"),
        "declined": N_("Declined"),
        "linked": N_("Same survivor"),
        "dismissed": N_("Different people"),
        "close": N_("Close the case"),
        "continue_follow_up": N_("Follow up again"),
        **FOLLOW_UP,
    },
}
