"""An agent deployed on the LangGraph Platform API (registry name ``langgraph``).

A conversation is a LangGraph *thread*: the first turn of a session creates one
(``POST {base_url}/threads``), and every turn runs the assistant on it and waits for the
result (``POST {base_url}/threads/{thread_id}/runs/wait`` with
``{"assistant_id": ..., "input": {"messages": [{"role": "user", "content": ...}]}}``). The
server keeps the history, so each turn sends only the new user message; a call's system
prompt is sent once, as a leading system message on the first turn. ``invoke`` is a one-turn
conversation on a fresh thread; ``end_session`` forgets the session's thread (the thread
itself stays on the server, where it can be inspected).

The run's answer is the thread's state values. The turn's messages are those after the last
human message: ``output`` is the content of the last AI message, ``tool_calls`` come from
every AI message of the turn (a ReAct agent calls tools in earlier ones), and ``usage`` adds
up their ``usage_metadata``. Messages may be LangChain-serialised (``type: "ai"``, ``"human"``)
or role-based (``role: "assistant"``, ``"user"``).

Failures are classified at this boundary (see ``targets/base.py``):

=============================================  ======================================
what happened                                  raised
=============================================  ======================================
429                                            ``ProviderRateLimited`` (Retry-After)
502 / 503 / 504, connect errors, timeouts      ``ProviderUnavailable``
any other non-2xx status                       ``TargetError`` (status, body excerpt)
a body that is not JSON, no thread id          ``TargetError``
the run failed (``__error__`` in the state)    ``TargetError`` naming the error
no AI message after the user's message         ``TargetError``
=============================================  ======================================

The API key goes in the ``x-api-key`` header and never appears in an error message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from typing_extensions import override

from assay.core.errors import ProviderUnavailable, TargetError
from assay.core.outbound import OutboundPolicy
from assay.core.outcome import NormalizedResponse, ToolCall, Usage
from assay.http_guard import httpx_transport
from assay.targets.base import Target
from assay.targets.http import (
    EXCERPT_CHARS,
    REDACTED,
    raise_for_agent_status,
    tool_arguments,
)

#: LangChain message types (``type``) and chat roles (``role``) as chat roles.
ROLES = {
    "human": "user",
    "user": "user",
    "ai": "assistant",
    "AIMessageChunk": "assistant",
    "assistant": "assistant",
    "system": "system",
    "tool": "tool",
}


class LangGraphConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    base_url: str
    """The deployment's URL, e.g. `http://127.0.0.1:2024` for `langgraph dev`."""
    assistant_id: str = Field(min_length=1)
    """The assistant to run: an assistant UUID or a graph name from `langgraph.json`."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra non-secret headers sent with every request."""
    timeout: float = Field(default=120.0, gt=0, le=3600)
    """Seconds to wait for a connection or for a run to finish (infrastructure)."""

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        try:
            url = httpx.URL(value)
        except httpx.InvalidURL as exc:
            raise ValueError(f"is not a URL: {exc}") from exc
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value.rstrip("/")


class LangGraphSecrets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_key: SecretStr | None = None
    """The deployment's API key, sent as `x-api-key`; a local `langgraph dev` needs none."""


