"""Refuse request bodies over ``max_body_bytes`` before anything reads them.

FastAPI reads and parses a JSON body before it runs a route's dependencies, authentication
included, so without this an anonymous client could make the server hold any amount of
memory. This is plain ASGI, outside every route: a declared ``Content-Length`` over the
limit is answered 413 at once, unread; a chunked (or lying) body is counted as it streams
and cut off with a 413 at the first byte past the limit, so at most the limit plus one
chunk is ever held. The 413 is in the envelope of the dialect that serves the path.

Before the 413 is sent, the rest of the body is read and thrown away, one chunk at a time,
for up to ``DRAIN_SECONDS``: closing a socket with unread data makes the kernel send a reset,
and the client (which, like most, reads the answer only once it has sent its body) would
lose the answer it is owed. Once the answer is out the connection is closed. A client that
sent ``Expect: 100-continue`` has sent no body yet and gets its 413 at once.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assay.api.errors import error_response
from assay.core.errors import PayloadTooLarge

#: How long the rest of a refused body is read and discarded before the connection closes.
DRAIN_SECONDS = 2.0


class BodyLimit:
    """ASGI middleware; ``max_bytes`` is ``Settings.max_body_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            if _header(scope, b"expect") != "100-continue":
                await _drain(receive)
            await _refuse(self.max_bytes, scope, receive, send)
            return
        await _Counted(self.app, self.max_bytes, scope, receive, send).run()


async def _refuse(max_bytes: int, scope: Scope, receive: Receive, send: Send) -> None:
    error = PayloadTooLarge(f"request body over {max_bytes} bytes; see ASSAY_MAX_BODY_BYTES")
    response = error_response(scope["path"], error)
    # The unread rest of the body must not be taken for the next request.
    response.headers["Connection"] = "close"
    await response(scope, receive, send)


async def _drain(receive: Receive) -> None:
    """Read and drop the rest of the body, for at most ``DRAIN_SECONDS``."""
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            while True:
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    return
    except TimeoutError:
        return


class _Counted:
    """One request whose body is counted as the app reads it."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, scope: Scope, receive: Receive, send: Send
    ) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.scope, self.receive, self.send = scope, receive, send
        self.received = 0
        self.started = False
        self.refused = False

    async def run(self) -> None:
        await self.app(self.scope, self._receive, self._send)

    async def _receive(self) -> Message:
        message = await self.receive()
        if message["type"] != "http.request" or self.refused:
            return message
        self.received += len(message.get("body", b""))
        if self.received <= self.max_bytes:
            return message
        self.refused = True
        if not self.started:
            self.started = True
            if message.get("more_body", False):
                await _drain(self.receive)
            await _refuse(self.max_bytes, self.scope, self.receive, self.send)
        # The app sees the client go away and stops; whatever it answers is dropped.
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1").strip().lower())
    return None
