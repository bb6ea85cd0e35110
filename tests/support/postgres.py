"""A private, throwaway PostgreSQL server for the test session, and fresh databases on it."""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from core.db import engine_for

POSTGRES_ROOT = Path("/usr/lib/postgresql")
USER = "homeward"
DATABASE = "homeward"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
# PostgreSQL refuses to run as root; in CI we are root, so the server runs as this user.
SYSTEM_USER = "postgres"
VERSION = re.compile(r"\d+(\.\d+)?")


class PostgresUnavailable(RuntimeError):
    """The server could not be found or did not start."""


def find_bin_dir(root: Path = POSTGRES_ROOT) -> Path:
    """The bin directory of the newest PostgreSQL installed under /usr/lib/postgresql."""
    candidates = [
        path.parent
        for path in root.glob("*/bin/postgres")
        if (path.parent / "initdb").exists() and VERSION.fullmatch(path.parent.parent.name)
    ]
    if not candidates:
        raise PostgresUnavailable(
            f"no PostgreSQL under {root}: run scripts/install-system.sh "
            "or set HOMEWARD_TEST_POSTGRES_URL"
        )
    return max(candidates, key=lambda bin_dir: tuple(map(int, bin_dir.parent.name.split("."))))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def psycopg_url(sqlalchemy_url: str, database: str | None = None) -> str:
    """The libpq form of a SQLAlchemy URL, optionally pointing at another database."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    if database is not None:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


@dataclass
class LocalPostgres:
    """One postgres process on loopback with trust auth, living in a temporary directory."""

    bin_dir: Path
    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    postmaster_pid: int | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sockets"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def _as_server_user(self, argv: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", SYSTEM_USER, "--", *argv]
        return argv

    def _hand_over_dirs(self) -> None:
        if os.geteuid() != 0:
            return
        account = pwd.getpwnam(SYSTEM_USER)
        for path in (self.root, self.socket_dir, self.log_file):
            os.chown(path, account.pw_uid, account.pw_gid)

    def start(self) -> None:
        self.socket_dir.mkdir(mode=0o700)
        self.log_file.touch(mode=0o600)
        self._hand_over_dirs()
        initdb = self._as_server_user(
            [
                str(self.bin_dir / "initdb"),
                "-D", str(self.data_dir),
                "-U", USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )  # fmt: skip
        result = subprocess.run(initdb, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PostgresUnavailable(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        self.serve()
        with psycopg.connect(psycopg_url(self.url, "postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))

    def serve(self) -> None:
        """Run the server on the data directory made by `start`; after `stop`, again."""
        server = self._as_server_user(
            [
                str(self.bin_dir / "postgres"),
                "-D", str(self.data_dir),
                "-p", str(self.port),
                "-k", str(self.socket_dir),
                "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off",
                "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off",
                "-c", "max_connections=200",
            ]
        )  # fmt: skip
        with self.log_file.open("ab") as log:
            # Own session: a Ctrl-C in the terminal reaches pytest, which then stops us cleanly.
            self.process = subprocess.Popen(
                server, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_until_ready()
        self.postmaster_pid = self._read_postmaster_pid()

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        conninfo = psycopg_url(self.url, "postgres")
        while True:
            if self.process.poll() is not None:
                raise PostgresUnavailable(f"postgres exited at start:\n{self.log()}")
            try:
                with psycopg.connect(conninfo, connect_timeout=2):
                    return
            except psycopg.OperationalError as error:
                if time.monotonic() > deadline:
                    self.stop()
                    raise PostgresUnavailable(
                        f"postgres did not accept connections within {START_TIMEOUT:.0f} s "
                        f"({error}):\n{self.log()}"
                    ) from error
            time.sleep(0.05)

    def _read_postmaster_pid(self) -> int:
        # Under runuser our child is runuser itself; the server's own PID is in this file.
        assert self.process is not None
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return self.process.pid

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-4000:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then SIGKILL if it has not stopped in time."""
        process = self.process
        if process is None:
            return
        pid = self.postmaster_pid or self._read_postmaster_pid()
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            for target in {pid, process.pid}:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(target, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT)
        self.process = None
        self.postmaster_pid = None


@contextlib.contextmanager
def running_postgres() -> Iterator[str]:
    """Start a private server, yield its SQLAlchemy URL, stop it and remove every file."""
    root = Path(tempfile.mkdtemp(prefix="homeward-pg-"))
    server = LocalPostgres(bin_dir=find_bin_dir(), root=root, port=free_port())
    try:
        server.start()
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def fresh_database(server_url: str, *, template: str | None = None) -> Iterator[str]:
    """A new database on the server for the duration of the block: empty, or a copy of the
    database named `template` (which nobody may be connected to meanwhile)."""
    name = f"hw_test_{uuid.uuid4().hex[:16]}"
    admin = psycopg_url(server_url)
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(create)
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
