"""The API alone in a real uvicorn process on loopback: no Prefect, cases are not woken.

`create` is the factory uvicorn loads in the child (`tests.support.api_server:create`); its
settings come from HOMEWARD_* variables like any Homeward process. `/health` checks Prefect
only when PREFECT_API_URL is set.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI

from api.app import create_app
from cli.stack import stop_process
from core.crypto import Keyring, install_keyring
from core.settings import Settings
from flows.control import prefect_healthy
from tests.support.postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


def _no_wake(_: Settings, __: uuid.UUID) -> bool:
    """Cases stay where the API leaves them; tests move them on with factories.advance.
    Reports the wake as taken, so that completions answer 200, not 202."""
    return True


def create() -> FastAPI:
    check = prefect_healthy if os.environ.get("PREFECT_API_URL") else None
    return create_app(Settings(), wake_case=_no_wake, prefect_healthy=check)


@dataclass
class ApiServer:
    url: str
    settings: Settings
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def running_api(
    data_dir: Path, database_url: str, *, workers: int = 1, **environment: str
) -> Iterator[ApiServer]:
    """Start `uvicorn --factory tests.support.api_server:create` on a free port.

    The test process and the server share a freshly generated key ring, installed here for
    the block, so rows either side writes decrypt on the other.
    """
    keyring = Keyring.generate(source="the test API server")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HOMEWARD_", "PREFECT_"))},
        "HOMEWARD_DATA_DIR": str(data_dir),
        "HOMEWARD_DATABASE_URL": database_url,
        "HOMEWARD_JWT_SECRET": secrets.token_urlsafe(40),
        "HOMEWARD_ENCRYPTION_KEYS": keyring.serialize(),
        "HOMEWARD_FOLLOW_UP_DAYS": "0,0",
        **environment,
    }
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        jwt_secret=env["HOMEWARD_JWT_SECRET"],
        follow_up_days=(0, 0),
    )
    log = data_dir / f"api-{port}.log"
    previous = install_keyring(keyring)
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "tests.support.api_server:create", "--factory",
                "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                "--no-access-log",
            ],
            cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    server = ApiServer(f"http://127.0.0.1:{port}", settings, process, log)
    try:
        _wait_until_serving(server)
        yield server
    finally:
        stop_process(process)
        install_keyring(previous)


def _wait_until_serving(server: ApiServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the API exited at start:\n{server.log_text()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/api/v1/health/live", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API did not serve within {START_TIMEOUT:.0f} s")
