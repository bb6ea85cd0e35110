"""A local HTTP endpoint that Apprise `json://` URLs post to, recording what arrives.

    with Sink() as sink:
        url = sink.url_for("consulate")          # json://127.0.0.1:PORT/consulate
        ...
        sink.wait_for(lambda s: len(s.messages("consulate")) == 1)

Apprise's JSON payload carries the text under "message"; each recorded message also has it
under "body", so tests read `m["title"]` and `m["body"]` whatever the service calls it.

Fault modes, per path: `fail` (answer 500, always or the next N times), `fail_for` (500
for a while), `hang` (read the request, never answer), `stall` (take the message, answer
late), `trickle` (take the message, answer one byte at a time). A target that refuses
connections is a port nothing listens on: `reserve_port()`, then `Sink(port=...)` later.

Only requests answered 200 count as received. Each carries Homeward's idempotency key
(`Idempotency-Key`), so `tally` tells deliveries from duplicates as a receiver would.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

# A hung request is let go after this long at most, so no test thread outlives its test.
MAX_HANG_SECONDS = 120.0
KEY_HEADER = "Idempotency-Key"


def reserve_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on (connections to it are refused) until a Sink takes it."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Received:
    path: str
    payload: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    key: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Tally:
    """What a receiver that dedupes by idempotency key would see at one path."""

    received: int  # requests answered 200
    distinct: int  # different keys among them (a request without a key counts alone)
    duplicated: int  # received - distinct
    refused: int  # answered 500
    hung: int  # read and never answered


class Sink:
    """Records JSON POSTs per path; `fail`/`stall` make a path misbehave until `recover`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._wanted_port = port
        self._lock = threading.Condition()
        self._received: list[Received] = []
        self._failing: dict[str, int | None] = {}  # path → 500s left (None: until recover)
        self._failing_until: dict[str, float] = {}
        self._hanging: set[str] = set()
        self._trickles: dict[str, float] = {}
        self._delays: dict[str, float] = {}
        self._refused: Counter[str] = Counter()
        self._hung: Counter[str] = Counter()
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Sink:
        if self._server is not None:
            return self
        self._released.clear()
        server = ThreadingHTTPServer((self._host, self._wanted_port), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._released.set()  # let hung requests go
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sink is not running; call start() or use `with Sink()`")
        return int(self._server.server_address[1])

    def url_for(self, name: str) -> str:
        """The Apprise URL whose messages are recorded under `name`."""
        return f"json://{self._host}:{self.port}/{name.strip('/')}"

    # -- behaviour ---------------------------------------------------------------------

    def fail(self, name: str, times: int | None = None) -> None:
        """Answer 500 (and record nothing) for `name`: the next `times` requests, or every
        one until `recover(name)`."""
        with self._lock:
            self._failing[_path(name)] = times

    def fail_for(self, name: str, seconds: float) -> None:
        """Answer 500 for `name` for the next `seconds`, then normally."""
        with self._lock:
            self._failing_until[_path(name)] = time.monotonic() + seconds

    def hang(self, name: str) -> None:
        """Read each request for `name` and never answer it (until `recover` or `stop`);
        a hung request is not received: the endpoint never got to process it."""
        with self._lock:
            self._hanging.add(_path(name))

    def stall(self, name: str, seconds: float) -> None:
        """Hold each answer for `name` this long, as an overloaded service does; the message
        is received even if the sender has given up by then."""
        with self._lock:
            self._delays[_path(name)] = seconds

    def trickle(self, name: str, seconds: float) -> None:
        """Receive each message for `name`, then answer 200 a byte at a time over `seconds`:
        no read ever waits long, yet the answer takes that long."""
        with self._lock:
            self._trickles[_path(name)] = seconds

    def recover(self, name: str) -> None:
        """Answer `name` normally again."""
        path = _path(name)
        with self._lock:
            self._failing.pop(path, None)
            self._failing_until.pop(path, None)
            self._hanging.discard(path)
            self._trickles.pop(path, None)
            self._delays.pop(path, None)
            self._lock.notify_all()

    # -- what arrived ------------------------------------------------------------------

    def messages(self, name: str | None = None) -> list[dict[str, Any]]:
        """Payloads received (for one name, or all), oldest first."""
        with self._lock:
            return [
                dict(r.payload) for r in self._received if name is None or r.path == _path(name)
            ]

    def arrivals(self, name: str | None = None) -> list[tuple[float, dict[str, Any]]]:
        """(time.monotonic() at arrival, payload) pairs, oldest first."""
        with self._lock:
            return [
                (r.at, dict(r.payload))
                for r in self._received
                if name is None or r.path == _path(name)
            ]

    def count(self, name: str | None = None) -> int:
        return len(self.messages(name))

    @property
    def refused(self) -> int:
        """How many POSTs were answered with 500."""
        with self._lock:
            return sum(self._refused.values())

    def hung(self, name: str | None = None) -> int:
        """How many requests were read and never answered."""
        with self._lock:
            return self._hung[_path(name)] if name is not None else sum(self._hung.values())

    def keys(self, name: str | None = None) -> list[str | None]:
        """The idempotency keys of the messages received, oldest first."""
        with self._lock:
            return [r.key for r in self._received if name is None or r.path == _path(name)]

    def headers(self, name: str | None = None) -> list[dict[str, str]]:
        """The request headers of the messages received, oldest first."""
        with self._lock:
            return [
                dict(r.headers) for r in self._received if name is None or r.path == _path(name)
            ]

    def tally(self, name: str) -> Tally:
        path = _path(name)
        with self._lock:
            keys = [r.key for r in self._received if r.path == path]
            refused, hung = self._refused[path], self._hung[path]
        distinct = len({k for k in keys if k is not None}) + sum(k is None for k in keys)
        return Tally(len(keys), distinct, len(keys) - distinct, refused, hung)

    def clear(self) -> None:
        with self._lock:
            self._received.clear()
            self._refused.clear()
            self._hung.clear()

    def wait_for(self, predicate: Callable[[Sink], bool], timeout: float = 10.0) -> None:
        """Block until `predicate(self)` holds; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"sink condition not met within {timeout}s; received {self._received!r}"
                    )
                self._lock.wait(min(remaining, 0.1))

    # -- called by the request handler -------------------------------------------------

    def _mode_for(self, path: str) -> tuple[str, float]:
        """How to answer one request now: ("ok"|"fail"|"hang"|"trickle", seconds)."""
        with self._lock:
            if path in self._hanging:
                self._hung[path] += 1
                self._lock.notify_all()
                return "hang", 0.0
            failing = path in self._failing or (
                path in self._failing_until and time.monotonic() < self._failing_until[path]
            )
            if failing:
                left = self._failing.get(path)
                if left is not None:
                    if left <= 1:
                        self._failing.pop(path)
                    else:
                        self._failing[path] = left - 1
                self._refused[path] += 1
                self._lock.notify_all()
                return "fail", 0.0
            if path in self._trickles:
                return "trickle", self._trickles[path]
            return "ok", self._delays.get(path, 0.0)

    def _wait_released(self, path: str) -> None:
        deadline = time.monotonic() + MAX_HANG_SECONDS
        with self._lock:
            while path in self._hanging and not self._released.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._lock.wait(min(remaining, 0.2))

    def _record(self, path: str, payload: dict[str, Any], headers: dict[str, str]) -> None:
        with self._lock:
            if "message" in payload and "body" not in payload:
                payload["body"] = payload["message"]
            key = next((v for k, v in headers.items() if k.lower() == KEY_HEADER.lower()), None)
            self._received.append(Received(path=path, payload=payload, key=key, headers=headers))
            self._lock.notify_all()


def _path(name: str) -> str:
    return "/" + name.strip("/")


def _handler_for(sink: Sink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                payload = json.loads(raw or b"{}")
            except ValueError:
                payload = {"raw": raw.decode("utf-8", "replace")}
            if not isinstance(payload, dict):
                payload = {"raw": payload}
            path = self.path.split("?", 1)[0].rstrip("/") or "/"
            mode, seconds = sink._mode_for(path)
            if mode == "hang":
                sink._wait_released(path)
                self.close_connection = True
                return  # the connection closes without an answer
            if mode == "fail":
                self._answer(500, b'{"ok": false}')
                return
            sink._record(path, payload, dict(self.headers.items()))
            if mode == "trickle":
                self._trickle(seconds)
                return
            time.sleep(seconds)
            self._answer(200, b'{"ok": true}')

        def _answer(self, code: int, body: bytes) -> None:
            try:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                self.close_connection = True  # the sender gave up before the answer

        def _trickle(self, seconds: float) -> None:
            head = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Slow: " + b"z" * 40
            pause = seconds / len(head)
            try:
                for byte in head:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(pause)
                self.wfile.write(b"\r\n\r\n")
            except OSError:
                pass  # the sender gave up
            self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            # Quiet: test output should show failures, not every request.
            return

    return Handler
