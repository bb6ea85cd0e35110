"""The `repatriation` flow: one run per case, suspended whenever a person must act.

On every resume Prefect runs this function again from the top in a new process. Nothing
here remembers anything between runs: each pass reads the case from our database, applies
what is due, sends what is queued, and suspends under a key it has never used before.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from prefect import flow, get_run_logger
from prefect.flow_runs import suspend_flow_run
from sqlalchemy.exc import OperationalError

from core.clock import utcnow
from core.db import session_scope
from core.settings import get_settings
from domain.flow_runs import next_suspension_key
from domain.policy import policy_for
from domain.progress import advance_case
from flows.delivery import deliver_notifications

# A run passes at most this many times without suspending (each pass found a new decision).
MAX_PASSES = 20
# Waits before the attempts after the first, when the database is briefly unreachable or
# busy. Plain retries, not Prefect task runs: a task run costs the Prefect server a row and
# three state writes, and a pass's steps keep their state in our database anyway.
RETRY_DELAYS = (1.0, 3.0, 10.0)

logger = logging.getLogger("homeward.flows")
T = TypeVar("T")


def _retrying(step: Callable[[], T]) -> T:
    for delay in RETRY_DELAYS:
        try:
            return step()
        except OperationalError as error:
            logger.warning(
                "database unavailable (%s); again in %.0f s", type(error).__name__, delay
            )
            time.sleep(delay)
    return step()


def advance(case_id: uuid.UUID) -> tuple[str, bool]:
    """Apply every automatic step the case is ready for; returns (reference, ended)."""
    settings = get_settings()

    def step() -> tuple[str, bool, str]:
        with session_scope(settings.resolved_database_url) as session:
            result = advance_case(
                session, case_id=case_id, policy=policy_for(settings), now=utcnow()
            )
        return result.reference, result.ended, type(result.step).__name__

    reference, ended, step_name = _retrying(step)
    get_run_logger().info("case %s: %s", reference, step_name)
    return reference, ended


def suspension_key(case_id: uuid.UUID) -> str | None:
    settings = get_settings()

    def step() -> str | None:
        with session_scope(settings.resolved_database_url) as session:
            return next_suspension_key(session, case_id=case_id)

    return _retrying(step)


@flow(name="repatriation", persist_result=True)
def repatriation(case_id: uuid.UUID) -> str:
    """Carry one case from identification to closure."""
    logger = get_run_logger()
    for _ in range(MAX_PASSES):
        reference, ended = advance(case_id)
        deliver_notifications(case_id)
        if ended:
            logger.info("case %s has ended", reference)
            return reference
        key = suspension_key(case_id)
        if key is None:
            continue  # a decision arrived during this pass: read it before waiting
        logger.info("case %s waits (%s)", reference, key)
        suspend_flow_run(key=key, timeout=None)
    raise RuntimeError(f"case {case_id} kept changing for {MAX_PASSES} passes")
