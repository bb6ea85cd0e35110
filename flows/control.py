"""Starting and resuming case flow runs: the only door from the API into Prefect.

Every function here is called after the decision it follows has been committed, and none
raises on a Prefect failure: the decision stays recorded with its wake request, and the
sweeper tries again.
"""

from __future__ import annotations

import base64
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as WaitTimeout
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.objects import State, StateType
from prefect.client.schemas.responses import SetStateStatus
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_KEY, PREFECT_API_URL
from prefect.states import Crashed, Scheduled

from core.clock import utcnow
from core.db import session_scope
from core.settings import Settings
from domain.flow_runs import record_flow_run
from models import Case

logger = logging.getLogger("homeward.flows")

FLOW_NAME = "repatriation"
DEPLOYMENT_NAME = "repatriation"
SWEEPER_NAME = "sweeper"
# How long a flow run may take to pick up a wake request before the sweeper steps in.
WAKE_GRACE = timedelta(seconds=10)
REQUEST_TIMEOUT_SECONDS = 10.0
HEALTH_TIMEOUT_SECONDS = 2.0
# How long a decision's request waits for Prefect to take the wake before answering that
# the case waits to resume. Prefect's client retries timeouts and 503s for far longer than
# one request timeout, so the wait is bounded here, not by the HTTP client.
WAKE_WAIT_SECONDS = 2.0
# Wakes under way at once from one API process; more wait their turn (and answer 202 if
# their turn does not come within WAKE_WAIT_SECONDS).
WAKE_THREADS = 16
_wakers = ThreadPoolExecutor(max_workers=WAKE_THREADS, thread_name_prefix="homeward-wake")

# Runners and workers take scheduled runs in order of their scheduled time, so a pass that
# follows a person is scheduled in the past, ahead of every pass the sweeper or a backlog of
# other cases queued at "now": decisions first, then launches' first passes, each in the
# order they came (docs/flow-runs.md, "Who goes first").
DECISION_LEAD = timedelta(days=2)
LAUNCH_LEAD = timedelta(days=1)

_STUCK = {StateType.RUNNING, StateType.PENDING}
_DEAD = {StateType.CRASHED, StateType.FAILED, StateType.CANCELLED, StateType.COMPLETED}


class WakeResult(StrEnum):
    started = "started"
    resumed = "resumed"
    restarted = "restarted"
    busy = "busy"  # the run is scheduled or running and will read the decision itself
    failed = "failed"


@dataclass(frozen=True)
class _CaseRun:
    id: uuid.UUID
    reference: str
    flow_run_id: uuid.UUID | None


def _client() -> SyncPrefectClient:
    return get_client(sync_client=True, httpx_settings={"timeout": REQUEST_TIMEOUT_SECONDS})


def wake_case(settings: Settings, case_id: uuid.UUID, *, urgent: bool = False) -> WakeResult:
    """Make sure the case's flow run will read the latest decisions: start, resume or restart.

    `urgent`: a person is waiting on this pass (a decision or a launch just made), so it
    goes before passes queued by the sweeper and before other cases' backlog."""
    with session_scope(settings.resolved_database_url) as session:
        case = session.get(Case, case_id)
        if case is None:
            return WakeResult.failed
        run = _CaseRun(case.id, case.reference, case.flow_run_id)
    try:
        with _client() as client:
            return _wake(settings, client, run, urgent=urgent)
    except Exception as error:  # Prefect down, 503, timeout: the sweeper retries later
        logger.warning("could not wake the flow run of case %s: %s", run.reference, error)
        return WakeResult.failed


def wake_case_within(
    settings: Settings, case_id: uuid.UUID, seconds: float = WAKE_WAIT_SECONDS
) -> bool:
    """Wake the case and wait at most `seconds` for Prefect to take it; True if it did.

    False when Prefect is unreachable, refuses, or is slower than that: the decision stays
    recorded with its wake request, a wake still under way carries on in the background,
    and the sweeper resumes the case once Prefect answers again.
    """
    future = _wakers.submit(wake_case, settings, case_id, urgent=True)
    try:
        return future.result(timeout=seconds) != WakeResult.failed
    except WaitTimeout:
        logger.warning("waking case %s took over %.0f s; it waits to resume", case_id, seconds)
        return False


