"""Assay's aiohttp client and the official SDK give the same outcome for the same answer."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from assay.core.errors import ProviderError
from assay.core.llm import ChatMessage, ChatRequest
from assay.providers.base import ProviderConfig
from assay.providers.openai import OpenAIProvider
from tests.fakes.openai_server import FakeLLM, FakeReply, serve_in_thread
from tests.providers.conftest import API_KEY

SCRIPT = [
    FakeReply(content="Paris", prompt_tokens=12, completion_tokens=3),
    FakeReply(tool_calls=[{"name": "multiply", "arguments": {"a": 12, "b": 7}}]),
    FakeReply(status=429, retry_after=1.5),
    FakeReply(status=429),
    FakeReply(status=503),
    FakeReply(status=401),
    FakeReply(status=404),
    FakeReply(content="late", latency=2.0),
]


def outcome(result: Any) -> Any:
    """What a kind or the engine can see of a call: the response, or the error's every field."""
    if isinstance(result, ProviderError):
        retry_after = getattr(result, "retry_after", None)
        return (type(result).__name__, result.message, result.status_code, retry_after)
    return result.model_copy(update={"latency_ms": 0.0})


async def play(transport: str, url: str) -> list[Any]:
    provider = OpenAIProvider(
        "gpt-test",
        ProviderConfig(api_key=API_KEY, base_url=url, timeout=0.5, transport=transport),
    )
    results: list[Any] = []
    try:
        for _ in SCRIPT:
            request = ChatRequest(messages=[ChatMessage(role="user", content="q")], max_tokens=9)
            try:
                results.append(outcome(await provider.generate(request)))
            except ProviderError as exc:
                results.append(outcome(exc))
    finally:
        await provider.aclose()
    return results


async def test_both_transports_give_the_same_responses_and_errors(fake_llm: FakeLLM):
    fake_llm.push(*SCRIPT)
    via_aiohttp = await play("aiohttp", fake_llm.url)
    sent_by_aiohttp = list(fake_llm.requests)
    fake_llm.requests.clear()
    fake_llm.push(*SCRIPT)
    via_sdk = await play("sdk", fake_llm.url)

    assert via_aiohttp[:-1] == via_sdk[:-1]
    assert via_aiohttp[2] == (
        "ProviderRateLimited",
        f"OpenAI API at {fake_llm.url} answered HTTP 429: injected 429",
        429,
        1.5,
    )
    # A timeout: both unavailable, each naming the endpoint (the causes' wording differs).
    for late in (via_aiohttp[-1], via_sdk[-1]):
        assert late[0] == "ProviderUnavailable"
        assert late[1].startswith(f"no answer from OpenAI API at {fake_llm.url}: ")
    assert sent_by_aiohttp == fake_llm.requests, "the same request bodies reach the server"


@pytest.mark.parametrize("transport", ["aiohttp", "sdk"])
async def test_a_redirect_to_another_origin_does_not_carry_the_key(
    fake_llm: FakeLLM, transport: str
):
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def away() -> RedirectResponse:
        return RedirectResponse(f"{fake_llm.url}/chat/completions", status_code=307)

    with serve_in_thread(app) as redirector:
        provider = OpenAIProvider(
            "gpt-test",
            ProviderConfig(api_key=API_KEY, base_url=f"{redirector}/v1", transport=transport),
        )
        try:
            response = await provider.generate(
                ChatRequest(messages=[ChatMessage(role="user", content="q")])
            )
        finally:
            await provider.aclose()

    assert response.text == "echo: q", "the redirect was followed to the model"
    assert "authorization" not in fake_llm.headers[-1], "the key stays with its own origin"
