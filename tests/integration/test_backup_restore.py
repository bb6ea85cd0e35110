"""A backup taken mid-case, restored into a fresh data directory: the case carries on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.integration.test_case_lifecycle import launch
from tests.support.live import (
    APPROVED,
    SESSION_KEYS,
    Live,
    plan,
    running_stack,
    wait_delivered,
    wait_suspended,
)
from tests.support.sink import Sink

pytestmark = pytest.mark.stack

runner = CliRunner()


def homeward(data_dir: Path, *args: str) -> str:
    """Run a `homeward` command as the operator of the installation in `data_dir`."""
    result = runner.invoke(
        app,
        list(args),
        env={
            "HOMEWARD_DATA_DIR": str(data_dir),
            "HOMEWARD_DATABASE_URL": None,
            "HOMEWARD_ENCRYPTION_KEYS": SESSION_KEYS.serialize(),
        },
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_case_restored_from_a_mid_case_backup_carries_on_to_closed(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    backup_file = tmp_path_factory.mktemp("backups") / "mid-case.backup"
    with Sink() as sink:
        with running_stack(tmp_path_factory.mktemp("before"), sink=sink) as before:
            case = launch(before)
            case_id = case["id"]
            before.complete("consul", case_id, "verify_nationality", APPROVED)
            before.open_task("coordinator", case_id, "plan_transport")
            wait_suspended(before, case_id)
            wait_delivered(before, [case_id])
            # Taken while Homeward runs, as an operator would.
            assert "1 case (1 open)" in homeward(
                before.settings.data_dir, "backup", str(backup_file)
            )
            agencies = dict(before.agencies)
            old_run = before.case("coordinator", case_id)["flow_run_id"]
        # The old installation is gone, its Prefect database with it.

        fresh = tmp_path_factory.mktemp("after")
        assert "Restored 1 case (1 open)" in homeward(fresh, "restore", str(backup_file))
        with running_stack(fresh, sink=sink, seed=False) as after:
            after.agencies.update(agencies)
            carry_on_to_closed(after, case_id)
            ledger = wait_delivered(after, [case_id])
            assert ledger.duplicated == 0 and ledger.delivered == ledger.expected, ledger
            assert after.case("coordinator", case_id)["flow_run_id"] != old_run
            kinds = [e["kind"] for e in after.timeline("coordinator", case_id)]
            assert kinds.count("task_completed") == 7  # nothing recorded before was lost


def carry_on_to_closed(live: Live, case_id: str) -> None:
    live.complete("coordinator", case_id, "plan_transport", plan(live))
    live.complete("shelter", case_id, "accept_placement", {"decision": "accepted"})
    # Times as a page would prefill them: now (the case was launched minutes ago).
    departed = datetime.now(UTC) - timedelta(seconds=5)
    live.complete("escort", case_id, "confirm_departure", {"departed_at": departed.isoformat()})
    received = datetime.now(UTC)
    live.complete("shelter", case_id, "confirm_handover", {"received_at": received.isoformat()})
    for _ in range(2):  # follow-up offsets 0,0: both open at handover
        live.complete("shelter", case_id, "record_follow_up", {"outcome": "reintegrating"})
    live.wait_case(case_id, lambda c: c["status"] == "closed", "the case to close", timeout=90)
