"""A fake LangGraph Platform server on 127.0.0.1, for the ``langgraph`` target's tests.

It implements the three endpoints the target uses, as the real API shapes them:
``POST /threads`` (returns ``thread_id``), ``POST /threads/{thread_id}/runs/wait`` (runs the
assistant on the thread, returns the thread's state values) and
``GET /threads/{thread_id}/state``. Each thread keeps its messages in LangChain's serialised
shape (``type: "human" | "ai" | "system" | "tool"``); the assistant is the deterministic
booking assistant of :func:`booking_reply`. An unknown thread is 404 and an unknown
``assistant_id`` 422, as on the real server.

A test scripts the next run with ``push`` (an error status with Retry-After, a raw body, a
whole JSON body such as ``{"__error__": ...}``, or a latency), or fails thread creation with
``fail_threads``. Every request is recorded with its method, path, headers and JSON body.

:func:`serve_langgraph_dev` runs the *real* ``langgraph dev`` server (when
``langgraph-cli[inmem]`` is installed) on the same assistant, from ``langgraph_graph.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from tests.fakes.http_agent import RecordedRequest
from tests.fakes.openai_server import serve_in_thread

ASSISTANT_ID = "booking"
BOOKING_ID = re.compile(r"\bB\d+\b")
USAGE = {"input_tokens": 11, "output_tokens": 7, "total_tokens": 18}


def booking_reply(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The assistant's new messages for a thread ending with a human message.

    A rule-based booking assistant that needs the earlier turns: asked to cancel without a
    booking number, it asks for one, and cancels (a ``cancel_booking`` tool call, its
    result, then a confirmation) when a later message gives it. Messages are LangChain-shaped
    dicts (``type``, ``content``, ``tool_calls``, ``tool_call_id``).
    """
    humans = [str(m.get("content", "")) for m in messages if m.get("type") == "human"]
    text = humans[-1] if humans else ""
    wants_cancel = any("cancel" in h.lower() for h in humans)
    booking = BOOKING_ID.search(text)
    if wants_cancel and booking:
        call_id = f"call_{len(humans)}"
        return [
            _ai(
                "",
                [
                    {
                        "name": "cancel_booking",
                        "args": {"booking_id": booking.group()},
                        "id": call_id,
                    }
                ],
            ),
            {"type": "tool", "content": "cancelled", "tool_call_id": call_id, "name": "cancel"},
            _ai(f"Booking {booking.group()} is cancelled."),
        ]
    if wants_cancel:
        return [_ai("Which booking should I cancel? Please give the booking number.")]
    return [_ai(f"Hello! I can cancel a booking for you. (turn {len(humans)})")]


def _ai(content: str, tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "type": "ai",
        "content": content,
        "tool_calls": tool_calls or [],
        "usage_metadata": USAGE,
        "response_metadata": {"model_name": "booking-rules"},
    }


@dataclass
class RunReply:
    """A scripted answer to the next ``runs/wait``; by default the assistant runs."""

    status: int = 200
    #: The whole JSON body (e.g. ``{"__error__": ...}``); the thread is left unchanged.
    body: Any = None
    #: A non-JSON body, sent as text/plain.
    raw: str | None = None
    latency: float = 0.0
    retry_after: str | None = None


