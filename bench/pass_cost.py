"""What Prefect stores for one case: state writes, task runs and API calls per pass.

Starts Homeward as `homeward up` does, walks N cases from launch to `closed` one after
another, then reads the local Prefect server's database and log: per case, its flow runs'
states, task runs and their states and log rows;
per pass (each flow run start or resume), the same divided by the passes. Also the peak
memory of one pass's process, read from /proc while the cases walk. (The local server logs
no requests; each row counted here is at least one request to it.)

Run: .venv/bin/python -m bench.pass_cost [--cases 3]
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests.integration.test_case_lifecycle import walk_to_closed
from tests.support.live import Live, running_stack


@dataclass(frozen=True)
class Cost:
    passes: int
    flow_run_states: int
    task_runs: int
    task_run_states: int
    logs: int


def measure(live: Live, case_ids: list[str]) -> Cost:
    """Prefect's rows for these cases' flow runs."""
    database = live.settings.data_dir / "prefect" / "prefect.db"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        names = ",".join("?" * len(case_ids))
        references = [live.case("coordinator", c)["reference"] for c in case_ids]
        runs = [
            row[0]
            for row in connection.execute(
                f"SELECT id FROM flow_run WHERE name IN ({names})",  # noqa: S608
                references,
            )
        ]
        marks = ",".join("?" * len(runs))

        def count(query: str) -> int:
            return int(connection.execute(query.format(marks), runs).fetchone()[0])

        states = count("SELECT count(*) FROM flow_run_state WHERE flow_run_id IN ({})")
        passes = count(
            "SELECT count(*) FROM flow_run_state WHERE flow_run_id IN ({}) AND type = 'RUNNING'"
        )
        task_runs = count("SELECT count(*) FROM task_run WHERE flow_run_id IN ({})")
        task_states = count(
            "SELECT count(*) FROM task_run_state WHERE task_run_id IN "
            "(SELECT id FROM task_run WHERE flow_run_id IN ({}))"
        )
        logs = count("SELECT count(*) FROM log WHERE flow_run_id IN ({})")
    return Cost(passes, states, task_runs, task_states, logs)


class PeakMemory:
    """The largest resident size of any flow-run process seen while it watches."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            for status in Path("/proc").glob("[0-9]*/status"):
                try:
                    text = status.read_text()
                    command = (status.parent / "cmdline").read_bytes()
                except OSError:
                    continue
                if b"prefect.engine" not in command and b"flow_run" not in command:
                    continue
                found = re.search(r"VmRSS:\s+(\d+) kB", text)
                if found:
                    self.peak_kib = max(self.peak_kib, int(found.group(1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, running_stack(Path(directory)) as live:
        started = time.monotonic()
        case_ids = []
        with PeakMemory() as memory:
            for _ in range(args.cases):
                case_ids.append(walk_to_closed(live))
        seconds = time.monotonic() - started
        time.sleep(2)
        cost = measure(live, case_ids)
    per = max(cost.passes, 1)
    print(f"{args.cases} cases walked to closed in {seconds:.0f} s; {cost.passes} passes")
    print(f"{'figure':<28}{'in all':>10}{'per pass':>10}")
    for name, value in [
        ("flow run states", cost.flow_run_states),
        ("task runs", cost.task_runs),
        ("task run states", cost.task_run_states),
        ("log rows", cost.logs),
    ]:
        print(f"{name:<28}{value:>10}{value / per:>10.1f}")
    print(f"{'peak RSS of a pass (MiB)':<28}{memory.peak_kib / 1024:>10.0f}")


if __name__ == "__main__":
    main()
