"""A local HTTP endpoint that Apprise `json://` URLs post to, recording what arrives.

    with Sink() as sink:
        url = sink.url_for("consulate")          # json://127.0.0.1:PORT/consulate
        ...
        sink.wait_for(lambda s: len(s.messages("consulate")) == 1)

Apprise's JSON payload carries the text under "message"; each recorded message also has it
under "body", so tests read `m["title"]` and `m["body"]` whatever the service calls it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    payload: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class Sink:
    """Records JSON POSTs per path; `fail`/`stall` make a path misbehave until `recover`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._lock = threading.Condition()
        self._received: list[Received] = []
        self._failing: set[str] = set()
        self._delays: dict[str, float] = {}
        self._refused = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Sink:
        if self._server is not None:
            return self
        server = ThreadingHTTPServer((self._host, 0), _handler_for(self))
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

    def fail(self, name: str) -> None:
        """Answer 500 (and record nothing) for `name` until `recover(name)`."""
        with self._lock:
            self._failing.add(_path(name))

    def stall(self, name: str, seconds: float) -> None:
        """Hold each answer for `name` this long, as an overloaded service does."""
        with self._lock:
            self._delays[_path(name)] = seconds

    def recover(self, name: str) -> None:
        """Answer `name` normally again."""
        with self._lock:
            self._failing.discard(_path(name))
            self._delays.pop(_path(name), None)

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
            return self._refused

    def clear(self) -> None:
        with self._lock:
            self._received.clear()
            self._refused = 0

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

    def _delay_for(self, path: str) -> float:
        with self._lock:
            return self._delays.get(path, 0.0)

    def _record(self, path: str, payload: dict[str, Any]) -> bool:
        with self._lock:
            if path in self._failing:
                self._refused += 1
                self._lock.notify_all()
                return False
            if "message" in payload and "body" not in payload:
                payload["body"] = payload["message"]
            self._received.append(Received(path=path, payload=payload))
            self._lock.notify_all()
            return True


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
            time.sleep(sink._delay_for(path))
            ok = sink._record(path, payload)
            body = b'{"ok": true}' if ok else b'{"ok": false}'
            self.send_response(200 if ok else 500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            # Quiet: test output should show failures, not every request.
            return

    return Handler
