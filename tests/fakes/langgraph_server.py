"""A fake LangGraph Platform server on 127.0.0.1, for the ``langgraph`` target's tests.

It implements the endpoints the target uses, as the real API shapes them:
``POST /threads`` (returns ``thread_id``), ``POST /threads/{thread_id}/runs/wait`` (runs the
assistant on the thread, returns the thread's state values) and
``GET /threads/{thread_id}/state``, and what a retried turn and a connector check ask:
``GET /threads/{thread_id}/runs`` (each run with its metadata), ``GET .../runs/{id}/join`` and
``POST /assistants/search``. Each thread keeps its messages in LangChain's serialised
shape (``type: "human" | "ai" | "system" | "tool"``); the assistant is the deterministic
booking assistant of :func:`booking_reply`. An unknown thread is 404 and an unknown
``assistant_id`` 422, as on the real server.

A test scripts the next run with ``push`` (an error status with Retry-After, a raw body, a
whole JSON body such as ``{"__error__": ...}``, a latency, or a failure after the run was
accepted), or fails thread creation with
``fail_threads``. Every request is recorded with its method, path, headers and JSON body.

:func:`serve_langgraph_dev` runs the *real* ``langgraph dev`` server (from its own
environment, ``make langgraph-env``) on the same assistant, from ``langgraph_graph.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
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

from tests.fakes.booking_agent import ASSISTANT_ID, booking_reply
from tests.fakes.http_agent import RecordedRequest
from tests.fakes.openai_server import serve_in_thread


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
    #: The server accepted the run and the assistant ran, but the client is told otherwise
    #: (a proxy's 504 after the server took the run): only ``status`` and ``latency`` apply.
    accepted: bool = False


@dataclass
class FakeLangGraph:
    assistant_id: str = ASSISTANT_ID
    threads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    script: deque[RunReply] = field(default_factory=deque)
    fail_threads: deque[RunReply] = field(default_factory=deque)
    #: Each thread's runs, oldest first, as ``GET /threads/{id}/runs`` lists them.
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
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
            if scripted is not None and not scripted.accepted:
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
                run = {"run_id": str(uuid.uuid4()), "thread_id": thread_id, "status": "success"}
                self.runs.setdefault(thread_id, []).append(
                    run | {"metadata": body.get("metadata") or {}}
                )
                values = {"messages": _with_ids(messages)}
            if scripted is not None:
                return await _render(scripted)
            return JSONResponse(values)

        @app.get("/threads/{thread_id}/state")
        async def state(thread_id: str) -> Response:
            if thread_id not in self.threads:
                return JSONResponse({"detail": "Thread not found."}, 404)
            return JSONResponse({"values": {"messages": self.threads[thread_id]}, "next": []})

        self._add_run_lookups(app)
        return app

    def _add_run_lookups(self, app: FastAPI) -> None:
        """What a retry and a connector check ask: a thread's runs, a join, an assistant."""

        @app.get("/threads/{thread_id}/runs")
        async def list_runs(thread_id: str, request: Request) -> Response:
            await self._record(request)
            if thread_id not in self.threads:
                return JSONResponse({"detail": "Thread not found."}, 404)
            return JSONResponse(list(reversed(self.runs.get(thread_id, []))))

        @app.get("/threads/{thread_id}/runs/{run_id}/join")
        async def join(thread_id: str, run_id: str, request: Request) -> Response:
            await self._record(request)
            if not any(r["run_id"] == run_id for r in self.runs.get(thread_id, [])):
                return JSONResponse({"detail": "Run not found."}, 404)
            return JSONResponse({"messages": _with_ids(self.threads[thread_id])})

        @app.post("/assistants/search")
        async def search_assistants(request: Request) -> Response:
            body = await self._record(request)
            if body.get("graph_id") != self.assistant_id:
                return JSONResponse([])
            return JSONResponse([{"assistant_id": str(uuid.uuid4()), "graph_id": ASSISTANT_ID}])

    async def _record(self, request: Request) -> Any:
        body = await request.json() if request.method == "POST" else None
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


#: The dev server's own environment (``make langgraph-env``, from
#: ``tests/langgraph-requirements.txt``): ``langgraph-cli[inmem]`` pulls in a server stack
#: (uvloop, blockbuster, OpenTelemetry, a LangSmith pytest plugin) that stays out of ``.venv``.
REPO = Path(__file__).resolve().parents[2]
LANGGRAPH_VENV = REPO / ".venv-langgraph"


def langgraph_dev_available() -> bool:
    """Whether the real dev server is installed in its environment (``make langgraph-env``)."""
    return _langgraph_executable().exists()


def _langgraph_executable() -> Path:
    return LANGGRAPH_VENV / "bin" / "langgraph"


@contextmanager
def serve_langgraph_dev(workdir: Path, startup_timeout: float = 120.0) -> Iterator[str]:
    """Run ``langgraph dev`` on 127.0.0.1 with the booking graph; yields its base URL.

    The server requires :data:`API_KEY` in ``x-api-key`` (``langgraph_auth.py``), as a
    deployment does. Offline: no browser, no reload, no tracing or analytics. The server
    process is ended by its own id when the block exits.
    """
    fakes = Path(__file__).parent
    config = workdir / "langgraph.json"
    config.write_text(
        json.dumps(
            {
                "dependencies": ["."],
                "graphs": {ASSISTANT_ID: f"{fakes / 'langgraph_graph.py'}:graph"},
                "auth": {"path": f"{fakes / 'langgraph_auth.py'}:auth"},
            }
        )
    )
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
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
            if httpx.get(f"{url}/ok", timeout=5).status_code == 200:
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
