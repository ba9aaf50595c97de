"""BedrockProvider through real boto3 against a fake Converse server over real HTTPS."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

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
from assay.providers.bedrock import BedrockProvider
from tests.fakes.converse_server import (
    ConverseReply,
    FakeConverse,
    isolate_aws,
    serve_fake_converse,
)

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
BEDROCK_KEY = "ABSKQmVkcm9ja0FQSUtleS1mYWtl-never-echo-this"
ACCESS_KEY_ID = "AKIDFAKEEXAMPLE0001"
SECRET_KEY = "fake-secret-key-never-echo-this"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture
def fake_converse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeConverse]:
    with serve_fake_converse(tmp_path) as fake:
        isolate_aws(monkeypatch, tmp_path, fake.ca_file)
        yield fake


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch, fake_converse: FakeConverse) -> None:
    """Fake AWS credentials and region, given through the standard chain (the environment)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")


@pytest.fixture
async def make_bedrock(fake_converse: FakeConverse) -> AsyncIterator[Any]:
    """``make(model=MODEL, **config)``: a BedrockProvider on the fake, closed afterwards."""
    providers: list[ModelProvider] = []

    def make(model: str = MODEL, **config: Any) -> BedrockProvider:
        config.setdefault("base_url", fake_converse.url)
        config.setdefault("ambient_credentials", True)
        provider = BedrockProvider(model, ProviderConfig(**config))
        providers.append(provider)
        return provider

    yield make
    for provider in providers:
        await provider.aclose()


def ask(text: str = "hi", **options: Any) -> ChatRequest:
    return ChatRequest(messages=[ChatMessage(role="user", content=text)], **options)


@pytest.mark.usefixtures("aws_credentials")
async def test_a_converse_call_is_signed_with_the_aws_chain_and_read_back(
    fake_converse: FakeConverse, make_bedrock: Any
):
    fake_converse.push(ConverseReply(text="Paris", input_tokens=12, output_tokens=3))
    request = ChatRequest(
        messages=[
            ChatMessage(role="system", content="Be terse."),
            ChatMessage(role="user", content="Capital of France?"),
        ],
        temperature=0.3,
        max_tokens=64,
    )

    response = await make_bedrock().generate(request)

    assert response.text == "Paris" and response.tool_calls == []
    assert (response.usage.input_tokens, response.usage.output_tokens) == (12, 3)
    assert response.latency_ms > 0 and response.model == MODEL
    [call] = fake_converse.calls
    assert call.model_id == MODEL
    assert call.body == {
        "messages": [{"role": "user", "content": [{"text": "Capital of France?"}]}],
        "system": [{"text": "Be terse."}],
        "inferenceConfig": {"temperature": 0.3, "maxTokens": 64},
    }
    authorization = call.headers["authorization"]
    assert authorization.startswith(
        f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/"
    ) and authorization.split("/")[2:4] == ["us-west-2", "bedrock"]


@pytest.mark.usefixtures("aws_credentials")
async def test_unset_options_are_not_sent_and_json_mode_is_a_system_instruction(
    fake_converse: FakeConverse, make_bedrock: Any
):
    provider = make_bedrock()
    await provider.generate(ask("plain"))
    await provider.generate(ask("as JSON", json_mode=True))

    plain, as_json = (call.body for call in fake_converse.calls)
    assert set(plain) == {"messages"}
    assert "JSON object" in as_json["system"][0]["text"]


