"""Builders for test data and running services. Data goes through services, so it obeys
the same validation as real input."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from assay.api.app import create_app
from assay.core.principal import Role
from assay.services.container import open_container
from assay.services.keys import create_key
from assay.settings import Settings
from tests.fakes.openai_server import FakeLLM, serve_in_thread

#: What tests allow outbound: the loopback network their fake servers listen on.
LOOPBACK = "127.0.0.0/8"


def make_settings(
    tmp_path: Path,
    database_url: str | None = None,
    fake_llm: FakeLLM | None = None,
    **overrides: Any,
) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url or f"sqlite+aiosqlite:///{tmp_path / 'assay.db'}",
        "data_dir": tmp_path / "data",
        "judge_model": "mock/judge",
        "poll_interval": 0.05,
        "retry_base_delay": 0.01,
        # The fakes listen on loopback, which the server refuses by default.
        "outbound_allow": LOOPBACK,
        # The engine in a thread of the test's server: its own process (the default) costs
        # every test a second interpreter start, about a second. The process engine is
        # tested on its own (tests/engine/test_engine_apart.py) and by every `assay serve`.
        "engine": "thread",
    }
    if fake_llm is not None:
        values |= {
            "judge_model": "openai/judge",
            "openai_api_key": "sk-test-secret",
            "openai_base_url": fake_llm.url,
        }
    return Settings(**(values | overrides))


async def make_key(
    settings: Settings, org: str = "default", role: Role = Role.ADMIN, workspace: str | None = None
) -> str:
    container = await open_container(settings)
    try:
        return await create_key(container, org, workspace, role)
    finally:
        await container.aclose()


@dataclass
class RunningAssay:
    url: str
    settings: Settings

    def client(self, key: str | None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)

    async def key(
        self, org: str = "default", role: Role = Role.ADMIN, workspace: str | None = None
    ) -> str:
        return await make_key(self.settings, org, role, workspace)


@contextmanager
def serve_assay(settings: Settings, run_workers: bool = True) -> Iterator[RunningAssay]:
    """The real app under uvicorn on 127.0.0.1, in a thread, with its lifespan (migrations, engine)."""
    with serve_in_thread(create_app(settings, run_workers=run_workers), lifespan="on") as url:
        yield RunningAssay(url=url, settings=settings)


def postgres_reachable() -> bool:
    return reachable(5432)


def redis_reachable() -> bool:
    return reachable(6379)


def reachable(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port`` (a service tests need)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for one test; dropped afterwards."""
    import asyncpg

    name = f"assay_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="test")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="test")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> None:
    """Poll an async predicate until it is true; fail the test after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assay_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment an `assay` process needs to use the same database and fake LLM."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "OPENAI_", "ANTHROPIC_"))
    }
    env |= {
        "ASSAY_DATABASE_URL": settings.database_url,
        "ASSAY_DATA_DIR": str(settings.data_dir),
        "ASSAY_JUDGE_MODEL": settings.judge_model,
        "ASSAY_POLL_INTERVAL": str(settings.poll_interval),
    }
    if settings.outbound_allow is not None:
        env["ASSAY_OUTBOUND_ALLOW"] = settings.outbound_allow
    if settings.openai_base_url:
        env["OPENAI_BASE_URL"] = settings.openai_base_url
    if settings.openai_api_key:
        env["OPENAI_API_KEY"] = settings.openai_api_key.get_secret_value()
    return env | extra


@contextmanager
def assay_process(
    args: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m assay ARGS` as a real process; terminated (if still running) on exit."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "assay", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()  # reaped here, so no later test inherits a zombie's warning
                process.wait(timeout=10)
                raise
