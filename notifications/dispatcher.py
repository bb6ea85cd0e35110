"""Sending one message to an agency's Apprise URLs, one target at a time.

Each URL gets its own `Apprise` object, so a partial failure is known per target and a
retry can skip the targets that already have the message. URLs carry credentials: they
are identified by a fingerprint, and no URL, user or password reaches an error summary.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import apprise
from apprise.plugins import url_to_dict

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

    @property
    def complete(self) -> bool:
        return not self.failed


def fingerprint(url: str) -> str:
    """A stable, non-reversible name for a target: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def send(urls: list[str], message: Message, *, timeout_seconds: int) -> Delivery:
    """Send `message` to each URL separately; never raises for a target that fails."""
    delivered: list[str] = []
    failed: list[str] = []
    errors: list[str] = []
    for url in urls:
        error = _send_one(url, message, timeout_seconds=timeout_seconds)
        if error is None:
            delivered.append(fingerprint(url))
        else:
            failed.append(fingerprint(url))
            errors.append(error)
    return Delivery(
        delivered=tuple(delivered),
        failed=tuple(failed),
        error="; ".join(errors) if errors else None,
    )


def _send_one(url: str, message: Message, *, timeout_seconds: int) -> str | None:
    """None when the target took the message, else a summary safe to store and show."""
    # A service timeout makes Apprise hand the call to a small process-wide thread pool
    # (queueing counts against the deadline) and abandon, not stop, a slow send. The
    # socket timeouts below bound each connection instead, in the caller's thread.
    asset = apprise.AppriseAsset(app_id=APP_NAME, app_desc=APP_NAME, service_timeout=0)
    service = _service_for(url, asset=asset, timeout_seconds=timeout_seconds)
    if service is None:
        return UNSUPPORTED_URL
    sender = apprise.Apprise(asset=asset)
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
    url: str, *, asset: apprise.AppriseAsset, timeout_seconds: int
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
