"""Fixtures for target tests: the loopback HTTP and LangGraph agents, and builders that close what they make."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from assay.core.spec import ModelRef
from assay.providers.base import ModelProvider, ProviderConfig
from assay.providers.openai import OpenAIProvider
from assay.targets.http import HTTPConfig, HTTPTarget
from assay.targets.langgraph import LangGraphConfig, LangGraphTarget
from tests.fakes.http_agent import HTTPAgent, serve_http_agent
from tests.fakes.langgraph_server import ASSISTANT_ID, FakeLangGraph, serve_fake_langgraph


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
def fake_langgraph() -> Iterator[FakeLangGraph]:
    with serve_fake_langgraph() as fake:
        yield fake


@pytest.fixture
async def make_langgraph_target(
    fake_langgraph: FakeLangGraph,
) -> AsyncIterator[Callable[..., LangGraphTarget]]:
    """``make(api_key="lg-secret-key-123", **config)``: a LangGraphTarget on the fake server."""
    targets: list[LangGraphTarget] = []

    def make(api_key: str | None = "lg-secret-key-123", **config: Any) -> LangGraphTarget:
        config = {"base_url": fake_langgraph.url, "assistant_id": ASSISTANT_ID, **config}
        target = LangGraphTarget(LangGraphConfig(**config), api_key=api_key)
        targets.append(target)
        return target

    yield make
    for target in targets:
        await target.aclose()
