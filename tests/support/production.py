"""The production shape of deploy/compose.yaml, run on this machine as plain processes.

Read from the compose file itself, so that what runs here is what it describes: PostgreSQL
with Homeward's and Prefect's databases (deploy/postgres-init.sql), a Prefect server on
PostgreSQL, the migrations, the `homeward` process work pool with the deployments of
deploy/prefect.yaml, the workers and the API processes (as many as each service's
replicas), with each service's command and environment. Only what a container engine would
provide is replaced: host names become 127.0.0.1, each process gets a free port, the image's
/app is this checkout and its data volume a temporary directory.

Run it by hand with `.venv/bin/python -m tests.support.production` (Ctrl-C stops it).
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import yaml

from core.crypto import install_keyring
from core.settings import Settings
from tests.support.live import PASSWORD, SESSION_KEYS, Live, _seed, eventually, free_port
from tests.support.postgres import psycopg_url, running_postgres
from tests.support.sink import Sink

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
INIT_SQL = ROOT / "deploy" / "postgres-init.sql"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
APP_DIR = "/app"  # where the image keeps the code (Dockerfile WORKDIR)
VARIABLE = re.compile(r"\$\{(\w+)(?::\?[^}]*)?\}")
START_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0


@dataclass
class Process:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class ProductionShape:
    """The running processes; `api_url` is the first API process, as a client would pick."""

    root: Path
    prefect_api_url: str
    api_urls: list[str]
    processes: list[Process] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return self.api_urls[0]

    def names(self) -> list[str]:
        return [p.name for p in self.processes]

    def kill(self, name: str) -> None:
        """Kill one process abruptly, with the flow-run processes a worker started."""
        process = next(p for p in self.processes if p.name == name)
        os.killpg(process.process.pid, signal.SIGKILL)
        process.process.wait(10)
        self.processes.remove(process)

    def stop(self) -> None:
        # Workers and APIs before the server they talk to (a worker ignores SIGTERM while
        # its server is gone).
        for process in reversed(self.processes):
            try:
                os.killpg(process.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            try:
                process.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.process.pid, signal.SIGKILL)
                process.process.wait(STOP_TIMEOUT)
        self.processes.clear()


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


def dockerfile_command() -> list[str]:
    """The image's CMD: what an API container runs."""
    found = re.search(r"^CMD (\[.*\])$", DOCKERFILE.read_text(), re.M)
    assert found, "deploy/Dockerfile has no CMD"
    return list(yaml.safe_load(found.group(1)))


def replicas(service: dict[str, Any]) -> int:
    return int(service.get("deploy", {}).get("replicas", 1))


class Renderer:
    """Turns a container's environment and command into this machine's."""

    def __init__(self, values: dict[str, str], hosts: dict[str, str], data_dir: Path) -> None:
        self.values = values
        self.hosts = hosts  # "postgres:5432" -> "127.0.0.1:54321"
        self.data_dir = data_dir

    def text(self, value: object) -> str:
        rendered = VARIABLE.sub(lambda m: self.values[m.group(1)], str(value))
        for container, local in self.hosts.items():
            rendered = rendered.replace(f"@{container}/", f"@{local}/")
            rendered = rendered.replace(f"//{container}/", f"//{local}/")
        return rendered.replace("/var/lib/homeward", str(self.data_dir))

    def environment(self, service: dict[str, Any]) -> dict[str, str]:
        declared = service.get("environment", {})
        return {key: self.text(value) for key, value in declared.items()}

    def command(self, service: dict[str, Any]) -> list[str]:
        command = service["command"]
        return [
            self.text(part)
            for part in (shlex.split(command) if isinstance(command, str) else command)
        ]


