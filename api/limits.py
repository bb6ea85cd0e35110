"""A ceiling on request bodies, enforced before anything parses them, and no NUL in them.

Pure ASGI, so that it sees the body as the server delivers it: a declared Content-Length
over the limit is refused at once, unread; a body without one (chunked) is counted as it
arrives and refused as soon as it passes the limit. Either way the application never sees
more than `limit` bytes, and the caller gets 413 in the usual error shape.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestSizeLimit:
    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(send)
            return
        # The body is read here, up to the limit, and handed on whole: the application's
        # own readers (JSON, forms) then never run on an oversized body, and nothing it
        # does can turn the refusal into another answer.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away: let the application see it as it would have.
                await self.app(scope, _replay([], message, receive), send)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.limit:
                await self._refuse(send)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        if _holds_nul(scope, chunks):
            await _answer(
                send,
                422,
                "ValidationError",
                "the body contains a NUL character (\\u0000), which no field accepts; remove it",
            )
            return
        await self.app(scope, _replay(chunks, None, receive), send)

    async def _refuse(self, send: Send) -> None:
        # The rest of the body is not read: the connection cannot carry another request.
        await _answer(
            send,
            413,
            "PayloadTooLarge",
            f"the request body is larger than {self.limit} bytes; send less",
            close=True,
        )


async def _answer(send: Send, status: int, kind: str, detail: str, *, close: bool = False) -> None:
    body = json.dumps({"error": kind, "detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _holds_nul(scope: Scope, chunks: list[bytes]) -> bool:
    """Whether the body carries a NUL character, raw, JSON-escaped or form-encoded.
    No field has a use for one, SQLite would store it and PostgreSQL refuses it with an
    error: it is refused here, the same on both, before any query."""
    body = b"".join(chunks)
    if b"\x00" in body or b"\\u0000" in body:
        return True
    content_type = dict(scope.get("headers", ())).get(b"content-type", b"")
    return content_type.startswith(b"application/x-www-form-urlencoded") and b"%00" in body


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses it; counting still applies
    return None


def _replay(chunks: list[bytes], pending: Message | None, receive: Receive) -> Receive:
    """A receive that first gives the body read so far (or the message that ended the
    read), then hands on to the server's own receive (for the disconnect)."""
    first: list[Message] = [
        pending or {"type": "http.request", "body": b"".join(chunks), "more_body": False}
    ]

    async def replayed() -> Message:
        if first:
            return first.pop()
        return await receive()

    return replayed