def _wake(
    settings: Settings, client: SyncPrefectClient, run: _CaseRun, *, urgent: bool
) -> WakeResult:
    lead = DECISION_LEAD if urgent else timedelta(0)
    if run.flow_run_id is None:
        first = LAUNCH_LEAD if urgent else timedelta(0)
        _start(settings, client, run, idempotency_key=f"case-{run.id}", lead=first)
        return WakeResult.started
    try:
        flow_run = client.read_flow_run(run.flow_run_id)
    except ObjectNotFound:
        # The Prefect database was reset: start afresh, the run replays from our database.
        _start(
            settings,
            client,
            run,
            idempotency_key=f"case-{run.id}-lost-{run.flow_run_id}",
            lead=lead,
        )
        return WakeResult.restarted
    state = flow_run.state
    if state is not None and state.type == StateType.PAUSED:
        # What Prefect's resume does for a suspended run (Scheduled, named "Resuming"),
        # but scheduled at the pass's place in the queue rather than at "now".
        resuming: State[None] = Scheduled(name="Resuming", scheduled_time=utcnow() - lead)
        response = client.set_flow_run_state(run.flow_run_id, resuming)
        if response.status == SetStateStatus.ACCEPT:
            return WakeResult.resumed
        logger.warning("resume of %s refused: %s", run.reference, response.details)
        return WakeResult.failed
    # A pass over a case takes seconds; a run RUNNING for much longer lost its process (a
    # runner killed mid-pass leaves it so: self-hosted Prefect detects no zombies unless
    # an automation is set up for it). A runner killed while submitting a run leaves it
    # PENDING, which no runner picks up again.
    stuck_after = timedelta(seconds=settings.stuck_run_seconds)
    if state is not None and state.type in _STUCK and _since(state.timestamp) > stuck_after:
        logger.warning(
            "flow run of case %s is stuck in %s; replacing it", run.reference, state.type
        )
        client.set_flow_run_state(
            run.flow_run_id, Crashed(message="Homeward: no progress; replaced"), force=True
        )
        state = None
    if state is None or state.type in _DEAD:
        _start(
            settings,
            client,
            run,
            idempotency_key=f"case-{run.id}-after-{run.flow_run_id}",
            lead=lead,
        )
        return WakeResult.restarted
    return WakeResult.busy


def _since(moment: datetime) -> timedelta:
    return utcnow() - moment


def _start(
    settings: Settings,
    client: SyncPrefectClient,
    run: _CaseRun,
    *,
    idempotency_key: str,
    lead: timedelta,
) -> uuid.UUID:
    deployment = client.read_deployment_by_name(f"{FLOW_NAME}/{DEPLOYMENT_NAME}")
    flow_run = client.create_flow_run_from_deployment(
        deployment.id,
        parameters={"case_id": str(run.id)},
        name=run.reference,
        idempotency_key=idempotency_key,
        state=Scheduled(scheduled_time=utcnow() - lead),
    )
    with session_scope(settings.resolved_database_url) as session:
        record_flow_run(session, case_id=run.id, flow_run_id=flow_run.id, now=utcnow())
    return flow_run.id


def prefect_healthy(
    api_url: str | None = None, *, timeout_seconds: float = HEALTH_TIMEOUT_SECONDS
) -> bool:
    """Whether the Prefect API answers its health check within the timeout.

    `api_url` defaults to PREFECT_API_URL, as for every other call here. Without one this
    says no rather than start a temporary server as the Prefect client would. One plain
    request: the Prefect client retries refused connections for seconds.
    """
    url = api_url or PREFECT_API_URL.value()
    if not url:
        return False
    headers = {}
    if api_key := PREFECT_API_KEY.value():
        headers["Authorization"] = f"Bearer {api_key}"
    elif auth_string := PREFECT_API_AUTH_STRING.value():
        headers["Authorization"] = "Basic " + base64.b64encode(auth_string.encode()).decode()
    try:
        response = httpx.get(f"{url.rstrip('/')}/health", headers=headers, timeout=timeout_seconds)
    except httpx.HTTPError as error:
        logger.warning("Prefect API health check failed: %s", type(error).__name__)
        return False
    if response.status_code != 200:
        logger.warning("Prefect API health check answered %s", response.status_code)
        return False
    return True
