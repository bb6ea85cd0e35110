"""The `homeward` command as an operator uses it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from core.db import session_scope
from core.security import verify_password
from models import Agency, AuditEntry, User
from models.enums import Role
from tests.support.live import free_port

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HOMEWARD_DATABASE_URL", raising=False)
    return tmp_path


def test_db_upgrade_creates_the_database(env: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (env / "homeward.db").exists()


def test_create_admin_takes_the_password_from_the_environment(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEWARD_ADMIN_PASSWORD", "a-long-admin-password")
    result = runner.invoke(app, ["create-admin", "root"])
    assert result.exit_code == 0, result.output
    assert "a-long-admin-password" not in result.output
    with session_scope(f"sqlite:///{env / 'homeward.db'}") as session:
        user = session.exec(select(User).where(User.username == "root")).one()
        assert user.role == Role.admin
        assert verify_password("a-long-admin-password", user.password_hash)


def test_create_admin_refuses_a_short_password(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMEWARD_ADMIN_PASSWORD", "short")
    result = runner.invoke(app, ["create-admin", "root"])
    assert result.exit_code == 1
    assert "12 characters" in result.output


def test_create_admin_refuses_a_taken_username(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMEWARD_ADMIN_PASSWORD", "a-long-admin-password")
    assert runner.invoke(app, ["create-admin", "root"]).exit_code == 0
    result = runner.invoke(app, ["create-admin", "root"])
    assert result.exit_code == 1
    assert "taken" in result.output


def test_demo_creates_the_corridor_once(env: Path) -> None:
    first = runner.invoke(app, ["demo"])
    again = runner.invoke(app, ["demo"])
    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    password = (env / "demo-password").read_text().strip()
    assert password in first.output
    with session_scope(f"sqlite:///{env / 'homeward.db'}") as session:
        agencies = session.exec(select(Agency)).all()
        users = session.exec(select(User)).all()
    # The four agencies of the corridor and its task-force focal point.
    assert sorted(a.kind for a in agencies) == [
        "consulate",
        "escort",
        "government",
        "ngo",
        "shelter",
    ]
    escort = next(a for a in agencies if a.kind == "escort")
    shelter = next(a for a in agencies if a.kind == "shelter")
    assert escort.escorts_children and escort.female_escorts and shelter.accepts_children
    with session_scope(f"sqlite:///{env / 'homeward.db'}") as session:
        audited = session.exec(select(AuditEntry).where(AuditEntry.action == "create_agency")).all()
    assert sorted(a.detail["agency_id"] for a in audited) == sorted(str(a.id) for a in agencies)
    consulate = next(a for a in agencies if a.kind == "consulate")
    assert (consulate.country, consulate.nationality_served) == ("IN", "BD")
    assert sorted(u.role for u in users) == sorted(
        [
            "coordinator",
            "consular_officer",
            "escort_officer",
            "shelter_officer",
            "supervisor",
            "admin",
        ]
    )


def test_bad_configuration_stops_with_the_variable_named(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEWARD_API_PORT", "not-a-port")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "api_port" in result.output


@pytest.mark.parametrize(
    ("setting", "option"),
    [
        ("HOMEWARD_API_PORT", None),
        ("HOMEWARD_PREFECT_PORT", None),
        (None, "--inbox-port"),
    ],
)
def test_up_names_a_busy_port_and_the_setting_that_moves_it(
    env: Path, monkeypatch: pytest.MonkeyPatch, setting: str | None, option: str | None
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("HOMEWARD_API_PORT", str(free_port()))
    monkeypatch.setenv("HOMEWARD_PREFECT_PORT", str(free_port()))
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        busy = other_program.getsockname()[1]
        args = ["up", "--demo", "--inbox-port", str(busy if option else free_port())]
        if setting:
            monkeypatch.setenv(setting, str(busy))
        result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert f"Port {busy} " in result.output
    assert (setting or option or "") in result.output
    assert not (env / "homeward.db").exists()  # nothing started, nothing written


@pytest.mark.stack
def test_up_with_demo_serves_logins_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    api_port, prefect_port, inbox_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "HOMEWARD_DATA_DIR": str(tmp_path),
        "HOMEWARD_API_PORT": str(api_port),
        "HOMEWARD_PREFECT_PORT": str(prefect_port),
    }
    env.pop("PREFECT_API_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "up", "--demo", "--inbox-port", str(inbox_port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Press Ctrl-C" in line:
                break
        assert any("Press Ctrl-C" in line for line in output), "".join(output)
        assert any(f"127.0.0.1:{prefect_port}" in line for line in output)
        password = (tmp_path / "demo-password").read_text().strip()
        response = httpx.post(
            f"http://127.0.0.1:{api_port}/api/v1/auth/token",
            data={"username": "demo-coordinator", "password": password},
            timeout=10,
        )
        assert response.status_code == 200, response.text
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, "".join(output) + rest
    assert "Stopping" in rest
    for port in (api_port, prefect_port):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)


def test_purge_reports_and_defaults_to_the_retention_setting(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEWARD_RETENTION_DAYS", "400")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["purge"])
    assert result.exit_code == 0, result.output
    assert "Purged 0 case(s) closed more than 400 day(s) ago." in result.output
    refused = runner.invoke(app, ["purge", "--closed-for-days", "-1"])
    assert refused.exit_code == 2
