"""Fixtures for target tests: the loopback HTTP agent, and builders that close what they make."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from assay.core.spec import ModelRef
from assay.providers.base import ModelProvider, ProviderConfig
from assay.providers.openai import OpenAIProvider
from assay.targets.http import HTTPConfig, HTTPTarget
from tests.fakes.http_agent import HTTPAgent, serve_http_agent


@pytest.fixture
def http_agent() -> Iterator[HTTPAgent]:
    with serve_http_agent() as agent:
        yield agent


@pytest.fixture
async def make_http_target(http_agent: HTTPAgent) -> AsyncIterator[Callable[..., HTTPTarget]]:
    """``make(path="/agent", secret_headers=None, **config)``: an HTTPTarget on the fake agent."""
    targets: list[HTTPTarget] = []

    def make(
        path: str = "/agent", secret_headers: dict[str, str] | None = None, **config: Any
    ) -> HTTPTarget:
        target = HTTPTarget(HTTPConfig(url=f"{http_agent.url}{path}", **config), secret_headers)
        targets.append(target)
        return target

    yield make
    for target in targets:
        await target.aclose()


@pytest.fixture
async def make_provider() -> AsyncIterator[Callable[[ModelRef, ProviderConfig], ModelProvider]]:
    """The real OpenAI provider, as the engine would pass it to ``create_target``."""
    providers: list[ModelProvider] = []

    def make(ref: ModelRef, config: ProviderConfig) -> ModelProvider:
        provider = OpenAIProvider(ref.model, config)
        providers.append(provider)
        return provider

    yield make
    for provider in providers:
        await provider.aclose()


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL nothing listens on, so connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
