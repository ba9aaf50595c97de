"""Shared fixtures: a clean environment, the fake LLM server, and service databases.

Helpers for building test data live in ``tests/factories.py`` and fakes in ``tests/fakes/``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.factories import (
    RunningAssay,
    fresh_postgres_database,
    make_settings,
    postgres_reachable,
    redis_reachable,
    serve_assay,
)
from tests.fakes.langgraph_server import langgraph_dev_available, serve_langgraph_dev
from tests.fakes.openai_server import FakeLLM, FakeLLMRoutes, serve_fake_llm_routes

#: pytest's own fixture for running pytest sessions (the Assay pytest plugin's tests).
pytest_plugins = ["pytester"]

_CLEARED_PREFIXES = ("ASSAY_", "OPENAI_", "ANTHROPIC_")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's keys or settings (the environment, not our code, is patched)."""
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) and name != "ASSAY_REQUIRE_SERVICES":
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def fake_llm_routes() -> Iterator[FakeLLMRoutes]:
    """One fake LLM server per test worker; each test gets a fake of its own on it."""
    with serve_fake_llm_routes() as routes:
        yield routes


@pytest.fixture
def fake_llm(fake_llm_routes: FakeLLMRoutes) -> Iterator[FakeLLM]:
    with fake_llm_routes.fake() as fake:
        yield fake


def _services_required() -> bool:
    return os.environ.get("ASSAY_REQUIRE_SERVICES") == "1"


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each storage test runs on SQLite and on a fresh PostgreSQL database.

    PostgreSQL tests skip when the server is unreachable, unless ASSAY_REQUIRE_SERVICES=1
    (as on CI), where they fail instead.
    """
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'assay.db'}"
        return
    if not postgres_reachable():
        if _services_required():
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required (ASSAY_REQUIRE_SERVICES=1)")
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not reachable")
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def redis_url() -> str:
    """Redis on 127.0.0.1:6379; skips when unreachable, unless ASSAY_REQUIRE_SERVICES=1."""
    if not redis_reachable():
        if _services_required():
            pytest.fail("Redis on 127.0.0.1:6379 is required (ASSAY_REQUIRE_SERVICES=1)")
        pytest.skip("Redis on 127.0.0.1:6379 is not reachable")
    return "redis://127.0.0.1:6379"


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL nothing listens on, so connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def langgraph_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``langgraph dev`` server with the booking graph, one per test worker; its URL.

    It needs ``make langgraph-env``; without it the tests skip, unless ASSAY_REQUIRE_SERVICES=1
    (as on CI, where ``make test`` builds it), where they fail. Every test uses threads of its
    own, so sharing the server shares no state.
    """
    if not langgraph_dev_available():
        if _services_required():
            pytest.fail("langgraph dev is required (make langgraph-env; ASSAY_REQUIRE_SERVICES=1)")
        pytest.skip("langgraph dev is not installed (make langgraph-env)")
    with serve_langgraph_dev(tmp_path_factory.mktemp("langgraph")) as url:
        yield url


@pytest.fixture
def assay(tmp_path: Path, fake_llm: FakeLLM) -> Iterator[RunningAssay]:
    """A running Assay on SQLite whose judge and OpenAI provider are the fake LLM."""
    with serve_assay(make_settings(tmp_path, fake_llm=fake_llm)) as running:
        yield running
