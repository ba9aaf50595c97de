"""Amazon Bedrock through the Converse API (``pip install 'assay[bedrock]'``).

boto3 is synchronous, so each call runs on a worker thread of the provider's own pool (one
thread per allowed connection, so a busy run never starves the loop's default executor),
on one client built on first use with botocore's retries turned off: the engine owns them.

Where and as whom:

- **Endpoint and region.** ``config.base_url`` is the boto3 ``endpoint_url``. For a Bedrock
  host (``https://bedrock-runtime.<region>.amazonaws.com``, its FIPS and VPC-endpoint forms)
  the signing region is read from the host, which is how ``model_hub: bedrock`` passes
  ``model_params.region``. Without a base URL, the region is the server's AWS configuration
  (``AWS_DEFAULT_REGION``, the profile). Any other endpoint (a gateway, a test server) is signed for
  that region too, else ``us-east-1``.
- **Credentials.** ``config.api_key`` is a Bedrock API key, sent as a bearer token (botocore
  only sends it over https). It is handed to botocore directly, never through the process
  environment, and with a key no AWS credentials are looked up at all, so the server's own
  identity never stands in for a caller's key. Without a key, botocore's standard chain is
  used (environment, profile, SSO, instance role), and only when
  ``config.ambient_credentials`` says the endpoint is Bedrock's own.
- **Outbound guard.** botocore connects through urllib3, not the guarded clients of
  ``http_guard``, so a caller's ``base_url`` is checked against ``config.outbound`` (scheme,
  literal addresses, metadata names) when the provider is built, without DNS pinning.

Assay's neutral messages map onto Converse like this: system messages (and the JSON-mode
instruction, as Converse has no JSON mode) become ``system`` blocks, tool calls become
``toolUse`` blocks, tool results become user turns holding a ``toolResult`` block,
consecutive turns of one role are merged (Converse wants them to alternate), and
OpenAI-style function tools become ``toolSpec`` entries.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import botocore.credentials
import botocore.exceptions
import botocore.session
import botocore.tokens
from botocore.config import Config
from typing_extensions import override

from assay.core.errors import (
    ConfigurationError,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
)
from assay.core.llm import ChatMessage, ChatRequest, ChatResponse
from assay.core.outcome import ToolCall, Usage
from assay.providers._http import connection_key, error_from_status, redact, retry_after_seconds
from assay.providers.base import ModelProvider, ProviderConfig

#: Signs requests to an endpoint whose host names no region, when AWS configures none either.
FALLBACK_REGION = "us-east-1"
JSON_INSTRUCTION = "Answer with one JSON object only, with no text before or after it."
#: bedrock-runtime.<region>.amazonaws.com, -fips, vpce-... .bedrock-runtime.<region>.vpce...
_REGION_IN_HOST = re.compile(
    r"(?:^|\.)bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.(?:vpce\.)?amazonaws\.com(?:\.cn)?$"
)
#: Error codes that mean the credentials were refused, whatever HTTP status carried them.
_AUTH_CODES = frozenset(
    {
        "AccessDeniedException",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "IncompleteSignature",
        "MissingAuthenticationTokenException",
        "InvalidClientTokenId",
    }
)
#: Transient server-side states: retried, without shrinking the concurrency limit.
_UNAVAILABLE_CODES = frozenset(
    {
        "ServiceUnavailableException",
        "InternalServerException",
        "ModelNotReadyException",
        "ModelTimeoutException",
    }
)
_THROTTLED_CODES = frozenset({"ThrottlingException", "TooManyRequestsException"})
#: botocore's errors for credentials that are missing or unusable: every call would fail.
_NO_CREDENTIALS = (
    botocore.exceptions.NoCredentialsError,
    botocore.exceptions.PartialCredentialsError,
    botocore.exceptions.NoAuthTokenError,
    botocore.exceptions.TokenRetrievalError,
    botocore.exceptions.UnauthorizedSSOTokenError,
)
_UNREADABLE = (AttributeError, IndexError, KeyError, TypeError, ValueError)


class BedrockProvider(ModelProvider):
    """A model on Amazon Bedrock; ``self.model`` is a model id, inference profile or ARN.

    Raises:
        ConfigurationError: at construction, when no region can be found, or when an API key
            would be sent to a plain-http ``base_url``.
    """

    def __init__(self, model: str, config: ProviderConfig) -> None:
        super().__init__(model, config)
        self._api_key = config.api_key.get_secret_value() if config.api_key else None
        self._base_url = config.base_url
        if self._api_key and self._base_url and not self._base_url.startswith("https://"):
            raise ConfigurationError(
                f"the bedrock provider sends an API key only over https, not to {self._base_url}"
            )
        if self._api_key is None and not config.ambient_credentials:
            raise ConfigurationError(
                f"the bedrock provider needs an API key for {self._base_url}: this server's "
                "AWS credentials go only to Bedrock's own endpoints"
            )
        if self._base_url and config.outbound is not None:
            config.outbound.check_url(self._base_url)
        self._session = self._botocore_session()
        self._region = self._resolve_region()
        self._where = self._base_url or f"bedrock-runtime.{self._region}"
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    @override
    async def generate(self, request: ChatRequest) -> ChatResponse:
        """Run one Converse call on a worker thread, without retries (the engine owns them).

        Raises:
            ProviderRateLimited: throttling (HTTP 429).
            ProviderUnavailable: 5xx, a model not ready or timing out, connection errors,
                timeouts, or a 200 whose body is not a Converse answer.
            ProviderRejected: refused credentials (status 401 or 403), a bad request or an
                unknown model (other 4xx).
        """
        arguments = self._arguments(request)
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        with map_bedrock_errors(self._api_key or "", self._where):
            answer = await loop.run_in_executor(self._pool(), self._converse, arguments)
        latency_ms = (time.perf_counter() - started) * 1000
        try:
            return response_from_converse(answer, latency_ms, self.model)
        except _UNREADABLE as exc:
            raise ProviderUnavailable(
                f"Bedrock at {self._where} answered with a body that is not a Converse answer",
                status_code=200,
            ) from exc

    @property
    def region(self) -> str:
        """The region requests are signed for."""
        return self._region

    @override
    def connection_key(self) -> str:
        return connection_key(self._where, self._api_key or "aws-credential-chain")

    @override
    async def aclose(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _botocore_session(self) -> botocore.session.Session:
        """The standard AWS chain, or, with an API key, that key and no AWS credentials."""
        session = botocore.session.Session()
        if self._api_key is not None:
            session.register_component(
                "credential_provider", botocore.credentials.CredentialResolver(providers=[])
            )
            session.register_component("token_provider", _StaticToken(self._api_key))
        return session

    def _resolve_region(self) -> str:
        host = _host(self._base_url) if self._base_url else ""
        found = _REGION_IN_HOST.search(host)
        if found:
            return found.group(1)
        configured = self._session.get_config_variable("region")
        if isinstance(configured, str) and configured:
            return configured
        if self._base_url:
            return FALLBACK_REGION
        raise ConfigurationError(
            "the bedrock provider needs a region: give model_params.region (or a Bedrock "
            "base_url), or set one in this server's AWS configuration (AWS_DEFAULT_REGION)"
        )

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                self.max_connections(), thread_name_prefix="assay-bedrock"
            )
        return self._executor

    def _converse(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Runs on a worker thread; botocore clients are thread-safe once built."""
        answer: dict[str, Any] = self._sdk_client().converse(**arguments)
        return answer

    def _sdk_client(self) -> Any:
        with self._client_lock:
            if self._client is None:
                config = Config(
                    # One attempt in all: botocore's max_attempts would count retries only.
                    retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=self.config.timeout,
                    read_timeout=self.config.timeout,
                    max_pool_connections=self.max_connections(),
                    signature_version="bearer" if self._api_key is not None else None,
                )
                session = boto3.session.Session(botocore_session=self._session)
                self._client = session.client(
                    "bedrock-runtime",
                    region_name=self._region,
                    endpoint_url=self._base_url,
                    config=config,
                )
            return self._client

    def _arguments(self, request: ChatRequest) -> dict[str, Any]:
        system = [m.content for m in request.messages if m.role == "system" and m.content]
        if request.json_mode:
            system.append(JSON_INSTRUCTION)
        inference: dict[str, Any] = {}
        if request.temperature is not None:
            inference["temperature"] = request.temperature
        if request.max_tokens is not None:
            inference["maxTokens"] = request.max_tokens
        arguments: dict[str, Any] = {
            "modelId": self.model,
            "messages": converse_messages(request.messages),
        }
        if system:
            arguments["system"] = [{"text": text} for text in system]
        if inference:
            arguments["inferenceConfig"] = inference
        if request.tools:
            arguments["toolConfig"] = {"tools": [converse_tool(t) for t in request.tools]}
        return arguments