@pytest.mark.usefixtures("aws_credentials")
async def test_tools_and_tool_turns_use_the_converse_shapes(
    fake_converse: FakeConverse, make_bedrock: Any
):
    fake_converse.push(
        ConverseReply(
            text="Let me check.",
            tool_uses=[
                {"name": "get_weather", "input": {"city": "Oslo"}},
                {"name": "odd", "input": [1, 2]},
            ],
        )
    )
    request = ChatRequest(
        messages=[
            ChatMessage(role="user", content="Weather in Oslo and Rome?"),
            ChatMessage(
                role="assistant",
                content="",
                tool_calls=[
                    ToolCall(name="get_weather", arguments={"city": "Oslo"}, id="t1"),
                    ToolCall(name="get_weather", arguments={"city": "Rome"}, id="t2"),
                ],
            ),
            ChatMessage(role="tool", content="4C", tool_call_id="t1"),
            ChatMessage(role="tool", content="19C", tool_call_id="t2"),
        ],
        tools=[WEATHER_TOOL],
    )

    response = await make_bedrock().generate(request)

    assert response.text == "Let me check."
    assert response.tool_calls == [
        ToolCall(name="get_weather", arguments={"city": "Oslo"}, id="tooluse_0"),
        ToolCall(name="odd", arguments={"_raw": "[1, 2]"}, id="tooluse_1"),
    ]
    body = fake_converse.calls[0].body
    assert body["toolConfig"] == {
        "tools": [
            {
                "toolSpec": {
                    "name": "get_weather",
                    "description": "Weather in a city.",
                    "inputSchema": {"json": WEATHER_TOOL["function"]["parameters"]},
                }
            }
        ]
    }
    # Roles alternate: both tool results travel in one user turn.
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][1]["content"] == [
        {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Oslo"}}},
        {"toolUse": {"toolUseId": "t2", "name": "get_weather", "input": {"city": "Rome"}}},
    ]
    assert body["messages"][2]["content"] == [
        {"toolResult": {"toolUseId": "t1", "content": [{"text": "4C"}]}},
        {"toolResult": {"toolUseId": "t2", "content": [{"text": "19C"}]}},
    ]


async def test_an_api_key_is_a_bearer_token_given_explicitly(
    monkeypatch: pytest.MonkeyPatch, fake_converse: FakeConverse, make_bedrock: Any
):
    # Neither AWS credentials nor the environment's Bedrock token are used with a key.
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "the-servers-own-token")

    response = await make_bedrock(api_key=BEDROCK_KEY).generate(ask("Hello"))

    assert response.text == "echo: Hello"
    assert fake_converse.calls[0].headers["authorization"] == f"Bearer {BEDROCK_KEY}"


def test_an_api_key_is_never_sent_over_plain_http(fake_converse: FakeConverse):
    with pytest.raises(ConfigurationError, match="only over https") as caught:
        BedrockProvider(MODEL, ProviderConfig(api_key=BEDROCK_KEY, base_url="http://127.0.0.1:9"))
    assert BEDROCK_KEY not in caught.value.message


@pytest.mark.parametrize(
    ("base_url", "region"),
    [
        ("https://bedrock-runtime.eu-central-1.amazonaws.com", "eu-central-1"),
        ("https://bedrock-runtime-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1"),
        ("https://vpce-0abc-1de.bedrock-runtime.ap-south-1.vpce.amazonaws.com", "ap-south-1"),
        ("https://gateway.example.com/bedrock", "us-east-1"),
    ],
)
def test_the_region_comes_from_a_bedrock_host_else_a_fallback(
    fake_converse: FakeConverse, base_url: str, region: str
):
    config = ProviderConfig(base_url=base_url, ambient_credentials=True)
    assert BedrockProvider(MODEL, config).region == region


def test_without_an_endpoint_the_region_is_the_aws_configuration(
    monkeypatch: pytest.MonkeyPatch, fake_converse: FakeConverse
):
    with pytest.raises(ConfigurationError, match=r"model_params\.region"):
        BedrockProvider(MODEL, ProviderConfig(ambient_credentials=True))

    monkeypatch.setenv("AWS_DEFAULT_REGION", "ca-central-1")
    assert BedrockProvider(MODEL, ProviderConfig(ambient_credentials=True)).region == "ca-central-1"


@pytest.mark.parametrize(
    ("reply", "error", "status"),
    [
        (ConverseReply(status=429), ProviderRateLimited, 429),
        (ConverseReply(status=503), ProviderUnavailable, 503),
        (ConverseReply(status=500), ProviderUnavailable, 500),
        (ConverseReply(status=429, error_code="ModelNotReadyException"), ProviderUnavailable, 429),
        (ConverseReply(status=408, error_code="ModelTimeoutException"), ProviderUnavailable, 408),
        (ConverseReply(status=403), ProviderRejected, 403),
        (
            ConverseReply(status=403, error_code="UnrecognizedClientException"),
            ProviderRejected,
            403,
        ),
        (ConverseReply(status=400, error_code="ExpiredTokenException"), ProviderRejected, 403),
        (ConverseReply(status=400), ProviderRejected, 400),
        (ConverseReply(status=404), ProviderRejected, 404),
    ],
)
async def test_errors_map_to_the_provider_contract_without_sdk_retries(
    fake_converse: FakeConverse,
    make_bedrock: Any,
    reply: ConverseReply,
    error: type[ProviderError],
    status: int,
):
    fake_converse.push(reply)

    with pytest.raises(ProviderError) as caught:
        await make_bedrock(api_key=BEDROCK_KEY).generate(ask())

    assert type(caught.value) is error
    assert caught.value.status_code == status
    assert len(fake_converse.calls) == 1  # botocore did not retry: the engine owns retries


