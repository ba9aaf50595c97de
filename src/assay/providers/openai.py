"""OpenAI Chat Completions, and every server that speaks it (vLLM, Ollama, LiteLLM, agents).

This sits on the hot path of benchmarks (thousands of calls at high concurrency). By default
a call goes through ``openai_wire.ChatCompletionsClient`` (one pooled aiohttp session, the
request built once); with ``transport="sdk"`` through the official SDK's own ``post`` (same
auth, timeouts and error classes as ``chat.completions.create``, minus its per-message
TypedDict transform). Either way the body is built here as plain JSON and the answer decoded
here into Assay's types, so both transports give the same ``ChatResponse``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from typing_extensions import override

from assay.core.errors import OutboundRefused, ProviderUnavailable
from assay.core.llm import ChatMessage, ChatRequest, ChatResponse
from assay.core.outcome import ToolCall, Usage
from assay.providers._http import (
    api_key_for,
    connection_key,
    error_from_status,
    redact,
    retry_after_seconds,
)
from assay.providers.base import ModelProvider, ProviderConfig
from assay.providers.credentials import DEFAULT_ENDPOINTS
from assay.providers.openai_wire import ChatCompletionsClient

if TYPE_CHECKING:
    import openai

DEFAULT_BASE_URL = DEFAULT_ENDPOINTS["openai"]
#: Errors from reading a body that is not the chat completion the SDK was told to expect.
_UNREADABLE = (AttributeError, IndexError, KeyError, TypeError, ValueError)


class OpenAIProvider(ModelProvider):
    """A model behind the Chat Completions API; ``config.base_url`` picks a compatible server.

    Raises:
        ConfigurationError: at construction, when there is neither a key nor a base URL.
    """

    def __init__(self, model: str, config: ProviderConfig) -> None:
        super().__init__(model, config)
        self._api_key = api_key_for(config, "openai", "OPENAI_API_KEY")
        self._base_url = config.base_url or DEFAULT_BASE_URL
        self._max_tokens_field = max_tokens_field(self._base_url)
        self._client: openai.AsyncOpenAI | None = None
        self._wire = (
            ChatCompletionsClient(
                self._base_url, self._api_key, config.timeout, config.headers, config.outbound
            )
            if config.transport == "aiohttp"
            else None
        )

    @override
    async def generate(self, request: ChatRequest) -> ChatResponse:
        """Run one chat completion, without retries (the engine owns them).

        Raises:
            ProviderRateLimited: HTTP 429, with the server's Retry-After when it sent one.
            ProviderUnavailable: 5xx, connection errors, timeouts, or a 200 whose body is not
                a chat completion.
            ProviderRejected: any other 4xx.
        """
        started = time.perf_counter()
        if self._wire is not None:
            body = await self._wire.post(self._body(request))
        else:
            body = await self._post_with_sdk(request)
        latency_ms = (time.perf_counter() - started) * 1000
        try:
            return response_from_completion(json.loads(body), latency_ms)
        except _UNREADABLE as exc:
            raise ProviderUnavailable(
                f"OpenAI API at {self._base_url} answered HTTP 200 with a body that is not a "
                "chat completion",
                status_code=200,
            ) from exc

    @override
    def connection_key(self) -> str:
        return connection_key(self._base_url, self._api_key)

    def use_api_key(self, api_key: str) -> None:
        """Send (and redact) ``api_key`` from the next call on: for tokens that expire (Vertex)."""
        self._api_key = api_key
        if self._wire is not None:
            self._wire.use_api_key(api_key)
        if self._client is not None:
            self._client.api_key = api_key

    @override
    async def aclose(self) -> None:
        if self._wire is not None:
            await self._wire.aclose()
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    async def _post_with_sdk(self, request: ChatRequest) -> bytes:
        client = self._sdk_client()
        with map_openai_errors(self._api_key, self._base_url):
            # Raw bytes, decoded by the caller: the SDK's model construction costs more CPU
            # than the whole engine per item on a busy run, and only a few fields are read.
            return await client.post(
                "/chat/completions",
                body=self._body(request),
                cast_to=bytes,
                options={"security": {"bearer_auth": True}},
            )

    def _sdk_client(self) -> openai.AsyncOpenAI:
        """Built on first use: the aiohttp session must be created inside the running loop."""
        import openai

        from assay.http_guard import sdk_transport

        if self._client is None:
            self._client = openai.AsyncOpenAI(
                api_key=self._api_key,
                base_url=self._base_url,
                max_retries=0,
                timeout=self.config.timeout,
                default_headers=self.config.headers or None,
                http_client=openai.DefaultAioHttpClient(
                    transport=sdk_transport(self.config.outbound)
                ),
            )
        return self._client

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": openai_messages(request.messages)}
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.max_tokens is not None:
            body[self._max_tokens_field] = request.max_tokens
        if request.json_mode:
            body["response_format"] = {"type": "json_object"}
        if request.tools:
            body["tools"] = request.tools
        return body


def max_tokens_field(base_url: str) -> str:
    """OpenAI's reasoning models refuse ``max_tokens``; many compatible servers only know it."""
    return "max_completion_tokens" if base_url.startswith(DEFAULT_BASE_URL) else "max_tokens"


