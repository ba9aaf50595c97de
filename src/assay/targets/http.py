"""An agent behind any JSON HTTP endpoint (registry name ``http``).

The request body is a template, any JSON value, whose strings have ``{{input}}``,
``{{session_id}}`` and ``{{system_prompt}}`` substituted. A call's system prompt goes where
``{{system_prompt}}`` is (an empty string when the call has none); a template without that
placeholder gets it prepended to the input instead, as a ``[Context]`` block. The response is read with dot paths that may index lists
(``choices.0.message.content``), so most agent APIs fit without code.

Failures are classified at this boundary (see ``targets/base.py``):

=============================================  ======================================
what happened                                  raised
=============================================  ======================================
429                                            ``ProviderRateLimited`` (Retry-After)
502 / 503 / 504, connect errors, timeouts      ``ProviderUnavailable``
any other non-2xx status                       ``TargetError`` (status, body excerpt)
a body that is not JSON, a missing output      ``TargetError`` naming the path
=============================================  ======================================

A conversation (``converse``) is a series of such requests with one ``{{session_id}}``: the
agent keeps the earlier turns and must key its memory by that id.

Secret headers are sent but never appear in an error message, even when the agent echoes
them back in its body.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, JsonValue, SecretStr, field_validator
from typing_extensions import override

from assay.core.errors import ProviderRateLimited, ProviderUnavailable, TargetError
from assay.core.outbound import OutboundPolicy
from assay.core.outcome import NormalizedResponse, ToolCall, Usage
from assay.http_guard import httpx_transport
from assay.targets.base import Target, with_context

#: Statuses that mean a proxy or load balancer in front of the agent is failing.
INFRASTRUCTURE_STATUSES = frozenset({502, 503, 504})
#: How much of an error body goes into a message.
EXCERPT_CHARS = 200
REDACTED = "***"
PLACEHOLDER = re.compile(r"\{\{(input|session_id|system_prompt)\}\}")


def _default_template() -> JsonValue:
    return {"input": "{{input}}", "session_id": "{{session_id}}"}


class HTTPConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="The agent's endpoint, `http://` or `https://`.")
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    request_template: JsonValue = Field(
        default_factory=_default_template,
        description=(
            "The JSON body; `{{input}}`, `{{session_id}}` and `{{system_prompt}}` in strings are "
            "substituted."
        ),
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Non-secret headers; put credentials in the secret `headers` instead.",
    )
    timeout: float = Field(
        default=120.0,
        gt=0,
        le=3600,
        description=(
            "Seconds to wait for a connection or for the next part of the response "
            "(infrastructure)."
        ),
    )
    output_path: str = Field(
        default="output",
        min_length=1,
        description=(
            "Dot path of the answer text in the response, e.g. `choices.0.message.content`."
        ),
    )
    tool_calls_path: str | None = Field(
        default="tool_calls",
        description=(
            "Dot path of the list of tool calls; missing in a response means no tool calls."
        ),
    )
    tool_name_key: str = Field(
        default="name",
        min_length=1,
        description="Dot path of the tool name inside one tool call, e.g. `function.name`.",
    )
    tool_args_key: str = Field(
        default="arguments",
        min_length=1,
        description="Dot path of the arguments inside one tool call: an object or a JSON string.",
    )
    usage_input_tokens_path: str | None = None
    usage_output_tokens_path: str | None = None

    @field_validator("method", mode="before")
    @classmethod
    def _upper_method(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        try:
            url = httpx.URL(value)
        except httpx.InvalidURL as exc:
            raise ValueError(f"is not a URL: {exc}") from exc
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value


class HTTPSecrets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    headers: dict[str, SecretStr] = Field(default_factory=dict)
    """Headers that carry credentials, e.g. `Authorization`."""


class HTTPTarget(Target):
    def __init__(
        self,
        config: HTTPConfig,
        secret_headers: Mapping[str, str] | None = None,
        outbound: OutboundPolicy | None = None,
    ) -> None:
        """``outbound`` guards every connection (None: unguarded, for the operator's URLs)."""
        self.config = config
        secret_headers = dict(secret_headers or {})
        #: Values to blank out of error messages: each whole header value, and its long parts
        #: alone (an agent may echo just the token of ``Bearer <token>``), longest first.
        self._secret_values = sorted(
            {v for v in secret_headers.values() if v}
            | {part for v in secret_headers.values() for part in v.split() if len(part) >= 8},
            key=len,
            reverse=True,
        )
        self._client = httpx.AsyncClient(
            timeout=config.timeout,
            headers={"accept": "application/json", **config.headers, **secret_headers},
            transport=httpx_transport(outbound),
        )
        #: Whether the template has a slot for a call's system prompt; without one it is
        #: prepended to the input.
        self._system_slot = has_placeholder(config.request_template, "system_prompt")
        url = httpx.URL(config.url)
        #: The URL as shown in messages: no query string or user info, which may hold tokens.
        self._shown_url = f"{url.scheme}://{url.netloc.decode()}{url.path}"

    @override
    async def invoke(
        self, input: str, *, session_id: str, system_prompt: str | None = None
    ) -> NormalizedResponse:
        """POST the filled-in template once and read the answer from the JSON response.

        ``system_prompt`` fills ``{{system_prompt}}`` when the template has it; otherwise it
        is prepended to the input (see ``targets/base.py``).

        Raises:
            ProviderRateLimited: the agent answered 429.
            ProviderUnavailable: 502/503/504, a connection error or a timeout.
            TargetError: any other error status, a non-JSON body, or no value at
                ``output_path``; a malformed tool call, argument or token count.
        """
        sent: list[dict[str, Any]] = []
        if self._system_slot:
            if system_prompt:
                sent.append({"role": "system", "content": system_prompt})
        else:
            input = with_context(input, system_prompt)
        sent.append({"role": "user", "content": input})
        body = substitute(
            self.config.request_template,
            input=input,
            session_id=session_id,
            system_prompt=system_prompt if self._system_slot else None,
        )
        started = time.perf_counter()
        response = await self._send(body)
        latency_ms = (time.perf_counter() - started) * 1000
        self._raise_for_status(response)
        try:
            data = response.json()
        except ValueError as exc:
            raise TargetError(
                f"the agent's response is not JSON (HTTP {response.status_code}): "
                f"{self._excerpt(response.text)!r}"
            ) from exc
        output = self._output(data)
        tool_calls = self._tool_calls(data)
        reply: dict[str, Any] = {"role": "assistant", "content": output}
        if tool_calls:
            reply["tool_calls"] = [c.model_dump(exclude_none=True) for c in tool_calls]
        return NormalizedResponse(
            output=output,
            tool_calls=tool_calls,
            messages=[*sent, reply],
            usage=Usage(
                input_tokens=self._token_count(data, self.config.usage_input_tokens_path),
                output_tokens=self._token_count(data, self.config.usage_output_tokens_path),
            ),
            latency_ms=latency_ms,
        )

    @override
    async def converse(
        self, message: str, *, session_id: str, system_prompt: str | None = None
    ) -> NormalizedResponse:
        """Send one turn exactly as ``invoke`` does: the agent keeps the conversation.

        The template's ``{{session_id}}`` is the same on every turn of a session, and the
        agent must key its memory by it (a template without ``{{session_id}}`` gives the
        agent no way to tell conversations apart). This target keeps nothing, so
        ``end_session`` has nothing to forget.

        Raises:
            ProviderRateLimited, ProviderUnavailable, TargetError: as for ``invoke``.
        """
        return await self.invoke(message, session_id=session_id, system_prompt=system_prompt)

    @override
    async def aclose(self) -> None:
        await self._client.aclose()

    async def _send(self, body: JsonValue) -> httpx.Response:
        where = f"{self.config.method} {self._shown_url}"
        try:
            return await self._client.request(self.config.method, self.config.url, json=body)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(
                f"{where} timed out after {self.config.timeout:g}s ({type(exc).__name__})"
            ) from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"{where} failed: {type(exc).__name__}: {exc}") from exc

    def _raise_for_status(self, response: httpx.Response) -> None:
        raise_for_agent_status(response, "the agent", self._excerpt(response.text))

    def _excerpt(self, text: str) -> str:
        """The start of a body, with any secret header value the agent echoed blanked out."""
        for secret in self._secret_values:
            text = text.replace(secret, REDACTED)
        return text[:EXCERPT_CHARS]

    def _output(self, data: Any) -> str:
        path = self.config.output_path
        try:
            value = resolve_path(data, path)
        except LookupError as exc:
            raise TargetError(f"the agent's response has no value at output_path {path!r}") from exc
        if value is None:
            raise TargetError(f"the agent's response has null at output_path {path!r}")
        return value if isinstance(value, str) else json.dumps(value)

    def _tool_calls(self, data: Any) -> list[ToolCall]:
        path = self.config.tool_calls_path
        if path is None:
            return []
        try:
            calls = resolve_path(data, path)
        except LookupError:
            return []
        if calls is None:
            return []
        if not isinstance(calls, list):
            raise TargetError(f"tool_calls_path {path!r} holds {type(calls).__name__}, not a list")
        return [self._tool_call(call, f"{path}.{i}") for i, call in enumerate(calls)]

    def _tool_call(self, call: Any, where: str) -> ToolCall:
        name_key, args_key = self.config.tool_name_key, self.config.tool_args_key
        try:
            name = resolve_path(call, name_key)
        except LookupError:
            name = None
        if not isinstance(name, str):
            raise TargetError(f"the tool call at {where} has no string at {name_key!r}")
        try:
            arguments = resolve_path(call, args_key)
        except LookupError:
            arguments = None
        call_id = call.get("id") if isinstance(call, dict) else None
        return ToolCall(
            name=name,
            arguments=tool_arguments(arguments, f"{where}.{args_key}"),
            id=call_id if isinstance(call_id, str) else None,
        )

    def _token_count(self, data: Any, path: str | None) -> int:
        if path is None:
            return 0
        try:
            value = resolve_path(data, path)
        except LookupError:
            return 0
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise TargetError(f"the token count at {path!r} is not a whole number: {value!r}")
        return value


