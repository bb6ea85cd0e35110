"""The README's walk of a case to `closed`, run exactly as printed against `homeward up`."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.live import free_port

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
# The walk talks to the API where `make up` puts it.
WALK_PORT = 8000


def readme_walk() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Walk a case to `closed` with the API", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "the README's walk has no shell block"
    return match.group(1)


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_the_readme_walk_closes_its_case(tmp_path: Path) -> None:
    if not port_free(WALK_PORT):
        pytest.fail(f"the README walk needs port {WALK_PORT}, which another program holds")
    env = {
        **os.environ,
        # As `HOMEWARD_FOLLOW_UP_DAYS=0 make up` in a checkout whose data directory is
        # `.homeward` beside where the walk runs.
        "HOMEWARD_FOLLOW_UP_DAYS": "0",
        "HOMEWARD_DATA_DIR": str(tmp_path / ".homeward"),
        "HOMEWARD_API_PORT": str(WALK_PORT),
        "HOMEWARD_PREFECT_PORT": str(free_port()),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("PREFECT_API_URL", None)
    up = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "up", "--demo", "--inbox-port", str(free_port())],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    started: list[str] = []
    try:
        assert up.stdout is not None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not any("Press Ctrl-C" in s for s in started):
            line = up.stdout.readline()
            if not line:
                break
            started.append(line)
        assert any("Press Ctrl-C" in line for line in started), "".join(started)

        walk = subprocess.run(
            ["bash", "-o", "pipefail", "-c", readme_walk()],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        up.send_signal(signal.SIGINT)
        rest, _ = up.communicate(timeout=60)
    inbox = rest + "".join(started)
    assert walk.returncode == 0, walk.stdout + walk.stderr
    assert walk.stderr == "", walk.stderr
    assert "status: closed" in walk.stdout, walk.stdout
    for step in ("verify_nationality", "plan_transport", "confirm_departure", "record_follow_up"):
        assert f'"task_kind":"{step}"' in walk.stdout, step
    # Each agency was told in the `make up` window, by reference only.
    assert "[inbox: " in inbox, inbox
    assert "Amina" not in inbox and "Begum" not in inbox
