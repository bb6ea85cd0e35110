"""A ceiling on request bodies, enforced before anything parses them.

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
        await self.app(scope, _replay(chunks, None, receive), send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "error": "PayloadTooLarge",
                "detail": f"the request body is larger than {self.limit} bytes; send less",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    # The rest of the body is not read: the connection cannot carry another
                    # request after it.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


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