def substitute(
    template: JsonValue, *, input: str, session_id: str, system_prompt: str | None = None
) -> JsonValue:
    """The template with ``{{input}}``, ``{{session_id}}`` and ``{{system_prompt}}`` replaced.

    Every string value is substituted, in one pass per string, so placeholders inside the
    values themselves are left as the user wrote them. A missing system prompt is an empty
    string.
    """
    values = {"input": input, "session_id": session_id, "system_prompt": system_prompt or ""}
    return _substitute(template, values)


def _substitute(template: JsonValue, values: dict[str, str]) -> JsonValue:
    if isinstance(template, str):
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
    if isinstance(template, list):
        return [_substitute(v, values) for v in template]
    if isinstance(template, dict):
        return {k: _substitute(v, values) for k, v in template.items()}
    return template


def has_placeholder(template: JsonValue, name: str) -> bool:
    """Whether any string in ``template`` holds ``{{name}}``."""
    if isinstance(template, str):
        return "{{" + name + "}}" in template
    if isinstance(template, list):
        return any(has_placeholder(v, name) for v in template)
    if isinstance(template, dict):
        return any(has_placeholder(v, name) for v in template.values())
    return False


def resolve_path(data: Any, path: str) -> Any:
    """The value at a dot path; a segment indexes a list when it is an integer.

    Raises:
        LookupError: a key is missing, an index is out of range, or a segment meets a
            value that is neither an object nor a list.
    """
    value = data
    for segment in path.split("."):
        if isinstance(value, dict) and segment in value:
            value = value[segment]
        elif isinstance(value, list) and segment.lstrip("-").isdigit():
            value = value[int(segment)]  # IndexError is a LookupError
        else:
            raise LookupError(path)
    return value


def tool_arguments(value: Any, where: str) -> dict[str, Any]:
    """Arguments given as an object, a JSON string of one (OpenAI's style), or nothing."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise TargetError(f"the tool arguments at {where!r} are not valid JSON") from exc
    if not isinstance(value, dict):
        raise TargetError(
            f"the tool arguments at {where!r} are {type(value).__name__}, not an object"
        )
    return value


def retry_after_seconds(header: str | None) -> float | None:
    """Retry-After as seconds from now: a number of seconds or an HTTP date, else None."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def raise_for_agent_status(response: httpx.Response, where: str, excerpt: str) -> None:
    """Classify an agent's non-2xx answer per the Target contract.

    429 and gateway errors (502/503/504) are infrastructure and retried; any other error
    status is the agent's own failure. ``excerpt`` must already have secrets blanked out.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    if status == 429:
        raise ProviderRateLimited(
            f"{where} answered HTTP 429: {excerpt!r}",
            retry_after=retry_after_seconds(response.headers.get("retry-after")),
        )
    if status in INFRASTRUCTURE_STATUSES:
        raise ProviderUnavailable(f"{where} answered HTTP {status}: {excerpt!r}", status)
    raise TargetError(f"{where} answered HTTP {status}: {excerpt!r}")
