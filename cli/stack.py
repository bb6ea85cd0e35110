"""Starting and stopping the embedded stack: Prefect server, runner, API."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from core.settings import Settings

STOP_TIMEOUT_SECONDS = 15
# Start order; stopping goes the other way (a runner outliving its server ignores signals).
ORDER = ("prefect-server", "runner", "api")


# Prefect's scheduler keeps an hour of runs ahead by default: sixty sweeps at the default
# interval, listed between the case runs in the Prefect UI. A few minutes ahead is enough
# (the scheduler tops them up every minute); the same is set in deploy/.
SCHEDULER_ENV = {
    "PREFECT_SERVER_SERVICES_SCHEDULER_MIN_RUNS": "2",
    "PREFECT_SERVER_SERVICES_SCHEDULER_MIN_SCHEDULED_TIME": "PT3M",
}


class StackError(RuntimeError):
    pass


@dataclass(frozen=True)
class Port:
    """A port `homeward up` listens on, and the setting that moves it."""

    what: str
    host: str
    number: int
    setting: str

    def busy(self) -> bool:
        """Whether another program listens there. SO_REUSEADDR as the servers themselves
        bind, so a port whose last connections linger in TIME_WAIT does not count."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((self.host, self.number))
            except OSError:
                return True
        return False

    def complaint(self) -> str:
        return (
            f"Port {self.number} ({self.what}) is already in use by another program: stop it, "
            f"or choose a free port with {self.setting}."
        )


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Stack:
    """The processes of one embedded Homeward, stopped in reverse order of start."""

    settings: Settings
    prefect_api_url: str
    external_prefect: bool
    # The environment the stack was configured from; children started later (a restarted
    # runner) get this one, not whatever the parent's environment has become since.
    base_env: dict[str, str]
    services: list[Service] = field(default_factory=list)

    @classmethod
    def for_settings(cls, settings: Settings) -> Stack:
        external = os.environ.get("PREFECT_API_URL")
        return cls(
            settings,
            external or settings.local_prefect_api_url,
            external is not None,
            dict(os.environ),
        )

    def ports(self) -> list[Port]:
        ports = [
            Port("the API", self.settings.api_host, self.settings.api_port, "HOMEWARD_API_PORT")
        ]
        if not self.external_prefect:
            ports.append(
                Port("Prefect", "127.0.0.1", self.settings.prefect_port, "HOMEWARD_PREFECT_PORT")
            )
        return ports

    @property
    def log_dir(self) -> Path:
        return self.settings.data_dir / "logs"

    @property
    def api_url(self) -> str:
        return f"http://{self.settings.api_host}:{self.settings.api_port}"

    @property
    def prefect_ui_url(self) -> str:
        return self.prefect_api_url.removesuffix("/api")

    def child_env(self) -> dict[str, str]:
        env = dict(self.base_env)
        prefect_home = (self.settings.data_dir / "prefect").resolve()
        env.update(
            {
                "PREFECT_API_URL": self.prefect_api_url,
                "PREFECT_HOME": str(prefect_home),
                # A decision reaches the next agency in seconds, not the default ten.
                "PREFECT_RUNNER_POLL_FREQUENCY": env.get("PREFECT_RUNNER_POLL_FREQUENCY", "1"),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_UI_SHOW_PROMOTIONAL_CONTENT": "false",
                "HOMEWARD_DATA_DIR": str(self.settings.data_dir.resolve()),
            }
        )
        if not self.external_prefect:
            env["PREFECT_SERVER_API_HOST"] = "127.0.0.1"
            env["PREFECT_SERVER_API_PORT"] = str(self.settings.prefect_port)
            env.update(SCHEDULER_ENV)
            # A sweep that dies before its process starts frees its concurrency slot after
            # this long instead of the default 300 s (the minimum Prefect accepts is 30 s).
            # Once running, Prefect's engine renews the lease for 300 s at a time; the
            # runner frees the slot of a sweep it lost when it starts (flows/serve.py).
            env["PREFECT_SERVER_CONCURRENCY_INITIAL_DEPLOYMENT_LEASE_DURATION"] = "30"
            # Leases kept in files, not in the server's memory: a server killed while a sweep
            # held the slot forgot the lease but not the slot, and cancelled every later
            # sweep (seen after a whole-stack kill: no sweep for minutes, cases not woken).
            env["PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE"] = (
                "prefect.server.concurrency.lease_storage.filesystem"
            )
            env["PREFECT_API_DATABASE_CONNECTION_URL"] = (
                f"sqlite+aiosqlite:///{prefect_home / 'prefect.db'}"
            )
        return env

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            if not self.external_prefect:
                self.start_prefect_server()
            self.start_runner()
            self.start_api()
        except BaseException:
            self.stop()
            raise

    def start_prefect_server(self) -> None:
        server = self._spawn("prefect-server", ["-m", "prefect", "server", "start"])
        self._wait(server, "Prefect server", lambda: _http_ok(f"{self.prefect_api_url}/health"), 90)

    def start_runner(self) -> None:
        runner = self._spawn("runner", ["-m", "flows.serve"])
        self._wait(runner, "runner", self._deployments_registered, 90)

    def start_api(self) -> None:
        api = self._spawn(
            "api",
            [
                "-m",
                "uvicorn",
                "api.app:create_app",
                "--factory",
                "--host",
                self.settings.api_host,
                "--port",
                str(self.settings.api_port),
                "--no-access-log",
            ],
        )
        self._wait(api, "API", lambda: _http_ok(f"{self.api_url}/api/v1/health/live"), 60)

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def kill(self, name: str) -> None:
        """Kill one service abruptly (SIGKILL), as a crash would: its process group, which
        holds the flow-run processes a runner started."""
        service = self.service(name)
        os.killpg(service.process.pid, signal.SIGKILL)
        service.process.wait(10)
        self.services.remove(service)

    def kill_all(self) -> None:
        """Kill every service at once, as a power cut would."""
        for service in list(self.services):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(service.process.pid, signal.SIGKILL)
        for service in self.services:
            service.process.wait(10)
        self.services.clear()

    def start_service(self, name: str) -> None:
        """Start one stopped service again (after `kill`), in its place in the stop order."""
        {
            "prefect-server": self.start_prefect_server,
            "runner": self.start_runner,
            "api": self.start_api,
        }[name]()

    def _spawn(self, name: str, args: list[str]) -> Service:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as handle:
            process = subprocess.Popen(
                [sys.executable, *args],
                env=self.child_env(),
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches `up`, which stops children in order
            )
        service = Service(name, process, log)
        self.services.append(service)
        self.services.sort(key=lambda s: ORDER.index(s.name) if s.name in ORDER else len(ORDER))
        return service

    def _wait(self, service: Service, what: str, ready: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if service.process.poll() is not None:
                raise StackError(
                    f"{what} exited with {service.process.returncode}; see {service.log}"
                )
            if ready():
                return
            time.sleep(0.3)
        raise StackError(f"{what} did not become ready within {timeout:.0f} s; see {service.log}")

    def _deployments_registered(self) -> bool:
        try:
            response = httpx.get(
                f"{self.prefect_api_url}/deployments/name/repatriation/repatriation", timeout=2
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def stop(self) -> None:
        """API first, then the runner, then the server (a runner outliving its server
        ignores signals), each with a bounded wait before it is killed."""
        for service in reversed(self.services):
            stop_process(service.process)
        self.services.clear()

    def failed(self) -> Service | None:
        return next((s for s in self.services if s.process.poll() is not None), None)


def stop_process(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
