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
class _TaskWording:
    short: str
    long: str


_TASKS: dict[str, _TaskWording] = {
    TaskKind.verify_nationality: _TaskWording(
        "Verify nationality", "Verify nationality and issue a travel document"
    ),
    TaskKind.plan_transport: _TaskWording(
        "Plan transport", "Plan safe transport, an escort and a receiving shelter"
    ),
    TaskKind.accept_placement: _TaskWording(
        "Accept placement", "Accept or decline the shelter placement"
    ),
    TaskKind.confirm_departure: _TaskWording("Confirm departure", "Confirm the departure"),
    TaskKind.confirm_handover: _TaskWording(
        "Confirm handover", "Confirm the handover at the receiving shelter"
    ),
    TaskKind.record_follow_up: _TaskWording(
        "Record follow-up", "Record the outcome of a reintegration follow-up"
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
}

# To every agency whose open task was withdrawn because the case was halted: no reason, no
# details, and no case link (the agency no longer sees the case).
CASE_HALTED = "case_halted"

MESSAGE_KINDS = frozenset({"task_assigned", CASE_HALTED, *_NOTICES})


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
                f"no action is needed.\nYour open tasks: {base}/api/v1/tasks?status=open"
            ),
        )
    notice = _NOTICES.get(notification.kind)
    if notice is None:
        raise ValueError(f"no message text for notification kind {notification.kind!r}")
    phrase, sentence = notice
    return Message(
        title=f"{APP_NAME} {reference}: {phrase}",
        body=(
            f"Case {reference}: {sentence}\n"
            f"Case details: {base}/api/v1/cases/{notification.case_id}"
        ),
    )


def _task_assigned(notification: Notification, *, reference: str, base: str) -> Message:
    wording = _TASKS.get(notification.task_kind or "")
    if wording is None:
        raise ValueError(f"no message text for task kind {notification.task_kind!r}")
    lines = [f"Case {reference}: {wording.long}."]
    if notification.due_at is not None:
        lines.append(f"Due: {format_due(notification.due_at)}")
    lines.append(f"Your open tasks: {base}/api/v1/tasks?status=open")
    return Message(
        title=f"{APP_NAME} {reference}: action needed \N{EM DASH} {wording.short}",
        body="\n".join(lines),
    )
