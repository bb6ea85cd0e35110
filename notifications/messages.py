"""Message text for outbox rows: a case reference, a task, a due date and a link, nothing else.

Pure: the text is built only from the row, which holds no personal data, so no name, birth
date, nationality, reason or note can reach an agency's chat or mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.clock import as_utc
from models.enums import TaskKind
from models.notification import Notification

APP_NAME = "Homeward"


@dataclass(frozen=True)
class Message:
    title: str
    body: str


@dataclass(frozen=True)
class TaskWording:
    short: str
    long: str


# A task's name (short) and what it asks (long), in notifications and on the pages.
TASK_WORDING: dict[str, TaskWording] = {
    TaskKind.verify_nationality: TaskWording(
        "Verify nationality", "Verify nationality and issue a travel document"
    ),
    TaskKind.plan_transport: TaskWording(
        "Plan transport", "Plan safe transport, an escort and a receiving shelter"
    ),
    TaskKind.accept_placement: TaskWording(
        "Accept placement", "Accept or decline the shelter placement"
    ),
    TaskKind.confirm_departure: TaskWording("Confirm departure", "Confirm the departure"),
    TaskKind.confirm_handover: TaskWording(
        "Confirm handover", "Confirm the handover at the receiving shelter"
    ),
    TaskKind.record_follow_up: TaskWording(
        "Record follow-up", "Record the outcome of a reintegration follow-up"
    ),
    TaskKind.provide_information: TaskWording(
        "Answer the consulate", "Answer the consulate's question about the case"
    ),
    TaskKind.reissue_travel_document: TaskWording(
        "Re-issue travel document", "Re-issue the travel document: it runs out before travel"
    ),
    TaskKind.record_document: TaskWording(
        "Record a document", "Record a document required before departure"
    ),
    TaskKind.accept_transfer: TaskWording(
        "Accept transfer", "Accept or reject a transfer to your shelter"
    ),
    TaskKind.resolve_duplicate: TaskWording(
        "Check a possible duplicate",
        "Check whether another agency registered the same survivor; link or dismiss",
    ),
    TaskKind.approve_closure: TaskWording(
        "Supervisor: decide on closure", "A supervisor decides whether the case may close"
    ),
}

# Notices to the coordinating agency: (title phrase, sentence). The sentence never says why
# (a rejection or decline reason is free text and stays in the case record).
_NOTICES: dict[str, tuple[str, str]] = {
    "verification_rejected": (
        "verification rejected",
        "The consulate did not confirm nationality; the case is closed as rejected.",
    ),
    "placement_declined": (
        "placement declined",
        "The shelter declined the placement; transport is to be planned again.",
    ),
    "handover_confirmed": (
        "handover confirmed",
        "The receiving shelter confirmed the handover; follow-ups are scheduled.",
    ),
    "case_closed": ("case closed", "The case is closed."),
    # Re-trafficking or lost contact: the category stays in the case record, not the message.
    "follow_up_alert": (
        "follow-up needs attention now",
        "A follow-up needs your attention now; closing the case will need a supervisor.",
    ),
    "case_duplicate": (
        "closed as a duplicate",
        "The case is closed as a duplicate of another registration of the same survivor.",
    ),
    "transfer_accepted": ("transfer accepted", "The receiving shelter accepted the transfer."),
    "transfer_rejected": ("transfer rejected", "The receiving shelter rejected the transfer."),
}

# A task's deadline passed or was exceeded by half its allowance again: to the assigned
# agency ("overdue"), the coordinating agency ("overdue_alert") and the corridor's
# focal point ("escalated"). Title phrase and sentence, the task named as in assignments.
_DEADLINES: dict[str, tuple[str, str]] = {
    "task_overdue": ("overdue", "is overdue; please act or tell the coordinating agency why"),
    "task_overdue_alert": ("task overdue", "assigned to another agency is overdue"),
    "task_escalated": (
        "escalated",
        "is overdue by more than half its allowance again; the coordinating agency has been told",
    ),
}

# To the escort holding a departure task when the survivor cannot leave for now, and when
# they can again: the task and the inbox, never why (a court case, a document).
_DEPARTURE_HOLDS: dict[str, tuple[str, str]] = {
    "departure_on_hold": (
        "departure on hold",
        "is on hold: do not travel until you are told that it may go ahead",
    ),
    "departure_hold_lifted": (
        "departure hold lifted",
        "may go ahead: confirm it once the survivor has left",
    ),
}

# To an agency whose open task was withdrawn by someone else (a transfer revoked, a
# duplicate closed): no reason, no details.
TASK_WITHDRAWN = "task_withdrawn"

# To every agency whose open task was withdrawn because the case was halted: no reason, no
# details, and no case link (the agency no longer sees the case).
CASE_HALTED = "case_halted"

MESSAGE_KINDS = frozenset(
    {"task_assigned", CASE_HALTED, TASK_WITHDRAWN, *_NOTICES, *_DEADLINES, *_DEPARTURE_HOLDS}
)


def format_due(due_at: datetime) -> str:
    """A due time as agencies read it in every country: ISO date, 24-hour time, UTC."""
    return as_utc(due_at).strftime("%Y-%m-%d %H:%M UTC")


def render(notification: Notification, *, public_url: str) -> Message:
    """The title and body of an outbox row; ValueError for a kind there is no text for."""
    base = public_url.rstrip("/")
    reference = notification.case_reference
    if notification.kind == "task_assigned":
        return _task_assigned(notification, reference=reference, base=base)
    if notification.kind == CASE_HALTED:
        return Message(
            title=f"{APP_NAME} {reference}: case halted",
            body=(
                f"Case {reference}: case halted. Your open task on it is withdrawn; "
                f"no action is needed.\nYour open tasks: {base}/inbox"
            ),
        )
    if notification.kind == TASK_WITHDRAWN:
        return Message(
            title=f"{APP_NAME} {reference}: task withdrawn",
            body=(
                f"Case {reference}: a task of yours on this case is withdrawn; no action is "
                f"needed.\nYour open tasks: {base}/inbox"
            ),
        )
    if notification.kind in _DEADLINES:
        return _deadline(notification, reference=reference, base=base)
    if notification.kind in _DEPARTURE_HOLDS:
        return _departure_hold(notification, reference=reference, base=base)
    notice = _NOTICES.get(notification.kind)
    if notice is None:
        raise ValueError(f"no message text for notification kind {notification.kind!r}")
    phrase, sentence = notice
    return Message(
        title=f"{APP_NAME} {reference}: {phrase}",
        body=(f"Case {reference}: {sentence}\nCase details: {base}/cases/{reference}"),
    )


def _task_assigned(notification: Notification, *, reference: str, base: str) -> Message:
    wording = TASK_WORDING.get(notification.task_kind or "")
    if wording is None:
        raise ValueError(f"no message text for task kind {notification.task_kind!r}")
    lines = [f"Case {reference}: {wording.long}."]
    if notification.due_at is not None:
        lines.append(f"Due: {format_due(notification.due_at)}")
    # The task's page (through the sign-in page when needed), named by what the message
    # already says: the case and the task kind, no internal id.
    lines.append(f"Open the task: {base}/cases/{reference}/tasks/{notification.task_kind}")
    return Message(
        title=f"{APP_NAME} {reference}: action needed \N{EM DASH} {wording.short}",
        body="\n".join(lines),
    )


def _deadline(notification: Notification, *, reference: str, base: str) -> Message:
    phrase, sentence = _DEADLINES[notification.kind]
    wording = TASK_WORDING.get(notification.task_kind or "")
    if wording is None:
        raise ValueError(f"no message text for task kind {notification.task_kind!r}")
    lines = [f"Case {reference}: the task \u201c{wording.short}\u201d {sentence}."]
    if notification.due_at is not None:
        lines.append(f"Was due: {format_due(notification.due_at)}")
    if notification.kind == "task_overdue":
        lines.append(f"Your open tasks: {base}/inbox")
    elif notification.kind == "task_overdue_alert":
        lines.append(f"Case details: {base}/cases/{reference}")
    return Message(
        title=f"{APP_NAME} {reference}: {phrase} \N{EM DASH} {wording.short}", body="\n".join(lines)
    )


def _departure_hold(notification: Notification, *, reference: str, base: str) -> Message:
    phrase, sentence = _DEPARTURE_HOLDS[notification.kind]
    wording = TASK_WORDING.get(notification.task_kind or "")
    if wording is None:
        raise ValueError(f"no message text for task kind {notification.task_kind!r}")
    return Message(
        title=f"{APP_NAME} {reference}: {phrase} \N{EM DASH} {wording.short}",
        body=(
            f"Case {reference}: the task \u201c{wording.short}\u201d {sentence}.\n"
            f"Your open tasks: {base}/inbox"
        ),
    )
