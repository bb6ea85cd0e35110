from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from models import Notification
from models.enums import TaskKind
from notifications.messages import MESSAGE_KINDS, render
from tests.notifications.factories import (
    BIRTH_DATE,
    FAMILY_NAME,
    GIVEN_NAME,
    NATIONALITY,
    a_notification,
)

PUBLIC_URL = "https://homeward.example.org"
# Notices to the coordinating agency, which keeps seeing the case.
# Messages about a task (assignment, deadlines) and withdrawals have tests of their own.
TASK_MESSAGES = {"task_assigned", "task_overdue", "task_overdue_alert", "task_escalated"}
DEPARTURE_HOLDS = {"departure_on_hold", "departure_hold_lifted"}
NOTICES = sorted(
    MESSAGE_KINDS - TASK_MESSAGES - DEPARTURE_HOLDS - {"case_halted", "task_withdrawn"}
)


def text_of(notification: Notification) -> str:
    message = render(notification, public_url=PUBLIC_URL)
    return f"{message.title}\n{message.body}"


def test_task_assigned_names_the_task_the_due_time_and_the_inbox() -> None:
    row = a_notification(
        case_reference="HW-AB12-CD34",
        task_kind=TaskKind.verify_nationality,
        # 19:30 in India is 14:00 UTC.
        due_at=datetime(2026, 12, 1, 19, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    )

    message = render(row, public_url=PUBLIC_URL + "/")

    assert message.title == "Homeward HW-AB12-CD34: action needed \u2014 Verify nationality"
    assert message.body == (
        "Case HW-AB12-CD34: Verify nationality and issue a travel document.\n"
        "Due: 2026-12-01 14:00 UTC\n"
        "Open the task: https://homeward.example.org/cases/HW-AB12-CD34/tasks/verify_nationality"
    )


@pytest.mark.parametrize("task_kind", list(TaskKind))
def test_every_task_kind_has_a_message(task_kind: TaskKind) -> None:
    row = a_notification(task_kind=task_kind)

    text = text_of(row)

    assert row.case_reference in render(row, public_url=PUBLIC_URL).title
    assert "2026-12-01 14:00 UTC" in text
    link = f"{PUBLIC_URL}/cases/{row.case_reference}/tasks/{task_kind}"
    assert link in text
    # A phrase for people, not an identifier (which only the link carries).
    assert task_kind.value not in text.replace(link, "")


@pytest.mark.parametrize("kind", NOTICES)
def test_notices_carry_the_reference_and_link_to_the_case(kind: str) -> None:
    row = a_notification(kind=kind, task_id=None, task_kind=None, due_at=None)

    message = render(row, public_url=PUBLIC_URL)

    assert row.case_reference in message.title
    assert row.case_reference in message.body
    assert f"{PUBLIC_URL}/cases/{row.case_reference}" in message.body


def test_case_halted_says_nothing_but_that_and_links_to_the_inbox_only() -> None:
    row = a_notification(kind="case_halted", task_kind=None, due_at=None)

    message = render(row, public_url=PUBLIC_URL)

    assert row.case_reference in message.title and "halted" in message.title
    assert f"{PUBLIC_URL}/inbox" in message.body
    assert "/cases/" not in message.body  # the agency no longer sees the case
    assert "consent" not in message.body.lower()  # no reason is given


@pytest.mark.parametrize("kind", sorted(MESSAGE_KINDS))
def test_messages_carry_no_personal_data_or_internal_ids(kind: str) -> None:
    # Fixed ids, so that a random one cannot happen to contain "BD" or "2007".
    row = a_notification(
        kind=kind,
        case_reference="HW-AC12-EF34",
        case_id=uuid.UUID("0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"),
    )

    text = text_of(row)

    for value in (GIVEN_NAME, FAMILY_NAME, BIRTH_DATE.isoformat(), "2007", NATIONALITY):
        assert value not in text
    for internal in (row.dedupe_key, str(row.agency_id), str(row.task_id)):
        assert internal not in text


def test_the_outbox_row_has_no_field_for_personal_data() -> None:
    # Messages are safe because the row cannot hold a name, a reason or a note; adding
    # such a field must be a deliberate change to this list.
    assert set(Notification.model_fields) == {
        "id",
        "dedupe_key",
        "case_id",
        "case_reference",
        "agency_id",
        "task_id",
        "kind",
        "task_kind",
        "due_at",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "claimed_until",
        "delivered_targets",
        "created_at",
        "sent_at",
    }


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="case_renamed"):
        render(a_notification(kind="case_renamed"), public_url=PUBLIC_URL)


def test_task_assigned_without_a_known_task_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="task kind"):
        render(a_notification(task_kind="bake_cake"), public_url=PUBLIC_URL)
    with pytest.raises(ValueError, match="task kind"):
        render(a_notification(task_kind=None), public_url=PUBLIC_URL)


@pytest.mark.parametrize("kind", sorted(TASK_MESSAGES - {"task_assigned"}))
def test_deadline_messages_name_the_task_and_when_it_was_due(kind: str) -> None:
    row = a_notification(kind=kind, task_kind="verify_nationality")

    message = render(row, public_url=PUBLIC_URL)

    assert "Verify nationality" in message.title
    assert row.case_reference in message.body
    assert "Was due:" in message.body


def test_escalation_gives_the_focal_point_no_case_link() -> None:
    # The focal point takes no part in the case: it sees no case and gets no link to one.
    row = a_notification(kind="task_escalated", task_kind="verify_nationality")

    assert "/cases/" not in render(row, public_url=PUBLIC_URL).body


def test_withdrawn_task_message_says_no_action_is_needed() -> None:
    message = render(a_notification(kind="task_withdrawn"), public_url=PUBLIC_URL)

    assert "no action is needed" in message.body
    assert "/cases/" not in message.body


@pytest.mark.parametrize(
    ("kind", "phrase"),
    [
        ("departure_on_hold", "departure on hold"),
        ("departure_hold_lifted", "departure hold lifted"),
    ],
)
def test_departure_hold_messages_name_the_task_and_link_to_the_inbox_only(
    kind: str, phrase: str
) -> None:
    row = a_notification(
        kind=kind, case_reference="HW-AB12-CD34", task_kind="confirm_departure", due_at=None
    )

    message = render(row, public_url=PUBLIC_URL)

    assert message.title == f"Homeward HW-AB12-CD34: {phrase} \u2014 Confirm departure"
    assert message.body.startswith("Case HW-AB12-CD34: the task \u201cConfirm departure\u201d ")
    assert message.body.endswith(f"Your open tasks: {PUBLIC_URL}/inbox")
    # Never why: a court case or a document is the coordinating agency's to know.
    for reason in ("legal", "court", "document", "expired", "Due:"):
        assert reason not in message.body
