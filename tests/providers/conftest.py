"""Fixtures for provider tests: builders that close what they make, and misbehaving servers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from assay.providers.base import ModelProvider, ProviderConfig
from tests.fakes.openai_server import FakeLLM, serve_in_thread

API_KEY = "sk-test-0123456789abcdef"

MakeProvider = Callable[..., ModelProvider]


@pytest.fixture(params=["aiohttp", "sdk"])
async def make_openai(
    fake_llm: FakeLLM, request: pytest.FixtureRequest
) -> AsyncIterator[MakeProvider]:
    """``make(model="gpt-test", **config)``: an OpenAIProvider on the fake LLM by default.

    Every test using it runs on both transports, Assay's aiohttp client and the official SDK.
    """
    from assay.providers.openai import OpenAIProvider

    providers: list[ModelProvider] = []

    def make(model: str = "gpt-test", **config: Any) -> ModelProvider:
        config.setdefault("base_url", fake_llm.url)
        config.setdefault("api_key", API_KEY)
        config.setdefault("transport", request.param)
        provider = OpenAIProvider(model, ProviderConfig(**config))
        providers.append(provider)
        return provider

    yield make
    for provider in providers:
        await provider.aclose()


@pytest.fixture
async def make_anthropic(fake_llm: FakeLLM) -> AsyncIterator[MakeProvider]:
    """``make(model="claude-test", **config)``: an AnthropicProvider on the fake LLM by default.

    The SDK appends ``/v1/messages`` itself, so the base URL is the fake's host.
    """
    from assay.providers.anthropic import AnthropicProvider

    providers: list[ModelProvider] = []

    def make(model: str = "claude-test", **config: Any) -> ModelProvider:
        config.setdefault("base_url", fake_llm.url.removesuffix("/v1"))
        config.setdefault("api_key", API_KEY)
        provider = AnthropicProvider(model, ProviderConfig(**config))
        providers.append(provider)
        return provider

    yield make
    for provider in providers:
        await provider.aclose()


def _hostile_app() -> FastAPI:
    """Routes that misbehave the way real servers do.

    ``/echo``: a 401 whose message repeats the bearer token. ``/garbage``: a 200 whose body
    is not what the API promises.
    """
    app = FastAPI()

    @app.post("/echo/v1/chat/completions")
    @app.post("/echo/v1/messages")
    async def echo(request: Request) -> JSONResponse:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        message = f"Incorrect API key provided: {token}"
        return JSONResponse(
            {"error": {"message": message, "type": "authentication_error"}}, status_code=401
        )

    @app.post("/garbage/v1/chat/completions")
    async def not_json() -> PlainTextResponse:
        return PlainTextResponse("hello, I am not JSON")

    @app.post("/garbage/v1/messages")
    async def not_a_message() -> JSONResponse:
        return JSONResponse({"unexpected": True})

    return app


@pytest.fixture
def hostile_server() -> Iterator[str]:
    """Base URL (host only) of the misbehaving server; add ``/echo`` or ``/garbage``."""
    with serve_in_thread(_hostile_app()) as url:
        yield url