@dataclass
class FakeLangGraph:
    assistant_id: str = ASSISTANT_ID
    threads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    script: deque[RunReply] = field(default_factory=deque)
    fail_threads: deque[RunReply] = field(default_factory=deque)
    url: str = ""  # set when serving: http://127.0.0.1:PORT

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def push(self, *replies: RunReply) -> None:
        self.script.extend(replies)

    def paths(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.requests]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/threads")
        async def create_thread(request: Request) -> Response:
            await self._record(request)
            failure = self._pop(self.fail_threads)
            if failure is not None:
                return await _render(failure)
            thread_id = str(uuid.uuid4())
            with self._lock:
                self.threads[thread_id] = []
            return JSONResponse({"thread_id": thread_id, "metadata": {}, "status": "idle"})

        @app.post("/threads/{thread_id}/runs/wait")
        async def run_wait(thread_id: str, request: Request) -> Response:
            body = await self._record(request)
            scripted = self._pop(self.script)
            if scripted is not None:
                return await _render(scripted)
            if thread_id not in self.threads:
                return JSONResponse({"detail": "Thread or assistant not found."}, 404)
            if body.get("assistant_id") != self.assistant_id:
                return JSONResponse(
                    {"detail": f"Invalid assistant: {body.get('assistant_id')}"}, 422
                )
            with self._lock:
                messages = self.threads[thread_id]
                for message in body.get("input", {}).get("messages", []):
                    messages.append(_langchain(message))
                messages.extend(booking_reply(messages))
                return JSONResponse({"messages": _with_ids(messages)})

        @app.get("/threads/{thread_id}/state")
        async def state(thread_id: str) -> Response:
            if thread_id not in self.threads:
                return JSONResponse({"detail": "Thread not found."}, 404)
            return JSONResponse({"values": {"messages": self.threads[thread_id]}, "next": []})

        return app

    async def _record(self, request: Request) -> Any:
        body = await request.json()
        with self._lock:
            self.requests.append(
                RecordedRequest(request.method, request.url.path, dict(request.headers), body)
            )
        return body

    def _pop(self, script: deque[RunReply]) -> RunReply | None:
        with self._lock:
            return script.popleft() if script else None


async def _render(reply: RunReply) -> Response:
    if reply.latency:
        await asyncio.sleep(reply.latency)
    headers = {"retry-after": reply.retry_after} if reply.retry_after is not None else {}
    if reply.raw is not None:
        return PlainTextResponse(reply.raw, status_code=reply.status, headers=headers)
    body = reply.body if reply.body is not None else {"detail": f"injected {reply.status}"}
    return JSONResponse(body, status_code=reply.status, headers=headers)


def _langchain(message: dict[str, Any]) -> dict[str, Any]:
    """An input message (``role`` or ``type``) in LangChain's serialised shape."""
    kind = message.get("type") or {"user": "human", "assistant": "ai"}.get(
        message.get("role", ""), message.get("role")
    )
    return {"type": kind, "content": message.get("content", "")}


def _with_ids(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**m, "id": m.get("id") or f"msg-{i}"} for i, m in enumerate(messages)]


@contextmanager
def serve_fake_langgraph() -> Iterator[FakeLangGraph]:
    fake = FakeLangGraph()
    with serve_in_thread(fake.app()) as base:
        fake.url = base
        yield fake


def langgraph_dev_available() -> bool:
    """Whether the real dev server (``langgraph-cli[inmem]``) is installed in this venv."""
    import importlib.util

    return (
        _langgraph_executable().exists()
        and importlib.util.find_spec("langgraph_api") is not None
        and importlib.util.find_spec("langgraph_runtime_inmem") is not None
    )


def _langgraph_executable() -> Path:
    return Path(sys.executable).parent / "langgraph"


@contextmanager
def serve_langgraph_dev(workdir: Path, startup_timeout: float = 30.0) -> Iterator[str]:
    """Run ``langgraph dev`` on 127.0.0.1 with the booking graph; yields its base URL.

    Offline: no browser, no reload, no tracing or analytics. The server process is ended
    by its own id when the block exits.
    """
    graph = Path(__file__).with_name("langgraph_graph.py")
    config = workdir / "langgraph.json"
    config.write_text(
        json.dumps({"dependencies": ["."], "graphs": {ASSISTANT_ID: f"{graph}:graph"}})
    )
    port = _free_port()
    repo = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")])),
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGSMITH_TRACING": "false",
        "LANGCHAIN_TRACING_V2": "false",
    }
    command = [
        str(_langgraph_executable()),
        *("dev", "--no-browser", "--no-reload", "--host", "127.0.0.1"),
        *("--port", str(port), "--config", str(config)),
    ]
    log = (workdir / "langgraph.log").open("wb")
    process = subprocess.Popen(
        command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(url, process, workdir, startup_timeout)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def _wait_until_ready(
    url: str, process: subprocess.Popen[bytes], workdir: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"langgraph dev exited: {(workdir / 'langgraph.log').read_text()}")
        try:
            if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"langgraph dev did not start in {timeout:g}s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