class _StaticToken:
    """A botocore token provider holding one Bedrock API key (never read from the environment)."""

    METHOD = "explicit"

    def __init__(self, token: str) -> None:
        self._token = botocore.tokens.FrozenAuthToken(token)

    def load_token(self, **_: object) -> botocore.tokens.FrozenAuthToken:
        return self._token


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower()


class map_bedrock_errors:  # noqa: N801 - a context manager, named like map_openai_errors
    """Turn botocore's exceptions into ``ProviderError`` subclasses, with the key redacted.

    Raised ``from None``: botocore's messages and the error response can echo request parts.
    A class rather than ``@contextmanager``, whose frame would keep botocore's traceback, and
    with it the HTTP response and its open connection, alive as long as the new error.
    """

    def __init__(self, api_key: str, where: str) -> None:
        self._api_key = api_key
        self._where = where

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: object
    ) -> None:
        del traceback  # this frame is part of the new error's traceback
        if isinstance(error, botocore.exceptions.BotoCoreError):
            error.__traceback__ = None
            raise _from_botocore_error(error, self._api_key, self._where) from None
        if isinstance(error, botocore.exceptions.ClientError):
            error.__traceback__ = None
            raise _from_client_error(error.response, self._api_key, self._where) from None


def _from_botocore_error(exc: Exception, api_key: str, where: str) -> ProviderError:
    detail = redact(str(exc), api_key)[:500]
    if isinstance(exc, _NO_CREDENTIALS):
        return ProviderRejected(
            f"Bedrock at {where}: no usable AWS credentials: {detail}", status_code=401
        )
    if isinstance(exc, botocore.exceptions.ParamValidationError):
        return ProviderRejected(
            f"Bedrock at {where}: the request is invalid: {detail}", status_code=400
        )
    # Connection refused or reset, timeouts, TLS errors, credential services down.
    return ProviderUnavailable(f"no answer from Bedrock at {where}: {detail}")


