"""VertexProvider: the OpenAI SDK against the fake OpenAI-compatible server, Google tokens."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from assay.core.errors import (
    ConfigurationError,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from assay.core.llm import ChatMessage, ChatRequest
from assay.core.outcome import ToolCall
from assay.core.spec import ModelRef
from assay.providers._registry import get_provider
from assay.providers.base import ModelProvider, ProviderConfig
from assay.providers.vertex import VertexProvider
from tests.fakes.openai_server import FakeLLM, FakeReply, serve_in_thread

MODEL = "google/gemini-2.0-flash"
ACCESS_TOKEN = "ya29.caller-token-never-echo-this"


class FakeTokenService:
    """Google's OAuth token endpoint, as a service account's refresh sees it."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.expires_in = 3600
        self.status = 200
        self.url = ""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/token")
        async def token(request: Request) -> JSONResponse:
            self.requests.append(dict(parse_qsl((await request.body()).decode())))
            if self.status != 200:
                error = {"error": "invalid_grant", "error_description": "Token has been revoked."}
                return JSONResponse(error, status_code=self.status)
            return JSONResponse(
                {
                    "access_token": f"ya29.adc-{len(self.requests)}",
                    "expires_in": self.expires_in,
                    "token_type": "Bearer",
                }
            )

        return app


@pytest.fixture
def token_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTokenService]:
    """Application Default Credentials whose refresh goes to a fake token service.

    Only the environment is patched (google-auth's ADC chain reads it), never our code.
    """
    service = FakeTokenService()
    with serve_in_thread(service.app()) as url:
        service.url = url
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        adc = tmp_path / "adc.json"
        adc.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": "assay-tests",
                    "private_key_id": "fake-key-id",
                    "private_key": pem.decode(),
                    "client_email": "assay@assay-tests.iam.gserviceaccount.com",
                    "client_id": "1234567890",
                    "token_uri": f"{url}/token",
                }
            )
        )
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
        yield service


@pytest.fixture
async def make_vertex(fake_llm: FakeLLM) -> AsyncIterator[Any]:
    """``make(model=MODEL, **config)``: a VertexProvider on the fake LLM, closed afterwards."""
    providers: list[ModelProvider] = []

    def make(model: str = MODEL, **config: Any) -> VertexProvider:
        config.setdefault("base_url", fake_llm.url)
        config.setdefault("ambient_credentials", True)
        provider = VertexProvider(model, ProviderConfig(**config))
        providers.append(provider)
        return provider

    yield make
    for provider in providers:
        await provider.aclose()


def ask(text: str = "hi", **options: Any) -> ChatRequest:
    return ChatRequest(messages=[ChatMessage(role="user", content=text)], **options)


async def test_an_access_token_is_the_bearer_and_the_openai_code_does_the_rest(
    fake_llm: FakeLLM, make_vertex: Any
):
    fake_llm.push(
        FakeReply(
            content="Checking.",
            tool_calls=[{"name": "get_weather", "arguments": {"city": "Oslo"}}],
            prompt_tokens=21,
            completion_tokens=4,
        )
    )
    request = ChatRequest(
        messages=[
            ChatMessage(role="system", content="Be terse."),
            ChatMessage(role="user", content="Weather in Oslo?"),
        ],
        temperature=0.2,
        max_tokens=32,
        tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
    )

    response = await make_vertex(api_key=ACCESS_TOKEN).generate(request)

    assert response.text == "Checking."
    assert response.tool_calls == [
        ToolCall(name="get_weather", arguments={"city": "Oslo"}, id="call_0")
    ]
    assert (response.usage.input_tokens, response.usage.output_tokens) == (21, 4)
    [body] = fake_llm.requests
    assert body["model"] == MODEL
    assert body["messages"][0] == {"role": "system", "content": "Be terse."}
    assert (body["temperature"], body["max_tokens"]) == (0.2, 32)
    assert body["tools"][0]["function"]["name"] == "get_weather"
    assert fake_llm.headers[0]["authorization"] == f"Bearer {ACCESS_TOKEN}"