class LangGraphTarget(Target):
    def __init__(
        self,
        config: LangGraphConfig,
        api_key: str | None = None,
        outbound: OutboundPolicy | None = None,
    ) -> None:
        """``outbound`` guards every connection (None: unguarded, for the operator's URLs)."""
        self.config = config
        self._api_key = api_key or None
        headers = {"accept": "application/json", **config.headers}
        if self._api_key:
            headers["x-api-key"] = self._api_key
        self._client = httpx.AsyncClient(
            timeout=config.timeout, headers=headers, transport=httpx_transport(outbound)
        )
        #: Each session's thread, and whether a turn on it has succeeded yet.
        self._threads: dict[str, _Thread] = {}
        url = httpx.URL(config.base_url)
        #: The URL as shown in messages: no query string or user info, which may hold tokens.
        self._shown_url = f"{url.scheme}://{url.netloc.decode()}{url.path}".rstrip("/")

    @override
    async def invoke(
        self, input: str, *, session_id: str, system_prompt: str | None = None
    ) -> NormalizedResponse:
        """Run the assistant once on a new thread, which is not kept for any session.

        Raises:
            ProviderRateLimited, ProviderUnavailable, TargetError: see the module docstring.
        """
        thread_id = await self._create_thread(session_id)
        return await self._run(thread_id, input, system_prompt)

    @override
    async def converse(
        self, message: str, *, session_id: str, system_prompt: str | None = None
    ) -> NormalizedResponse:
        """Run the assistant on the session's thread, created on the session's first turn.

        ``system_prompt`` is sent until a turn succeeds, so a retried first turn keeps it.

        Raises:
            ProviderRateLimited, ProviderUnavailable, TargetError: see the module docstring.
        """
        thread = self._threads.get(session_id)
        if thread is None:
            thread = self._threads[session_id] = _Thread(await self._create_thread(session_id))
        response = await self._run(
            thread.thread_id, message, None if thread.started else system_prompt
        )
        thread.started = True
        return response

    @override
    async def end_session(self, session_id: str) -> None:
        self._threads.pop(session_id, None)

    @override
    async def aclose(self) -> None:
        await self._client.aclose()

    async def _create_thread(self, session_id: str) -> str:
        data = await self._post("/threads", {"metadata": {"assay_session_id": session_id}})
        thread_id = data.get("thread_id") if isinstance(data, dict) else None
        if not isinstance(thread_id, str) or not thread_id:
            raise TargetError(f"POST {self._shown_url}/threads answered without a thread_id")
        return thread_id

    async def _run(
        self, thread_id: str, message: str, system_prompt: str | None
    ) -> NormalizedResponse:
        sent: list[dict[str, Any]] = []
        if system_prompt:
            sent.append({"role": "system", "content": system_prompt})
        sent.append({"role": "user", "content": message})
        body = {"assistant_id": self.config.assistant_id, "input": {"messages": sent}}
        started = time.perf_counter()
        state = await self._post(f"/threads/{thread_id}/runs/wait", body)
        latency_ms = (time.perf_counter() - started) * 1000
        return self._response(state, latency_ms)

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        where = f"POST {self._shown_url}{path}"
        try:
            response = await self._client.post(f"{self.config.base_url}{path}", json=body)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(
                f"{where} timed out after {self.config.timeout:g}s ({type(exc).__name__})"
            ) from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(
                f"{where} failed: {type(exc).__name__}: {self._redact(str(exc))}"
            ) from exc
        self._raise_for_status(where, response)
        try:
            return response.json()
        except ValueError as exc:
            raise TargetError(
                f"{where}: the response is not JSON (HTTP {response.status_code}): "
                f"{self._excerpt(response.text)!r}"
            ) from exc

    def _raise_for_status(self, where: str, response: httpx.Response) -> None:
        raise_for_agent_status(response, where, self._excerpt(response.text))

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, REDACTED) if self._api_key else text

    def _excerpt(self, text: str) -> str:
        """The start of a body, with the API key blanked out if the server echoed it."""
        return self._redact(text)[:EXCERPT_CHARS]

    def _response(self, state: Any, latency_ms: float) -> NormalizedResponse:
        if not isinstance(state, dict):
            raise TargetError(f"the run answered {type(state).__name__}, not the thread state")
        error = state.get("__error__")
        if error is not None:
            raise TargetError(f"the run failed: {self._excerpt(_describe_error(error))}")
        raw = state.get("messages")
        if not isinstance(raw, list):
            raise TargetError("the thread state has no 'messages' list")
        messages = [_chat_message(m, f"messages.{i}") for i, m in enumerate(raw)]
        turn = _current_turn(raw)
        replies = [m for m in turn if _role(m) == "assistant"]
        if not replies:
            raise TargetError("the agent did not reply: no AI message after the user's message")
        last = replies[-1]
        return NormalizedResponse(
            output=_text(last.get("content")),
            tool_calls=[call for reply in replies for call in _tool_calls(reply.get("tool_calls"))],
            messages=messages,
            usage=sum((_usage(reply) for reply in replies), Usage()),
            latency_ms=latency_ms,
            model=_model_name(last),
        )


