"""Sending one message to an agency's Apprise URLs, each target on its own.

Each URL gets its own `Apprise` object and thread, so a partial failure is known per
target, a retry can skip the targets that already have the message, and one hung target
neither delays the others nor holds the caller past a fixed bound. URLs carry
credentials: they are identified by a fingerprint, and no URL, user or password reaches an
error summary.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import apprise
from apprise.plugins import url_to_dict
from apprise.plugins.custom_form import NotifyForm
from apprise.plugins.custom_json import NotifyJSON
from apprise.plugins.custom_xml import NotifyXML
from apprise.plugins.email.base import NotifyEmail

from notifications.messages import APP_NAME, Message

UNSUPPORTED_URL = "unsupported notification URL"
# Room for a few targets' summaries inside the outbox row's 500-character error column.
_MAX_TARGET_ERROR = 160
_URL_RE = re.compile(r"\b[a-z][a-z0-9+.\-]*://\S*", re.IGNORECASE)
_USERINFO_RE = re.compile(r"[^\s/@:]+:[^\s/@]*@")
_URL_SEPARATORS = re.compile(r"[/:@?&=#,;\s]+")


class _WarningsOnly(logging.Filter):
    """Apprise logs whole target URLs, tokens included, at DEBUG and TRACE; whatever level
    an operator sets, those records never leave the process."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


logging.getLogger("apprise").addFilter(_WarningsOnly())


@dataclass(frozen=True)
class Delivery:
    """Which targets took the message (by fingerprint) and why the others did not."""

    delivered: tuple[str, ...]
    failed: tuple[str, ...]
    error: str | None
    # Failed targets whose send was still going at the deadline: it may yet succeed.
    unsettled: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.failed


