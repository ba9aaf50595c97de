"""An agent deployed on the LangGraph Platform API (registry name ``langgraph``).

A conversation is a LangGraph *thread*: the first turn of a session creates one
(``POST {base_url}/threads``), and every turn runs the assistant on it and waits for the
result (``POST {base_url}/threads/{thread_id}/runs/wait`` with
``{"assistant_id": ..., "input": {"messages": [{"role": "user", "content": ...}]}}``). The
server keeps the history, so each turn sends only the new user message; a call's system
prompt is sent once, as a leading system message on the first turn. ``invoke`` is a one-turn
conversation on a fresh thread; ``end_session`` forgets the session's thread (the thread
itself stays on the server, where it can be inspected).

A retried turn is never sent twice. LangGraph keeps a run it accepted going when the client
gives up on it (a timeout, a 502/503/504 from a proxy), and queues every run by default, so a
resent message would land on the thread again. Each turn is therefore tagged
(``metadata.assay_turn``) and sent with ``multitask_strategy: "reject"``; when the same message
is sent again after an infrastructure failure, the thread's runs
(``GET {base_url}/threads/{thread_id}/runs``) are searched for that tag first, and a run found
there is joined (``GET .../runs/{run_id}/join``) instead of sending the message again.

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
401 / 403 (a wrong or missing API key)         ``ProviderRejected`` (``invalid_api_key``)
404 / 422 (no such assistant, thread or path)  ``ConfigurationError``
any other non-2xx status                       ``TargetError`` (status, body excerpt)
a body that is not JSON, no thread id          ``TargetError``
the run failed (``__error__`` in the state)    ``TargetError`` naming the error
no AI message after the user's message         ``TargetError``
=============================================  ======================================

The 401/403/404/422 rows are the platform's own answers about the connector's settings, not
the agent's behaviour: they end the item as an error that does not count against the agent
(and a rejected key fails the whole evaluation). :meth:`LangGraphTarget.check` asks the same
questions up front, when a connector is created or tested.

The API key goes in the ``x-api-key`` header and never appears in an error message.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from typing_extensions import override

from assay.core.errors import (
    ConfigurationError,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    TargetError,
)
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

#: The run metadata key that tags a turn, so a retry can find the run the server accepted.
TURN_KEY = "assay_turn"
#: How many of a thread's newest runs a retry searches for its turn.
RUNS_SEARCHED = 20
#: Statuses that say the connector's settings are wrong (key; assistant, thread or path).
AUTH_STATUSES = frozenset({401, 403})
SETTINGS_STATUSES = frozenset({404, 422})

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
    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(
        description="The deployment's URL, e.g. `http://127.0.0.1:2024` for `langgraph dev`."
    )
    assistant_id: str = Field(
        min_length=1,
        description=(
            "The assistant to run: an assistant UUID or a graph name from `langgraph.json`."
        ),
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra non-secret headers sent with every request."
    )
    timeout: float = Field(
        default=120.0,
        gt=0,
        le=3600,
        description="Seconds to wait for a connection or for a run to finish (infrastructure).",
    )

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
        return await self._run(thread_id, input, system_prompt, uuid.uuid4().hex)

    @override
    async def converse(
        self, message: str, *, session_id: str, system_prompt: str | None = None
    ) -> NormalizedResponse:
        """Run the assistant on the session's thread, created on the session's first turn.

        ``system_prompt`` is sent until a turn succeeds, so a retried first turn keeps it. A
        turn resent after an infrastructure failure joins the run the server accepted for it,
        if there is one, rather than sending the message again.

        Raises:
            ProviderRateLimited, ProviderUnavailable, TargetError: see the module docstring.
        """
        thread = self._threads.get(session_id)
        if thread is None:
            thread = self._threads[session_id] = _Thread(await self._create_thread(session_id))
        turn = thread.unanswered
        if turn is None or turn.message != message:
            turn = _Turn(message, uuid.uuid4().hex)
        else:
            accepted = await self._join_accepted(thread.thread_id, turn.tag)
            if accepted is not None:
                thread.unanswered, thread.started = None, True
                return accepted
        thread.unanswered = turn
        try:
            response = await self._run(
                thread.thread_id, message, None if thread.started else system_prompt, turn.tag
            )
        except ProviderError:
            raise  # the server may have accepted the run: a retry looks for it first
        except BaseException:
            thread.unanswered = None
            raise
        thread.unanswered, thread.started = None, True
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
        self, thread_id: str, message: str, system_prompt: str | None, tag: str
    ) -> NormalizedResponse:
        sent: list[dict[str, Any]] = []
        if system_prompt:
            sent.append({"role": "system", "content": system_prompt})
        sent.append({"role": "user", "content": message})
        body = {
            "assistant_id": self.config.assistant_id,
            "input": {"messages": sent},
            "metadata": {TURN_KEY: tag},
            "multitask_strategy": "reject",
        }
        started = time.perf_counter()
        state = await self._post(f"/threads/{thread_id}/runs/wait", body)
        latency_ms = (time.perf_counter() - started) * 1000
        return self._response(state, latency_ms)

    async def _join_accepted(self, thread_id: str, tag: str) -> NormalizedResponse | None:
        """The answer of the run tagged ``tag`` on the thread, or None when none was accepted.

        Joining waits for a run still going; a finished one answers at once.
        """
        runs = await self._request(
            "GET", f"/threads/{thread_id}/runs", params={"limit": RUNS_SEARCHED}
        )
        run_id = next(
            (
                run.get("run_id")
                for run in (runs if isinstance(runs, list) else [])
                if isinstance(run, dict)
                and isinstance(run.get("metadata"), dict)
                and run["metadata"].get(TURN_KEY) == tag
            ),
            None,
        )
        if not isinstance(run_id, str):
            return None
        started = time.perf_counter()
        state = await self._request("GET", f"/threads/{thread_id}/runs/{run_id}/join")
        return self._response(state, (time.perf_counter() - started) * 1000)

    async def check(self) -> None:
        """Ask the deployment whether the key and the assistant are right, running nothing.

        An assistant UUID is read (``GET /assistants/{id}``); a graph name is searched for
        (``POST /assistants/search``). A wrong key is refused (401/403); an unknown
        assistant or graph is a 404 or an empty search.

        Raises:
            ProviderRejected: the key was refused.
            ConfigurationError: no such assistant, or the URL is not a LangGraph deployment.
            ProviderUnavailable, ProviderRateLimited: the deployment could not be asked.
            TargetError: the deployment answered, but not as LangGraph does.
        """
        assistant = self.config.assistant_id
        try:
            uuid.UUID(assistant)
        except ValueError:
            found = await self._post("/assistants/search", {"graph_id": assistant, "limit": 1})
            if not (isinstance(found, list) and found):
                raise ConfigurationError(
                    f"{self._shown_url} has no assistant or graph {assistant!r}"
                ) from None
            return
        await self._request("GET", f"/assistants/{assistant}")

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        return await self._request("POST", path, json=body)

    async def _request(
        self,
        method: str,
        path: str,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        where = f"{method} {self._shown_url}{path}"
        try:
            response = await self._client.request(
                method, f"{self.config.base_url}{path}", json=json, params=params
            )
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
        status, excerpt = response.status_code, self._excerpt(response.text)
        if status in AUTH_STATUSES:
            given = "was refused" if self._api_key else "is missing (the connector has none)"
            raise ProviderRejected(
                f"{where} answered HTTP {status}: the API key {given}: {excerpt!r}", status
            )
        if status in SETTINGS_STATUSES:
            raise ConfigurationError(
                f"{where} answered HTTP {status}: check the connector's base URL and assistant"
                f" id {self.config.assistant_id!r}: {excerpt!r}"
            )
        raise_for_agent_status(response, where, excerpt)

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


@dataclass(frozen=True)
class _Turn:
    message: str
    tag: str
    """The run metadata (``TURN_KEY``) that finds the run the server accepted for it."""


@dataclass
class _Thread:
    thread_id: str
    started: bool = False
    """Whether a turn has succeeded on it (until then, turns carry the system prompt)."""
    unanswered: _Turn | None = None
    """The turn last sent whose answer never came (an infrastructure failure)."""


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
