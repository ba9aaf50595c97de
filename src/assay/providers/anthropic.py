"""Anthropic's Messages API.

Like the OpenAI adapter, the body is built as plain JSON and posted with the SDK's own
``post`` (same client, auth, timeout and error classes as ``messages.create``). Besides
saving the per-message transform, this skips the SDK's per-call ``DeprecationWarning`` for
older models, which an evaluation platform evaluates on purpose.

Assay's neutral messages map onto the Messages API like this: system messages become the
``system`` parameter, tool calls become ``tool_use`` blocks, tool results become user turns
holding a ``tool_result`` block (the API merges consecutive user turns), and OpenAI-style
function tools are converted to Anthropic's ``input_schema`` shape.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anthropic
from anthropic.types import Message
from typing_extensions import override

from assay.core.errors import OutboundRefused, ProviderUnavailable
from assay.core.llm import ChatMessage, ChatRequest, ChatResponse
from assay.core.outcome import ToolCall, Usage
from assay.http_guard import sdk_transport
from assay.providers._http import (
    api_key_for,
    connection_key,
    error_from_status,
    redact,
    retry_after_seconds,
)
from assay.providers.base import ModelProvider, ProviderConfig
from assay.providers.credentials import DEFAULT_ENDPOINTS

DEFAULT_BASE_URL = DEFAULT_ENDPOINTS["anthropic"]
#: The API requires ``max_tokens``; this is used when the request leaves it unset.
DEFAULT_MAX_TOKENS = 1024
JSON_INSTRUCTION = "Answer with one JSON object only, with no text before or after it."
_UNREADABLE = (AttributeError, IndexError, TypeError, ValueError)


class AnthropicProvider(ModelProvider):
    """A Claude model; ``config.base_url`` is the host, without ``/v1`` (the SDK adds it).

    Raises:
        ConfigurationError: at construction, when there is neither a key nor a base URL.
    """

    def __init__(self, model: str, config: ProviderConfig) -> None:
        super().__init__(model, config)
        self._api_key = api_key_for(config, "anthropic", "ANTHROPIC_API_KEY")
        self._base_url = config.base_url or DEFAULT_BASE_URL
        self._client: anthropic.AsyncAnthropic | None = None

    @override
    async def generate(self, request: ChatRequest) -> ChatResponse:
        """Run one message exchange, without retries (the engine owns them).

        Raises:
            ProviderRateLimited: HTTP 429, with the server's Retry-After when it sent one.
            ProviderUnavailable: 5xx (529 overloaded included), connection errors, timeouts,
                or a 200 whose body is not a message.
            ProviderRejected: any other 4xx.
        """
        client = self._sdk_client()
        started = time.perf_counter()
        with map_anthropic_errors(self._api_key, self._base_url):
            message = await client.post("/v1/messages", body=self._body(request), cast_to=Message)
        latency_ms = (time.perf_counter() - started) * 1000
        try:
            return response_from_message(message, latency_ms)
        except _UNREADABLE as exc:
            raise ProviderUnavailable(
                f"Anthropic API at {self._base_url} answered HTTP 200 with a body that is not "
                "a message",
                status_code=200,
            ) from exc

    @override
    def connection_key(self) -> str:
        return connection_key(self._base_url, self._api_key)

    @override
    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    def _sdk_client(self) -> anthropic.AsyncAnthropic:
        """Built on first use: the aiohttp session must be created inside the running loop.

        The key and base URL are always explicit, so the SDK never falls back to the
        environment or to credential profiles on disk.
        """
        if self._client is None:
            self._client = anthropic.AsyncAnthropic(
                api_key=self._api_key,
                base_url=self._base_url,
                max_retries=0,
                timeout=self.config.timeout,
                default_headers=self.config.headers or None,
                http_client=anthropic.DefaultAioHttpClient(
                    transport=sdk_transport(self.config.outbound)
                ),
            )
        return self._client

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        system = [m.content for m in request.messages if m.role == "system"]
        if request.json_mode:
            system.append(JSON_INSTRUCTION)
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": anthropic_messages(request.messages),
        }
        if system:
            body["system"] = "\n\n".join(system)
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.tools:
            body["tools"] = [anthropic_tool(t) for t in request.tools]
        return body


@contextmanager
def map_anthropic_errors(api_key: str, base_url: str) -> Iterator[None]:
    """Turn the SDK's exceptions into ``ProviderError`` subclasses, with the key redacted.

    Status errors are raised ``from None``: the SDK's own message embeds the raw response
    body, which is exactly where a server would echo a credential.
    """
    try:
        yield
    except anthropic.APIStatusError as exc:
        detail = redact(exc.api_message or str(exc.body or exc.message)[:500], api_key)
        message = f"Anthropic API at {base_url} answered HTTP {exc.status_code}: {detail}"
        retry_after = retry_after_seconds(exc.response.headers)
        raise error_from_status(exc.status_code, message, retry_after) from None
    except anthropic.APIError as exc:
        if isinstance(exc.__cause__, OutboundRefused):
            raise exc.__cause__ from None
        detail = redact(str(exc.__cause__ or "") or exc.message, api_key)
        raise ProviderUnavailable(f"no answer from Anthropic API at {base_url}: {detail}") from exc


def anthropic_messages(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """Assay's non-system messages as Messages API turns."""
    converted: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        if message.role == "tool":
            result = {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id,
                "content": message.content,
            }
            converted.append({"role": "user", "content": [result]})
        elif message.role == "assistant" and message.tool_calls:
            text = [{"type": "text", "text": message.content}] if message.content else []
            uses = [_tool_use(c, i) for i, c in enumerate(message.tool_calls)]
            converted.append({"role": "assistant", "content": text + uses})
        else:
            converted.append({"role": message.role, "content": message.content})
    return converted


def _tool_use(call: ToolCall, index: int) -> dict[str, Any]:
    return {
        "type": "tool_use",
        "id": call.id or f"toolu_{index}",
        "name": call.name,
        "input": call.arguments,
    }


def anthropic_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI-style function tool in Anthropic's shape; anything else is sent as given."""
    function = tool.get("function")
    if tool.get("type") != "function" or not isinstance(function, dict):
        return tool
    converted = {
        "name": function["name"],
        "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
    }
    if function.get("description"):
        converted["description"] = function["description"]
    return converted


def response_from_message(message: Message, latency_ms: float) -> ChatResponse:
    """Text blocks joined, ``tool_use`` blocks as tool calls; other blocks are not answers."""
    text: list[str] = []
    tool_calls: list[ToolCall] = []
    for block in message.content:
        if block.type == "text":
            text.append(block.text)
        elif block.type == "tool_use":
            tool_calls.append(ToolCall(name=block.name, arguments=block.input, id=block.id))
    return ChatResponse(
        text="".join(text),
        tool_calls=tool_calls,
        usage=Usage(
            input_tokens=message.usage.input_tokens or 0,
            output_tokens=message.usage.output_tokens or 0,
        ),
        latency_ms=latency_ms,
        model=message.model,
    )