@contextmanager
def production_shape(root: Path, *, sink: Sink | None = None, **overrides: str) -> Iterator[Live]:
    """Start the compose file's services, seed one corridor, stop everything afterwards.

    `overrides`: environment variables given to every Homeward process on top of the
    compose file's (what an operator's .env file would add)."""
    services = compose()["services"]
    # The session's ring, as every stack of a test session uses: the test process writes
    # rows (and installs this ring) that every stack must read.
    keyring = SESSION_KEYS
    with ExitStack() as cleanup:
        server_url = cleanup.enter_context(running_postgres())
        with psycopg.connect(psycopg_url(server_url), autocommit=True) as connection:
            connection.execute(INIT_SQL.read_text())  # what the postgres image runs at init
        postgres_port = server_url.rsplit(":", 1)[1].split("/")[0]
        prefect_port = free_port()
        api_ports = [free_port() for _ in range(replicas(services["api"]))]
        data_dir = root / "data"
        data_dir.mkdir(parents=True)
        values = {
            "HOMEWARD_DB_PASSWORD": "unused-with-trust-auth",
            "HOMEWARD_JWT_SECRET": secrets.token_urlsafe(48),
            "HOMEWARD_ENCRYPTION_KEYS": keyring.serialize(),
            "HOMEWARD_PUBLIC_URL": f"http://127.0.0.1:{api_ports[0]}",
        }
        render = Renderer(
            values,
            {
                "postgres:5432": f"127.0.0.1:{postgres_port}",
                "prefect-server:4200": f"127.0.0.1:{prefect_port}",
            },
            data_dir,
        )
        shape = ProductionShape(
            root,
            prefect_api_url=f"http://127.0.0.1:{prefect_port}/api",
            api_urls=[f"http://127.0.0.1:{port}" for port in api_ports],
        )
        cleanup.callback(shape.stop)
        base = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("HOMEWARD_", "PREFECT_"))},
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            **overrides,
        }

        server = services["prefect-server"]
        command = render.command(server)
        command[command.index("--host") + 1] = "127.0.0.1"  # never beyond loopback here
        _spawn(
            shape,
            "prefect-server",
            [*command, "--port", str(prefect_port)],
            {**base, **render.environment(server), "PREFECT_HOME": str(root / "prefect-server")},
        )
        eventually(lambda: _ok(f"{shape.prefect_api_url}/health"), START_TIMEOUT, "Prefect")

        homeward = {**base, **render.environment(services["migrate"])}
        _run(shape, "migrate", render.command(services["migrate"]), homeward)
        flows = services["deploy-flows"]
        _run(
            shape,
            "deploy-flows",
            render.command(flows),
            {**base, **render.environment(flows), "HOMEWARD_APP_DIR": str(ROOT)},
        )

        worker = services["worker"]
        for n in range(1, replicas(worker) + 1):
            _spawn(
                shape,
                f"worker-{n}",
                render.command(worker),
                {**base, **render.environment(worker), "HOMEWARD_APP_DIR": str(ROOT)},
            )
        api = services["api"]
        for n, port in enumerate(api_ports, start=1):
            command = dockerfile_command()
            command[command.index("--host") + 1] = "127.0.0.1"
            command[command.index("--port") + 1] = str(port)
            _spawn(shape, f"api-{n}", command, {**base, **render.environment(api)})
        for url in shape.api_urls:
            eventually(lambda u=url: _ok(f"{u}/api/v1/health"), START_TIMEOUT, f"the API at {url}")

        settings = Settings(
            data_dir=root,  # logs/ of every process are under it
            database_url=render.text(services["migrate"]["environment"]["HOMEWARD_DATABASE_URL"]),
            public_url=values["HOMEWARD_PUBLIC_URL"],
        )
        install_keyring(keyring)
        sink = sink or cleanup.enter_context(Sink())
        http = cleanup.enter_context(httpx.Client(base_url=shape.api_url, timeout=30))
        live = Live(shape, settings, sink, http)  # type: ignore[arg-type]
        _seed(live)
        yield live


def _spawn(shape: ProductionShape, name: str, command: list[str], env: dict[str, str]) -> None:
    log = shape.root / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    shape.processes.append(Process(name, process, log))


def _run(shape: ProductionShape, name: str, command: list[str], env: dict[str, str]) -> None:
    """A one-off service (migrations, registering deployments): it must succeed."""
    log = shape.root / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )
    log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise RuntimeError(
            f"{name} exited with {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    import tempfile

    signal.signal(signal.SIGTERM, _interrupt)  # stop every process, as Ctrl-C does
    with tempfile.TemporaryDirectory() as directory, production_shape(Path(directory)) as live:
        shape: ProductionShape = live.stack  # type: ignore[assignment]
        print(f"Prefect UI: {shape.prefect_api_url.removesuffix('/api')}")
        print(f"API processes: {', '.join(shape.api_urls)}")
        print(f"Users (password {PASSWORD}): admin, coordinator, consul, escort, shelter, shelter2")
        print(f"Processes: {', '.join(shape.names())}; logs in {shape.root / 'logs'}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