async def test_credentials_never_appear_in_errors(fake_converse: FakeConverse, make_bedrock: Any):
    fake_converse.push(ConverseReply(status=403, error_message="bad token: {authorization}"))

    with pytest.raises(ProviderRejected) as caught:
        await make_bedrock(api_key=BEDROCK_KEY).generate(ask())

    assert "bad token: Bearer ***" in caught.value.message
    assert BEDROCK_KEY not in str(caught.value) and caught.value.__cause__ is None
    assert fake_converse.url in caught.value.message


async def test_no_aws_credentials_at_all_is_a_refused_key(
    fake_converse: FakeConverse, make_bedrock: Any
):
    with pytest.raises(ProviderRejected, match="no usable AWS credentials") as caught:
        await make_bedrock().generate(ask())

    assert caught.value.status_code == 401 and fake_converse.calls == []


async def test_connection_errors_and_timeouts_are_unavailable(
    fake_converse: FakeConverse, make_bedrock: Any, closed_port_url: str
):
    refused = make_bedrock(api_key=BEDROCK_KEY, base_url=closed_port_url.replace("http", "https"))
    with pytest.raises(ProviderUnavailable, match="no answer from Bedrock") as caught:
        await refused.generate(ask())
    assert BEDROCK_KEY not in str(caught.value)

    fake_converse.push(ConverseReply(text="late", latency=5.0))
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        await make_bedrock(api_key=BEDROCK_KEY, timeout=0.1).generate(ask())
    # The client's 0.1 s timeout ends the call, not the server's 5 s answer (wide margin: CI is busy).
    assert time.monotonic() - started < 4.0


async def test_a_body_that_is_not_a_converse_answer_is_unavailable(
    fake_converse: FakeConverse, make_bedrock: Any, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(
        "tests.fakes.converse_server.converse_body", lambda reply: {"unexpected": True}
    )

    with pytest.raises(ProviderUnavailable, match="not a Converse answer"):
        await make_bedrock(api_key=BEDROCK_KEY).generate(ask())


async def test_close_is_idempotent_and_the_provider_reconnects(
    fake_converse: FakeConverse, make_bedrock: Any
):
    provider = make_bedrock(api_key=BEDROCK_KEY)
    await provider.generate(ask("one"))
    await provider.aclose()
    await provider.aclose()

    assert (await provider.generate(ask("two"))).text == "echo: two"


def test_connection_keys_separate_accounts_and_endpoints(fake_converse: FakeConverse):
    def key(**config: Any) -> str:
        config.setdefault("ambient_credentials", True)
        return BedrockProvider(MODEL, ProviderConfig(**config)).connection_key()

    url, other = fake_converse.url, "https://bedrock-runtime.eu-west-1.amazonaws.com"
    assert key(base_url=url, api_key="a") == key(base_url=url, api_key="a")
    assert len({key(base_url=url, api_key="a"), key(base_url=url, api_key="b")}) == 2
    assert key(base_url=url) != key(base_url=other)
    assert "a" * 3 not in key(base_url=url, api_key="aaa")


async def test_the_registry_builds_it_lazily(fake_converse: FakeConverse):
    provider = get_provider(
        ModelRef(provider="bedrock", model=MODEL),
        ProviderConfig(base_url=fake_converse.url, ambient_credentials=True),
    )

    assert isinstance(provider, BedrockProvider)
    await provider.aclose()


def test_importing_the_registry_loads_no_cloud_sdk():
    code = (
        "import sys, assay.providers._registry; "
        "print('boto3' in sys.modules, 'botocore' in sys.modules, 'google.auth' in sys.modules)"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.split() == ["False", "False", "False"]


def test_a_missing_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delitem(sys.modules, "assay.providers.bedrock", raising=False)
    monkeypatch.setitem(sys.modules, "boto3", None)

    with pytest.raises(ConfigurationError, match=r"pip install 'assay\[bedrock\]'"):
        get_provider(ModelRef(provider="bedrock", model=MODEL), ProviderConfig())