@dataclass
class _Thread:
    thread_id: str
    started: bool = False
    """Whether a turn has succeeded on it (until then, turns carry the system prompt)."""


def _role(message: Any) -> str | None:
    if not isinstance(message, dict):
        return None
    kind = message.get("type") or message.get("role")
    return ROLES.get(kind) if isinstance(kind, str) else None


def _current_turn(messages: list[Any]) -> list[dict[str, Any]]:
    """The messages after the last user message (all of them when there is none)."""
    for i in range(len(messages) - 1, -1, -1):
        if _role(messages[i]) == "user":
            return messages[i + 1 :]
    return [m for m in messages if isinstance(m, dict)]


def _text(content: Any) -> str:
    """Message content as text: a string, or the text parts of a list of content blocks."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            part if isinstance(part, str) else part.get("text", "")
            for part in content
            if isinstance(part, str) or (isinstance(part, dict) and part.get("type") == "text")
        ]
        return "".join(parts)
    return str(content)


def _tool_calls(raw: Any) -> list[ToolCall]:
    """LangChain tool calls (``{name, args, id}``); OpenAI's ``function`` shape is accepted too."""
    if not isinstance(raw, list):
        return []
    calls = []
    for i, call in enumerate(raw):
        if not isinstance(call, dict):
            raise TargetError(f"tool call {i} is {type(call).__name__}, not an object")
        function: dict[str, Any] = (
            call["function"] if isinstance(call.get("function"), dict) else call
        )
        name = function.get("name")
        if not isinstance(name, str):
            raise TargetError(f"tool call {i} has no name")
        arguments = function.get("args", function.get("arguments"))
        call_id = call.get("id")
        calls.append(
            ToolCall(
                name=name,
                arguments=tool_arguments(arguments, f"tool_calls.{i}"),
                id=call_id if isinstance(call_id, str) else None,
            )
        )
    return calls


def _usage(message: dict[str, Any]) -> Usage:
    metadata = message.get("usage_metadata")
    if not isinstance(metadata, dict):
        return Usage()
    counts = [metadata.get("input_tokens"), metadata.get("output_tokens")]
    if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts):
        return Usage()
    return Usage(input_tokens=counts[0], output_tokens=counts[1])


def _model_name(message: dict[str, Any]) -> str | None:
    metadata = message.get("response_metadata")
    name = metadata.get("model_name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else None


def _chat_message(message: Any, where: str) -> dict[str, Any]:
    """A thread message in the trace's chat shape (``role``, ``content``, ``tool_calls``)."""
    if not isinstance(message, dict):
        raise TargetError(f"{where} is {type(message).__name__}, not a message object")
    role = _role(message) or str(message.get("type") or message.get("role") or "unknown")
    out: dict[str, Any] = {"role": role, "content": _text(message.get("content"))}
    if role == "assistant":
        calls = _tool_calls(message.get("tool_calls"))
        if calls:
            out["tool_calls"] = [c.model_dump(exclude_none=True) for c in calls]
    if isinstance(message.get("tool_call_id"), str):
        out["tool_call_id"] = message["tool_call_id"]
    return out


def _describe_error(error: Any) -> str:
    if isinstance(error, dict):
        kind, message = error.get("error"), error.get("message")
        return ": ".join(str(part) for part in (kind, message) if part) or str(error)
    return str(error)