async def test_without_a_token_adc_is_used_and_reused_until_it_expires(
    fake_llm: FakeLLM, token_service: FakeTokenService, make_vertex: Any
):
    provider = make_vertex()
    await asyncio.gather(*(provider.generate(ask(str(i))) for i in range(5)))
    await provider.generate(ask("again"))

    # One refresh for six calls, five of them concurrent.
    assert len(token_service.requests) == 1
    assert token_service.requests[0]["grant_type"].endswith(":jwt-bearer")
    assert {h["authorization"] for h in fake_llm.headers} == {"Bearer ya29.adc-1"}

    # A token inside google-auth's refresh margin is stale: each call refreshes it.
    token_service.expires_in = 60
    stale = make_vertex()
    await stale.generate(ask("one"))
    await stale.generate(ask("two"))
    assert [h["authorization"] for h in fake_llm.headers[-2:]] == [
        "Bearer ya29.adc-2",
        "Bearer ya29.adc-3",
    ]


async def test_missing_or_refused_adc_is_a_refused_key(
    fake_llm: FakeLLM,
    token_service: FakeTokenService,
    make_vertex: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
):
    token_service.status = 400
    with pytest.raises(ProviderRejected, match="refused to refresh") as refused:
        await make_vertex().generate(ask())
    assert refused.value.status_code == 401
    assert "PRIVATE KEY" not in refused.value.message

    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(ProviderRejected, match="no Google credentials") as missing:
        await make_vertex().generate(ask())
    assert missing.value.status_code == 401
    assert fake_llm.requests == []


async def test_an_unreachable_token_service_is_unavailable(
    token_service: FakeTokenService, make_vertex: Any, closed_port_url: str, tmp_path: Path
):
    adc = tmp_path / "adc.json"
    adc.write_text(adc.read_text().replace(token_service.url, closed_port_url))

    with pytest.raises(ProviderUnavailable, match="token"):
        await make_vertex().generate(ask())


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, ProviderRejected),
        (403, ProviderRejected),
        (404, ProviderRejected),
        (429, ProviderRateLimited),
        (503, ProviderUnavailable),
    ],
)
async def test_statuses_map_to_the_provider_contract(
    fake_llm: FakeLLM, make_vertex: Any, status: int, error: type[ProviderError]
):
    fake_llm.push(FakeReply(status=status))

    with pytest.raises(ProviderError) as caught:
        await make_vertex(api_key=ACCESS_TOKEN).generate(ask())

    assert type(caught.value) is error and caught.value.status_code == status
    assert len(fake_llm.requests) == 1


async def test_tokens_never_appear_in_errors(
    hostile_server: str, token_service: FakeTokenService, make_vertex: Any
):
    echo = f"{hostile_server}/echo/v1"
    for provider in (make_vertex(api_key=ACCESS_TOKEN, base_url=echo), make_vertex(base_url=echo)):
        with pytest.raises(ProviderRejected) as caught:
            await provider.generate(ask())
        assert caught.value.status_code == 401
        assert "Incorrect API key provided: ***" in caught.value.message
        assert "ya29." not in str(caught.value)


def test_an_endpoint_is_required():
    with pytest.raises(ConfigurationError, match="project_id"):
        VertexProvider(MODEL, ProviderConfig(api_key=ACCESS_TOKEN))


def test_connection_keys_do_not_change_when_adc_tokens_do(make_vertex: Any):
    adc, caller = make_vertex(), make_vertex(api_key=ACCESS_TOKEN)

    assert adc.connection_key() == make_vertex().connection_key()
    assert adc.connection_key() != caller.connection_key()
    assert ACCESS_TOKEN not in caller.connection_key()


async def test_the_registry_builds_it(fake_llm: FakeLLM):
    provider = get_provider(
        ModelRef.parse(f"vertex/{MODEL}"),
        ProviderConfig(base_url=fake_llm.url, ambient_credentials=True),
    )

    assert isinstance(provider, VertexProvider) and provider.model == MODEL
    await provider.aclose()


def test_a_missing_google_auth_names_the_extra(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delitem(sys.modules, "assay.providers.vertex", raising=False)
    monkeypatch.setitem(sys.modules, "google.auth", None)

    with pytest.raises(ConfigurationError, match=r"pip install 'assay\[vertex\]'"):
        get_provider(ModelRef.parse(f"vertex/{MODEL}"), ProviderConfig(base_url="http://x"))
