"""A scripted JSON HTTP agent on 127.0.0.1, for the ``http`` target's tests.

It answers any POST, PUT or PATCH on any path. A test scripts replies with ``push``
(consumed in order); with none, it echoes: ``{"output": "echo: <input>"}``. A reply can be
any JSON body, a raw (non-JSON) text, an error status with Retry-After, a latency, or tool
calls. Every request is recorded with its method, path, headers and JSON body.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from tests.fakes.openai_server import serve_in_thread


@dataclass
class AgentReply:
    output: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    #: The whole JSON body; when set, ``output`` and ``tool_calls`` are ignored.
    body: Any = None
    #: A non-JSON body, sent as text/plain.
    raw: str | None = None
    status: int = 200
    latency: float = 0.0
    retry_after: str | None = None


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class HTTPAgent:
    def __init__(self) -> None:
        self.script: deque[AgentReply] = deque()
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self.url = ""  # set when serving: http://127.0.0.1:PORT

    def push(self, *replies: AgentReply) -> None:
        self.script.extend(replies)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/{path:path}", methods=["POST", "PUT", "PATCH"])
        async def answer(path: str, request: Request) -> Response:
            body = await request.json()
            with self._lock:
                self.requests.append(
                    RecordedRequest(request.method, f"/{path}", dict(request.headers), body)
                )
                reply = self.script.popleft() if self.script else None
            if reply is None:
                text = body.get("input", "") if isinstance(body, dict) else ""
                reply = AgentReply(output=f"echo: {text}")
            return await self._render(reply)

        return app

    async def _render(self, reply: AgentReply) -> Response:
        if reply.latency:
            await asyncio.sleep(reply.latency)
        headers = {"retry-after": reply.retry_after} if reply.retry_after is not None else {}
        if reply.raw is not None:
            return PlainTextResponse(reply.raw, status_code=reply.status, headers=headers)
        body = reply.body
        if body is None:
            body = {"output": reply.output, "tool_calls": reply.tool_calls}
        return JSONResponse(body, status_code=reply.status, headers=headers)


@contextmanager
def serve_http_agent() -> Iterator[HTTPAgent]:
    agent = HTTPAgent()
    with serve_in_thread(agent.app()) as base:
        agent.url = base
        yield agent
