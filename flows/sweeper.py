"""The sweeper: a scheduled flow that keeps every case moving without anyone watching.

Each run opens follow-ups that fell due, sends cases whose travel document ran out back to
the consulate, marks and escalates overdue tasks, sends notifications whose time has come,
and wakes cases whose decision has not reached their flow run (a resume that failed while
Prefect was down, a run that crashed, a case whose run was never started).
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from core.clock import utcnow
from core.db import session_scope
from core.settings import get_settings
from domain.escalation import escalate_task, tasks_to_escalate
from domain.policy import policy_for
from domain.progress import advance_case
from domain.sweeps import (
    cases_awaiting_follow_up,
    cases_needing_wake,
    cases_with_lapsed_documents,
)
from flows.control import WAKE_GRACE, wake_case
from flows.delivery import deliver_notifications


@task(cache_policy=NO_CACHE)
def open_due_follow_ups() -> int:
    """Open follow-ups whose day has come; a case that thereby ends is woken to finish."""
    settings = get_settings()
    woken = 0
    with session_scope(settings.resolved_database_url) as session:
        case_ids = cases_awaiting_follow_up(session)
    for case_id in case_ids:
        with session_scope(settings.resolved_database_url) as session:
            result = advance_case(
                session, case_id=case_id, policy=policy_for(settings), now=utcnow()
            )
        if result.ended:
            wake_case(settings, case_id)
            woken += 1
    return woken


@task(cache_policy=NO_CACHE)
def escalate_overdue_tasks() -> int:
    """Mark tasks past their deadline and announce each escalation level once."""
    settings = get_settings()
    policy = policy_for(settings)
    with session_scope(settings.resolved_database_url) as session:
        task_ids = tasks_to_escalate(session, now=utcnow())
    announced = 0
    for task_id in task_ids:
        with session_scope(settings.resolved_database_url) as session:
            announced += len(escalate_task(session, task_id=task_id, policy=policy, now=utcnow()))
    return announced


@task(cache_policy=NO_CACHE)
def send_back_expired_documents() -> int:
    """Cases whose travel document ran out while they waited go back to the consulate."""
    settings = get_settings()
    policy = policy_for(settings)
    with session_scope(settings.resolved_database_url) as session:
        case_ids = cases_with_lapsed_documents(session, today=utcnow().date())
    for case_id in case_ids:
        with session_scope(settings.resolved_database_url) as session:
            advance_case(session, case_id=case_id, policy=policy, now=utcnow())
    return len(case_ids)


@task(cache_policy=NO_CACHE)
def wake_stalled_cases() -> dict[str, int]:
    """Wake cases whose decision has not reached their run. Each waits on a decision that is
    already late, so its pass goes where the decision's own would have (`urgent`), not
    behind a backlog queued since."""
    settings = get_settings()
    with session_scope(settings.resolved_database_url) as session:
        stalled = [c.id for c in cases_needing_wake(session, now=utcnow(), grace=WAKE_GRACE)]
    counts: dict[str, int] = {}
    for case_id in stalled:
        result = wake_case(settings, case_id, urgent=True)
        counts[result] = counts.get(result, 0) + 1
    return counts


def sweep_name() -> str:
    """A sweep's run is named after what it is and when it was due (UTC), so that the
    Prefect UI's list of runs tells sweeps from cases, whose runs bear their reference.
    Prefect names a run when it starts; the few scheduled ahead keep a generated name."""
    return f"sweep-{flow_run.scheduled_start_time:%Y%m%d-%H%M%S}"


@flow(name="sweeper", flow_run_name=sweep_name)
def sweeper() -> dict[str, int]:
    logger = get_run_logger()
    follow_ups_ended = open_due_follow_ups()
    documents = send_back_expired_documents()
    escalations = escalate_overdue_tasks()
    sent = deliver_notifications()
    woken = wake_stalled_cases()
    logger.info(
        "sweep: %d escalations, %d lapsed documents, %d notifications attempted, "
        "%d cases ended by follow-ups, wakes %s",
        escalations,
        documents,
        sent,
        follow_ups_ended,
        woken,
    )
    return {
        "notifications": sent,
        **woken,
        "follow_up_endings": follow_ups_ended,
        "escalations": escalations,
        "lapsed_documents": documents,
    }