def _from_client_error(response: dict[str, Any], api_key: str, where: str) -> ProviderError:
    error = response.get("Error") or {}
    meta = response.get("ResponseMetadata") or {}
    code = str(error.get("Code") or "")
    status = int(meta.get("HTTPStatusCode") or 0)
    detail = redact(str(error.get("Message") or "")[:500], api_key)
    message = f"Bedrock at {where} answered HTTP {status} {code}: {detail}"
    if code in _AUTH_CODES:
        # 401/403 is what fails the evaluation as a refused key; keep the server's own choice.
        return ProviderRejected(message, status_code=status if status in (401, 403) else 403)
    if code in _UNAVAILABLE_CODES:
        return ProviderUnavailable(message, status_code=status or 503)
    if code in _THROTTLED_CODES:
        status = 429
    headers = {str(k).lower(): str(v) for k, v in (meta.get("HTTPHeaders") or {}).items()}
    return error_from_status(status or 400, message, retry_after_seconds(headers))


def converse_messages(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """Assay's non-system messages as Converse turns, consecutive same-role turns merged."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        role, content = _turn(message)
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(content)
        else:
            turns.append({"role": role, "content": content})
    return turns


def _turn(message: ChatMessage) -> tuple[str, list[dict[str, Any]]]:
    if message.role == "tool":
        result = {"toolUseId": message.tool_call_id, "content": [{"text": message.content}]}
        return "user", [{"toolResult": result}]
    if message.role == "assistant" and message.tool_calls:
        text = [{"text": message.content}] if message.content else []
        uses = [_tool_use(c, i) for i, c in enumerate(message.tool_calls)]
        return "assistant", text + uses
    return message.role, [{"text": message.content}]


def _tool_use(call: ToolCall, index: int) -> dict[str, Any]:
    return {
        "toolUse": {
            "toolUseId": call.id or f"tooluse_{index}",
            "name": call.name,
            "input": call.arguments,
        }
    }


def converse_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI-style function tool as a Converse ``toolSpec``; anything else as given."""
    function = tool.get("function")
    if tool.get("type") != "function" or not isinstance(function, dict):
        return tool
    spec: dict[str, Any] = {
        "name": function["name"],
        "inputSchema": {"json": function.get("parameters") or {"type": "object", "properties": {}}},
    }
    if function.get("description"):
        spec["description"] = function["description"]
    return {"toolSpec": spec}


def response_from_converse(answer: dict[str, Any], latency_ms: float, model: str) -> ChatResponse:
    """Text blocks joined, ``toolUse`` blocks as tool calls; raises KeyError etc. on junk."""
    text: list[str] = []
    tool_calls: list[ToolCall] = []
    for block in answer["output"]["message"]["content"]:
        if "text" in block:
            text.append(block["text"])
        elif "toolUse" in block:
            use = block["toolUse"]
            tool_calls.append(
                ToolCall(
                    name=use["name"],
                    arguments=_arguments(use.get("input")),
                    id=use.get("toolUseId"),
                )
            )
    usage = answer.get("usage") or {}
    return ChatResponse(
        text="".join(text),
        tool_calls=tool_calls,
        usage=Usage(
            input_tokens=usage.get("inputTokens") or 0,
            output_tokens=usage.get("outputTokens") or 0,
        ),
        latency_ms=latency_ms,
        model=model,
    )


def _arguments(value: Any) -> dict[str, Any]:
    """A tool input that is not a JSON object is kept verbatim under ``_raw``."""
    if value is None:
        return {}
    return value if isinstance(value, dict) else {"_raw": json.dumps(value)}