def fingerprint(url: str) -> str:
    """A stable, non-reversible name for a target: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


# Sent with every webhook (json://, form://, xml://) and mail: a receiver that has seen the
# key drops the repeat. Stable per notification and target, so a resend after a crash (the
# window between the target's answer and the fingerprint being stored) carries the same one.
IDEMPOTENCY_HEADER = "Idempotency-Key"
NOTIFICATION_HEADER = "X-Homeward-Notification"
_WITH_HEADERS = (NotifyJSON, NotifyForm, NotifyXML, NotifyEmail)

# Called as each target settles, from the thread that sent to it: (fingerprint, error).
Settled = Callable[[str, str | None], None]

_log = logging.getLogger(__name__)


def delivery_key(notification_id: uuid.UUID, url: str) -> str:
    """The idempotency key of one notification to one target: the same on every resend."""
    return f"{notification_id}.{fingerprint(url)}"


def deadline_for(timeout_seconds: float) -> float:
    """The longest one send may take, whatever the target does: a connect and a read."""
    return 2 * timeout_seconds


def send(
    urls: list[str],
    message: Message,
    *,
    timeout_seconds: float,
    notification_id: uuid.UUID | None = None,
    on_settled: Settled | None = None,
) -> Delivery:
    """Send `message` to each URL separately and at once; never raises for a target that fails.

    Returns within `deadline_for(timeout_seconds)`: a target still sending then (one that
    trickles its answer, or a URL asking for Apprise retries) is left to finish in its own
    thread and listed in `unsettled`; `on_settled` still hears how it ended.
    """
    started = time.monotonic()
    bound = deadline_for(timeout_seconds)
    sends: list[_Send] = []
    for url in urls:
        headers = _headers_for(notification_id, url)
        prepared = _prepare(url, timeout_seconds=timeout_seconds, headers=headers)
        sends.append(_Send(url, prepared, message, on_settled))
    for one in sends:
        one.start()
    for one in sends:
        one.done.wait(max(0.0, started + bound - time.monotonic()))
    delivered: list[str] = []
    failed: list[str] = []
    unsettled: list[str] = []
    errors: list[str] = []
    for one in sends:
        if not one.done.is_set():
            unsettled.append(one.fingerprint)
            errors.append(f"{one.service_name}: no answer within {bound:g} s")
        elif one.error is None:
            delivered.append(one.fingerprint)
        else:
            failed.append(one.fingerprint)
            errors.append(one.error)
    return Delivery(
        delivered=tuple(delivered),
        failed=tuple(failed + unsettled),
        error="; ".join(errors) if errors else None,
        unsettled=tuple(unsettled),
    )


def _headers_for(notification_id: uuid.UUID | None, url: str) -> dict[str, str]:
    if notification_id is None:
        return {}
    return {
        IDEMPOTENCY_HEADER: delivery_key(notification_id, url),
        NOTIFICATION_HEADER: str(notification_id),
    }


class _Send:
    """One target's send, in a daemon thread: a hung target can be left behind, and does
    not keep the process from exiting."""

    def __init__(
        self,
        url: str,
        service: apprise.NotifyBase | None,
        message: Message,
        on_settled: Settled | None,
    ) -> None:
        self.url = url
        self.fingerprint = fingerprint(url)
        self.service = service
        self.service_name = service.service_name if service is not None else "unknown service"
        self.message = message
        self.on_settled = on_settled
        self.error: str | None = None
        self.done = threading.Event()

    def start(self) -> None:
        if self.service is None:
            self._settle(UNSUPPORTED_URL)
            return
        threading.Thread(target=self._run, name="homeward-send", daemon=True).start()

    def _run(self) -> None:
        try:
            assert self.service is not None
            error = _send_one(self.service, self.url, self.message)
        except Exception as exc:  # a plugin bug must not lose the outcome
            error = f"{self.service_name}: sending failed ({type(exc).__name__})"
        self._settle(error)

    def _settle(self, error: str | None) -> None:
        self.error = error
        try:
            if self.on_settled is not None:
                self.on_settled(self.fingerprint, error)
        except Exception as exc:
            # Not the text: it may quote a database URL or a target.
            _log.warning("recording a send outcome failed: %s", type(exc).__name__)
        finally:
            self.done.set()


def _prepare(
    url: str, *, timeout_seconds: float, headers: dict[str, str]
) -> apprise.NotifyBase | None:
    # A service timeout makes Apprise hand the call to a small process-wide thread pool
    # (queueing counts against the deadline) and abandon, not stop, a slow send. The
    # socket timeouts bound each connection instead, and `send` bounds the whole.
    asset = apprise.AppriseAsset(app_id=APP_NAME, app_desc=APP_NAME, service_timeout=0)
    service = _service_for(url, asset=asset, timeout_seconds=timeout_seconds)
    if service is not None and headers and isinstance(service, _WITH_HEADERS):
        service.headers.update(headers)
    return service


def _send_one(service: apprise.NotifyBase, url: str, message: Message) -> str | None:
    """None when the target took the message, else a summary safe to store and show."""
    sender = apprise.Apprise(asset=service.asset)
    if not sender.add(service):
        return UNSUPPORTED_URL
    with sender.notify(
        body=message.body,
        title=message.title,
        body_format=apprise.NotifyFormat.TEXT,
        log_level=logging.WARNING,
    ) as result:
        outcomes = list(result)
        # Judged from the attempts, not the service status: a URL with `optional=yes`
        # reports SUCCESS for a failed send, and the outbox would then never retry it.
        if any(
            attempt.status == apprise.AppriseResultStatus.SUCCESS
            for outcome in outcomes
            for attempt in outcome.attempts
        ):
            return None
        # Captured per call and per service (not through the process-wide logger that
        # `LogCapture` hooks), so concurrent sends do not see each other's errors.
        reasons = [entry.message for entry in result.logs()]
        timed_out = any(o.status == apprise.AppriseResultStatus.TIMEOUT for o in outcomes)
    reason = reasons[-1] if reasons else ("timed out" if timed_out else "delivery failed")
    text = f"{service.service_name}: {_scrub(reason, url)}"
    return text if len(text) <= _MAX_TARGET_ERROR else text[: _MAX_TARGET_ERROR - 1] + "…"


def _service_for(
    url: str, *, asset: apprise.AppriseAsset, timeout_seconds: float
) -> apprise.NotifyBase | None:
    # Parsed to a dict first so that the timeouts become constructor arguments, the way
    # Apprise itself reads `?cto=`/`?rto=` (URLBase.__init__), without rewriting the URL.
    parsed: dict[str, Any] | None = url_to_dict(url, secure_logging=True)
    if not parsed:
        return None
    parsed.setdefault("cto", timeout_seconds)
    parsed.setdefault("rto", timeout_seconds)
    service: apprise.NotifyBase | None = apprise.Apprise.instantiate(parsed, asset=asset)
    return service


def _scrub(text: str, url: str) -> str:
    """Remove URLs, `user:pass@` and every credential-looking part of `url` from `text`."""
    for secret in sorted(_secrets_in(url), key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _URL_RE.sub("<url>", text)
    return _USERINFO_RE.sub("***@", text)


def _secrets_in(url: str) -> set[str]:
    found: set[str] = set()
    for variant in {url, unquote(url)}:
        found.add(variant)
        rest = variant.split("://", 1)[-1]
        authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
        userinfo, at, _host = authority.rpartition("@")
        if at:
            found.update(part for part in userinfo.split(":") if len(part) >= 3)
        for piece in _URL_SEPARATORS.split(rest):
            # Services put tokens in the host and path (tgram://TOKEN/, discord://ID/TOKEN):
            # hide anything long enough to be one; dotted names (hosts) stay readable.
            if len(piece) >= 20 or (len(piece) >= 6 and "." not in piece):
                found.add(piece)
    return found
