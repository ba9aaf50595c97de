"""The ModelProvider interface: one required method, safe defaults for the rest.

Contract for implementers:

- ``generate`` sends one chat request and returns one ``ChatResponse`` with usage and
  latency filled in. It does **not** retry: the engine owns retries, so SDK-level retries
  must be turned off.
- It raises only ``ProviderError`` subclasses: ``ProviderRateLimited`` (429, with
  ``retry_after`` when the server gave one), ``ProviderUnavailable`` (5xx, connection errors,
  timeouts) or ``ProviderRejected`` (any other 4xx: bad key, unknown model, bad request).
  Messages carry status codes and the provider's error text, never the API key.
- A provider instance is shared by every item that uses the same provider, base URL and key,
  and is closed with ``aclose`` when the engine stops.
"""

from __future__ import annotations

import abc
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

from assay.core.llm import ChatRequest, ChatResponse
from assay.core.outbound import OutboundPolicy


class ProviderConfig(BaseModel):
    """Where and as whom to call a provider; built from settings or an evaluation's secrets."""

    api_key: SecretStr | None = None
    base_url: str | None = None
    #: Extra non-secret headers sent with every call (an openai-chat agent's own headers).
    headers: dict[str, str] = Field(default_factory=dict)
    #: Client-side timeout of one call, in seconds.
    timeout: float = 120.0
    #: Whether the provider may use the server's cloud identity (the AWS credential chain,
    #: Google ADC) when ``api_key`` is None; set only for the provider's own endpoints
    #: (``providers/credentials.py``).
    ambient_credentials: bool = False
    #: Where the client may connect, checked on every connection and redirect; None for an
    #: endpoint the operator chose, which is not guarded.
    outbound: OutboundPolicy | None = None
    #: Chat Completions through Assay's own aiohttp client or the official SDK (``openai``).
    transport: Literal["aiohttp", "sdk"] = "aiohttp"


class ModelProvider(abc.ABC):
    def __init__(self, model: str, config: ProviderConfig) -> None:
        self.model = model
        self.config = config

    @abc.abstractmethod
    async def generate(self, request: ChatRequest) -> ChatResponse:
        """Run one chat completion; raises ProviderError subclasses only."""

    def max_connections(self) -> int:
        """How many calls may be in flight on one ``connection_key``."""
        return 100

    def connection_key(self) -> str:
        """Calls that share this key share a concurrency limit (one account at one endpoint)."""
        return "default"

    async def aclose(self) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """Release connections. Safe to call twice."""
