from __future__ import annotations

import socket
import time

import pytest

from notifications.dispatcher import UNSUPPORTED_URL, _scrub, _service_for, fingerprint, send
from notifications.messages import Message
from tests.support.sink import Sink

MESSAGE = Message(title="Homeward HW-AB12-CD34: case closed", body="Case HW-AB12-CD34 is closed.")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_each_target_gets_the_title_and_body(sink: Sink) -> None:
    urls = [sink.url_for("consulate"), sink.url_for("shelter")]

    delivery = send(urls, MESSAGE, timeout_seconds=2)

    assert delivery.delivered == tuple(fingerprint(u) for u in urls)
    assert delivery.failed == ()
    assert delivery.error is None
    for name in ("consulate", "shelter"):
        [received] = sink.messages(name)
        assert received["title"] == MESSAGE.title
        assert received["body"] == MESSAGE.body


def test_fingerprint_is_short_stable_and_hides_the_url() -> None:
    url = "json://user:secret@example.org/hook"

    assert fingerprint(url) == fingerprint(url)
    assert len(fingerprint(url)) == 16
    assert fingerprint(url) != fingerprint(url + "2")
    assert "secret" not in fingerprint(url)


def test_refused_connection_fails_without_revealing_the_url(sink: Sink) -> None:
    port = closed_port()
    dead = f"json://hw-user:s3cr3t-pass@127.0.0.1:{port}/x-hook"
    urls = [dead, sink.url_for("shelter")]

    delivery = send(urls, MESSAGE, timeout_seconds=2)

    assert delivery.delivered == (fingerprint(urls[1]),)
    assert delivery.failed == (fingerprint(dead),)
    assert delivery.error is not None
    assert delivery.error.startswith("JSON: ")
    assert "connection error" in delivery.error.lower()
    for leak in ("s3cr3t", "hw-user", "json://", "@", "x-hook", str(port)):
        assert leak not in delivery.error


def test_server_error_is_a_failure_for_that_target_only(sink: Sink) -> None:
    sink.fail("consulate")
    urls = [sink.url_for("consulate"), sink.url_for("shelter")]

    delivery = send(urls, MESSAGE, timeout_seconds=2)

    assert delivery.failed == (fingerprint(urls[0]),)
    assert delivery.delivered == (fingerprint(urls[1]),)
    assert delivery.error is not None and "500" in delivery.error
    assert sink.refused == 1
    assert sink.messages("consulate") == []


@pytest.mark.parametrize("url", ["nonsense", "bogus://somewhere/else", "", "json://"])
def test_unusable_urls_are_failures(url: str) -> None:
    delivery = send([url], MESSAGE, timeout_seconds=1)

    assert delivery.failed == (fingerprint(url),)
    assert delivery.error == UNSUPPORTED_URL


def test_a_stalled_target_is_given_up_after_the_timeout(sink: Sink) -> None:
    sink.stall("slow", 5)

    started = time.monotonic()
    delivery = send([sink.url_for("slow")], MESSAGE, timeout_seconds=1)

    assert time.monotonic() - started < 4
    assert delivery.failed == (fingerprint(sink.url_for("slow")),)


def test_timeouts_apply_unless_the_url_sets_its_own() -> None:
    import apprise

    asset = apprise.AppriseAsset()
    default = _service_for("json://127.0.0.1:9/x", asset=asset, timeout_seconds=3)
    own = _service_for("json://127.0.0.1:9/x?cto=7&rto=11", asset=asset, timeout_seconds=3)

    assert default is not None and own is not None
    assert (default.socket_connect_timeout, default.socket_read_timeout) == (3, 3)
    assert (own.socket_connect_timeout, own.socket_read_timeout) == (7, 11)


def test_scrub_hides_tokens_credentials_and_urls() -> None:
    url = "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-100200300"
    text = (
        "Failed for 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw via "
        "https://api.telegram.org/bot123/sendMessage as admin:hunter2@host"
    )

    scrubbed = _scrub(text, url)

    for leak in ("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "123456789", "https://", "hunter2"):
        assert leak not in scrubbed
    assert scrubbed.startswith("Failed for")


def test_apprise_debug_records_with_urls_are_dropped(
    sink: Sink, caplog: pytest.LogCaptureFixture
) -> None:
    url = sink.url_for("debug-leak").replace("json://", "json://user:s3cr3t-token@")
    with caplog.at_level(1, logger="apprise"):  # as low as an operator could set it
        send([url], Message(title="t", body="b"), timeout_seconds=2)
    assert "s3cr3t-token" not in caplog.text
