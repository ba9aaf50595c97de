"""At use time, every connection goes only where the outbound policy allows.

A name is resolved once and the client connects to the checked address, so ``localhost`` is
refused under the default policy although it passed the save-time check; and a redirect to a
refused address is not followed, by the model SDK (which follows 307s) or by httpx.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from assay.core.errors import OutboundRefused
from assay.core.llm import ChatMessage, ChatRequest
from assay.core.outbound import OutboundPolicy
from assay.http_guard import GuardedTransport
from assay.providers.base import ProviderConfig
from assay.providers.openai import OpenAIProvider
from assay.targets.http import HTTPConfig, HTTPTarget
from tests.fakes.openai_server import FakeLLM, serve_in_thread

DENY = OutboundPolicy.parse(None)
ONLY_127_0_0_1 = OutboundPolicy.parse("127.0.0.1/32")
#: Loopback too, but outside ONLY_127_0_0_1; never connected to (the redirect is refused).
ELSEWHERE = "http://127.0.0.2:9/v1/chat/completions"


def ask() -> ChatRequest:
    return ChatRequest(messages=[ChatMessage(role="user", content="hi")])


def localhost(fake: FakeLLM) -> str:
    return fake.url.replace("127.0.0.1", "localhost")


@pytest.fixture
def redirector() -> Iterator[str]:
    """A server on 127.0.0.1 that sends every request elsewhere with a 307."""
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def away(path: str) -> RedirectResponse:
        return RedirectResponse(ELSEWHERE, status_code=307)

    with serve_in_thread(app) as url:
        yield url


async def test_a_model_at_a_name_for_loopback_is_refused_at_use_time(fake_llm: FakeLLM):
    provider = OpenAIProvider(
        "m", ProviderConfig(api_key="k", base_url=localhost(fake_llm), outbound=DENY)
    )
    try:
        with pytest.raises(
            OutboundRefused, match=r"host localhost resolves to address .* \(loopback\)"
        ):
            await provider.generate(ask())
    finally:
        await provider.aclose()
    assert fake_llm.requests == []


async def test_the_resolved_address_is_used_when_it_is_allowed(fake_llm: FakeLLM):
    provider = OpenAIProvider(
        "m", ProviderConfig(api_key="k", base_url=localhost(fake_llm), outbound=ONLY_127_0_0_1)
    )
    try:
        assert (await provider.generate(ask())).text == "echo: hi"
    finally:
        await provider.aclose()
    assert fake_llm.headers[0]["host"].startswith("localhost:")


async def test_an_http_agent_at_a_name_for_loopback_is_refused_at_use_time(fake_llm: FakeLLM):
    target = HTTPTarget(HTTPConfig(url=f"{localhost(fake_llm)}/agent"), outbound=DENY)
    try:
        with pytest.raises(OutboundRefused, match="localhost"):
            await target.invoke("hi", session_id="s")
    finally:
        await target.aclose()
    assert fake_llm.requests == []


async def test_the_model_sdk_does_not_follow_a_redirect_to_a_refused_address(redirector: str):
    provider = OpenAIProvider(
        "m", ProviderConfig(api_key="k", base_url=f"{redirector}/v1", outbound=ONLY_127_0_0_1)
    )
    try:
        with pytest.raises(OutboundRefused, match=r"127\.0\.0\.2 is not allowed \(loopback\)"):
            await provider.generate(ask())
    finally:
        await provider.aclose()


async def test_httpx_does_not_follow_a_redirect_to_a_refused_address(redirector: str):
    async with httpx.AsyncClient(
        transport=GuardedTransport(ONLY_127_0_0_1), follow_redirects=True
    ) as client:
        with pytest.raises(OutboundRefused, match=r"127\.0\.0\.2"):
            await client.post(f"{redirector}/hook", json={})
