"""A broken corridor file stops Homeward before anything starts."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from core.settings import Settings
from domain.corridors import CorridorConfigError
from tests.support.live import free_port

ROOT = Path(__file__).resolve().parents[2]

BROKEN = """\
defaults:
  deadlines:
    verify_nationality: 90d
corridors:
  - from: IN
    to: BD
    deadlines:
      accept_placement: soon
"""


def test_up_with_a_broken_corridor_file_exits_naming_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "corridors.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    data_dir = tmp_path / "data"  # `up` creates it first thing once configuration is good
    api_port, prefect_port, inbox_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "HOMEWARD_CORRIDORS_FILE": str(broken),
        "HOMEWARD_DATA_DIR": str(data_dir),
        "HOMEWARD_API_PORT": str(api_port),
        "HOMEWARD_PREFECT_PORT": str(prefect_port),
    }
    env.pop("PREFECT_API_URL", None)
    env.pop("HOMEWARD_DATABASE_URL", None)
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "up", "--demo", "--inbox-port", str(inbox_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # if it wrongly starts a stack, the whole group is stopped
    )
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=60)
        pytest.fail(f"`homeward up` started despite a broken corridor file:\n{out}{err}")
    elapsed = time.monotonic() - started

    assert process.returncode == 2, out + err
    assert f"{broken}:8: bad duration 'soon' for accept_placement" in err, err
    assert "Traceback" not in out + err
    assert "Starting Homeward" not in out
    assert not data_dir.exists()  # no database, no logs, no secrets: nothing ran
    for port in (api_port, prefect_port, inbox_port):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
    assert elapsed < 30, elapsed


def test_the_api_refuses_to_start_with_a_broken_corridor_file(tmp_path: Path) -> None:
    broken = tmp_path / "corridors.yaml"
    broken.write_text("corridors:\n  - {from: IN, to: ZZ}\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path, corridors_file=broken)
    expected = rf"^{re.escape(str(broken))}:2: unknown country 'ZZ'"
    with pytest.raises(CorridorConfigError, match=expected):
        create_app(settings, wake_case=lambda _settings, _case_id: None)


def test_the_api_starts_with_the_shipped_file(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path), wake_case=lambda _settings, _case_id: None)
    assert app.title == "Homeward"