@contextmanager
def map_openai_errors(api_key: str, base_url: str) -> Iterator[None]:
    """Turn the SDK's exceptions into ``ProviderError`` subclasses, with the key redacted.

    Status errors are raised ``from None``: the SDK's own message embeds the raw response
    body, which is exactly where a server would echo a credential.
    """
    import openai

    try:
        yield
    except openai.APIStatusError as exc:
        detail = redact(_error_detail(exc), api_key)
        message = f"OpenAI API at {base_url} answered HTTP {exc.status_code}: {detail}"
        retry_after = retry_after_seconds(exc.response.headers)
        raise error_from_status(exc.status_code, message, retry_after) from None
    except openai.APIError as exc:
        if isinstance(exc.__cause__, OutboundRefused):
            raise exc.__cause__ from None
        # A refused connection surfaces as a timeout through aiohttp; the cause says which.
        detail = redact(str(exc.__cause__ or "") or exc.message, api_key)
        raise ProviderUnavailable(f"no answer from OpenAI API at {base_url}: {detail}") from exc


def _error_detail(exc: openai.APIStatusError) -> str:
    """The provider's own error message, as OpenAI and most compatible servers shape it."""
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return str(body)[:500] if body else exc.message


def openai_messages(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """Assay's chat messages as Chat Completions message dicts."""
    converted: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            converted.append(
                {"role": "tool", "content": message.content, "tool_call_id": message.tool_call_id}
            )
        elif message.role == "assistant" and message.tool_calls:
            converted.append(
                {
                    "role": "assistant",
                    "content": message.content or None,
                    "tool_calls": [
                        _openai_tool_call(c, i) for i, c in enumerate(message.tool_calls)
                    ],
                }
            )
        else:
            converted.append({"role": message.role, "content": message.content})
    return converted


def _openai_tool_call(call: ToolCall, index: int) -> dict[str, Any]:
    raw = call.arguments.get("_raw") if len(call.arguments) == 1 else None
    arguments = raw if isinstance(raw, str) else json.dumps(call.arguments)
    return {
        "id": call.id or f"call_{index}",
        "type": "function",
        "function": {"name": call.name, "arguments": arguments},
    }


def response_from_completion(completion: dict[str, Any], latency_ms: float) -> ChatResponse:
    """The first choice of a decoded chat completion; raises KeyError etc. on a foreign body."""
    message = completion["choices"][0]["message"]
    usage = completion.get("usage") or {}
    return ChatResponse(
        text=message.get("content") or "",
        tool_calls=[tool_call_from_openai(c) for c in message.get("tool_calls") or ()],
        usage=Usage(
            input_tokens=usage.get("prompt_tokens") or 0,
            output_tokens=usage.get("completion_tokens") or 0,
        ),
        latency_ms=latency_ms,
        model=completion.get("model"),
    )


def tool_call_from_openai(call: dict[str, Any]) -> ToolCall:
    """A function call with its JSON arguments decoded; a custom tool's free text as ``_raw``."""
    if call.get("type") == "custom":
        custom = call["custom"]
        return ToolCall(
            name=custom["name"], arguments={"_raw": custom.get("input", "")}, id=call.get("id")
        )
    function = call["function"]
    return ToolCall(
        name=function["name"],
        arguments=decode_arguments(function.get("arguments") or ""),
        id=call.get("id"),
    )


def decode_arguments(text: str) -> dict[str, Any]:
    """Models sometimes emit invalid JSON; keep it verbatim under ``_raw`` rather than fail."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"_raw": text}
    return value if isinstance(value, dict) else {"_raw": text}
