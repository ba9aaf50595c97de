"""A scripted fake OpenAI-compatible (and Anthropic Messages) server on 127.0.0.1.

The code under test reaches it through the real SDKs over real HTTP. A test scripts replies
with ``push`` (consumed in order) or sets ``handler`` to compute a reply from the request;
with neither, it echoes the last user message. Replies can carry tool calls, a latency, or
an injected error status (429 with Retry-After, 500, 503, ...). Every request is recorded,
with its arrival time (``arrivals``, wall clock) and the most requests it had in flight at
once (``max_in_flight``), for tests of limits shared across processes.

Run it in a thread with :func:`serve_fake_llm`, or as a process with
``python -m tests.fakes.openai_server --port 0`` (prints its URL), which the crash tests and
benchmarks use. The ``fake_llm`` fixture shares one server per test worker
(:class:`FakeLLMRoutes`): each test's fake answers under a path of its own, so starting and
stopping a server is not paid per test, and a request that outlives its test (a retry still
in flight) finds no fake rather than the next test's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass
class FakeReply:
    content: str = ""
    tool_calls: list[dict[str, Any]] = field(
        default_factory=list
    )  # [{"name":..., "arguments": {...}}]
    status: int = 200
    latency: float = 0.0
    retry_after: float | None = None
    prompt_tokens: int = 10
    completion_tokens: int = 5


class FakeLLM:
    def __init__(self) -> None:
        self.script: deque[FakeReply] = deque()
        self.handler: Callable[[dict[str, Any]], FakeReply] | None = None
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.latency = 0.0
        self.arrivals: list[float] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self.url = ""  # set when serving: http://127.0.0.1:PORT/v1

    def most_in_window(self, window: float) -> int:
        """The most requests that arrived within any span of ``window`` seconds."""
        times = sorted(self.arrivals)
        return max(
            (sum(1 for t in times[i:] if t - start < window) for i, start in enumerate(times)),
            default=0,
        )

    def push(self, *replies: FakeReply | str) -> None:
        for r in replies:
            self.script.append(FakeReply(content=r) if isinstance(r, str) else r)

    def _next(self, body: dict[str, Any]) -> FakeReply:
        with self._lock:
            if self.script:
                return self.script.popleft()
        if self.handler is not None:
            return self.handler(body)
        return FakeReply(content=f"echo: {last_user_text(body)}")

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> JSONResponse:
            body = await request.json()
            return await self._respond(request, body, openai_body)

        @app.post("/v1/messages")
        async def messages(request: Request) -> JSONResponse:
            body = await request.json()
            return await self._respond(request, body, anthropic_body)

        return app

    async def _respond(
        self,
        request: Request,
        body: dict[str, Any],
        render: Callable[[FakeReply, dict[str, Any]], dict[str, Any]],
    ) -> JSONResponse:
        with self._lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            self.arrivals.append(time.time())
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            reply = self._next(body)
            delay = reply.latency or self.latency
            if delay:
                await asyncio.sleep(delay)
        finally:
            with self._lock:
                self.in_flight -= 1
        if reply.status != 200:
            headers = (
                {"retry-after": str(reply.retry_after)} if reply.retry_after is not None else {}
            )
            error = {
                "error": {"message": f"injected {reply.status}", "type": "fake_error", "code": None}
            }
            return JSONResponse(error, status_code=reply.status, headers=headers)
        return JSONResponse(render(reply, body))


def last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            return str(content)
    return ""


def openai_body(reply: FakeReply, body: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": c["name"], "arguments": json.dumps(c.get("arguments", {}))},
            }
            for i, c in enumerate(reply.tool_calls)
        ]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if reply.tool_calls else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }


def anthropic_body(reply: FakeReply, body: dict[str, Any]) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if reply.content:
        content.append({"type": "text", "text": reply.content})
    for i, c in enumerate(reply.tool_calls):
        content.append(
            {
                "type": "tool_use",
                "id": f"toolu_{i}",
                "name": c["name"],
                "input": c.get("arguments", {}),
            }
        )
    return {
        "id": f"msg_{uuid.uuid4().hex[:12]}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "fake"),
        "content": content,
        "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": reply.prompt_tokens, "output_tokens": reply.completion_tokens},
    }


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve_in_thread(app: Any, lifespan: str = "off") -> Iterator[str]:
    """Serve an ASGI app on 127.0.0.1 in a thread; yields ``http://127.0.0.1:PORT``."""
    sock = _bound_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("fake server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class FakeLLMRoutes:
    """An ASGI app that hands ``/{token}/...`` to the fake registered under ``token``."""

    def __init__(self) -> None:
        self._fakes: dict[str, ASGIApp] = {}
        self.base = ""  # set when serving: http://127.0.0.1:PORT

    @contextmanager
    def fake(self) -> Iterator[FakeLLM]:
        """A new fake at ``{base}/{token}/v1``, answering until the block ends."""
        fake, token = FakeLLM(), uuid.uuid4().hex
        self._fakes[token] = fake.app()
        fake.url = f"{self.base}/{token}/v1"
        try:
            yield fake
        finally:
            del self._fakes[token]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        _, token, rest = (scope["path"] + "/").split("/", 2)
        app = self._fakes.get(token)
        if scope["type"] != "http" or app is None:  # a request from a test that has ended
            await JSONResponse({"error": {"message": "no such fake"}}, 404)(scope, receive, send)
            return
        path = "/" + rest.removesuffix("/")
        await app(scope | {"path": path, "raw_path": path.encode()}, receive, send)


@contextmanager
def serve_fake_llm_routes() -> Iterator[FakeLLMRoutes]:
    routes = FakeLLMRoutes()
    with serve_in_thread(routes) as base:
        routes.base = base
        yield routes


@contextmanager
def serve_fake_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM()
    with serve_in_thread(fake.app()) as base:
        fake.url = f"{base}/v1"
        yield fake


def main() -> None:
    """Run as a process: a fixed latency and a fixed reply, for crash tests and benchmarks."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--reply", default="")
    args = parser.parse_args()
    fake = FakeLLM()
    fake.latency = args.latency
    if args.reply:
        fake.handler = lambda _body: FakeReply(content=args.reply)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    print(f"http://127.0.0.1:{sock.getsockname()[1]}/v1", flush=True)  # noqa: T201
    uvicorn.Server(uvicorn.Config(fake.app(), log_level="warning", lifespan="off")).run(
        sockets=[sock]
    )


if __name__ == "__main__":
    main()
