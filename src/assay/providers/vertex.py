"""Google Vertex AI through its OpenAI-compatible endpoint (``pip install 'assay[vertex]'``).

Vertex serves Chat Completions at
``https://{region}-aiplatform.googleapis.com/v1/projects/{project}/locations/{region}/endpoints/openapi``
(``aiplatform.googleapis.com`` for the ``global`` location), so this is the OpenAI provider
with that URL as ``config.base_url`` (``model_hub: vertex`` builds it from
``model_params.project_id`` and ``region``) and a Google OAuth access token as the bearer
key. Model names are Vertex's, publisher first: ``google/gemini-2.0-flash``.

The token is ``config.api_key`` when given (an access token the caller minted), otherwise one
from Application Default Credentials (``google.auth.default``), refreshed on a worker thread
when it is about to expire (google-auth is synchronous); ADC only when
``config.ambient_credentials`` says the endpoint is Vertex AI's own. A 401 or 403 from Vertex is a
``ProviderRejected`` with that status, like any OpenAI-compatible server's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import google.auth
import google.auth.exceptions
from google.auth.credentials import Credentials
from google.auth.transport.requests import Request
from typing_extensions import override

from assay.core.errors import (
    AssayError,
    ConfigurationError,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
)
from assay.core.llm import ChatRequest, ChatResponse
from assay.providers._http import connection_key, redact
from assay.providers.base import ProviderConfig
from assay.providers.openai import OpenAIProvider

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
BASE_URL_SHAPE = (
    "https://{region}-aiplatform.googleapis.com/v1/projects/{project}/locations/{region}"
    "/endpoints/openapi"
)


class VertexProvider(OpenAIProvider):
    """A model on Vertex AI, called as an OpenAI-compatible server with a Google token.

    Raises:
        ConfigurationError: at construction, when ``config.base_url`` is missing.
    """

    def __init__(self, model: str, config: ProviderConfig) -> None:
        if not config.base_url:
            raise ConfigurationError(
                f"the vertex provider needs its endpoint as base_url: {BASE_URL_SHAPE} "
                "(model_hub vertex builds it from model_params.project_id and region)"
            )
        if config.api_key is None and not config.ambient_credentials:
            raise ConfigurationError(
                f"the vertex provider needs an access token for {config.base_url}: this "
                "server's Google credentials go only to Vertex AI's own endpoints"
            )
        # Without a key this leaves a placeholder, replaced by an ADC token before each call.
        super().__init__(model, config)
        self._uses_adc = config.api_key is None
        self._credentials: Credentials | None = None
        self._transport: Request | None = None
        self._refresh_lock = asyncio.Lock()
        #: The ADC tokens handed out lately (the current one and its predecessor): a call
        #: that straddles a refresh may have sent either, so errors are scrubbed of both.
        self._issued: list[str] = []

    @override
    async def generate(self, request: ChatRequest) -> ChatResponse:
        """Run one chat completion with a fresh token, without retries (the engine owns them).

        Raises:
            ProviderRateLimited: HTTP 429.
            ProviderUnavailable: 5xx, connection errors, timeouts, a body that is not a chat
                completion, or Google's token service unreachable.
            ProviderRejected: any other 4xx (401/403: the token was refused), or no usable
                Application Default Credentials (status 401).
        """
        if self._uses_adc:
            token = await self._access_token()
            self.use_api_key(token)
        try:
            return await super().generate(request)
        except ProviderError as exc:
            _scrub(exc, self._issued)
            raise

    @override
    def connection_key(self) -> str:
        if self._uses_adc:
            return connection_key(self._base_url, "application-default-credentials")
        return super().connection_key()

    @override
    async def aclose(self) -> None:
        await super().aclose()
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.session.close()

    async def _access_token(self) -> str:
        """The current ADC access token, refreshed (once, for all waiting calls) if stale."""
        token = _valid_token(self._credentials)
        if token is not None:
            return token
        async with self._refresh_lock:
            token = _valid_token(self._credentials)
            if token is None:
                with map_google_auth_errors(self._base_url):
                    self._credentials = await asyncio.to_thread(self._refreshed)
                # Just refreshed, so usable even when it lives shorter than google-auth's
                # refresh margin (such a token is refreshed again on the next call).
                token = self._credentials.token
                if not isinstance(token, str) or not token:
                    raise ProviderRejected(
                        f"Vertex AI at {self._base_url}: Application Default Credentials "
                        "gave no access token",
                        status_code=401,
                    )
                self._issued = [*self._issued[-1:], token]
            return token

    def _refreshed(self) -> Credentials:
        """Runs on a worker thread: google-auth reads files and calls Google synchronously."""
        credentials = self._credentials
        if credentials is None:
            credentials, _project = google.auth.default(scopes=list(SCOPES))
        if self._transport is None:
            self._transport = Request()
        credentials.refresh(self._transport)  # type: ignore[no-untyped-call]  # untyped upstream
        return credentials


def _valid_token(credentials: Credentials | None) -> str | None:
    if credentials is None or not credentials.valid:
        return None
    token = credentials.token
    return token if isinstance(token, str) and token else None


def _scrub(error: AssayError, secrets: list[str]) -> None:
    for secret in secrets:
        error.message = redact(error.message, secret)
    error.args = (error.message,)


@contextmanager
def map_google_auth_errors(base_url: str) -> Iterator[None]:
    """Turn google-auth's exceptions into ``ProviderError`` subclasses.

    Missing or refused credentials are a 401, so the evaluation fails as with a bad key;
    an unreachable token service is retried.
    """
    try:
        yield
    except google.auth.exceptions.DefaultCredentialsError as exc:
        raise ProviderRejected(
            f"Vertex AI at {base_url}: no Google credentials on this server (give "
            f"api_key_value, or set up Application Default Credentials): {exc}",
            status_code=401,
        ) from None
    except google.auth.exceptions.TransportError as exc:
        raise ProviderUnavailable(
            f"Vertex AI at {base_url}: Google's token service did not answer: {exc}"
        ) from None
    except google.auth.exceptions.RefreshError as exc:
        detail = str(exc.args[0] if exc.args else exc)[:300]
        if getattr(exc, "retryable", False):
            raise ProviderUnavailable(
                f"Vertex AI at {base_url}: refreshing the Google access token failed: {detail}"
            ) from None
        raise ProviderRejected(
            f"Vertex AI at {base_url}: Google refused to refresh the access token: {detail}",
            status_code=401,
        ) from None
    except google.auth.exceptions.GoogleAuthError as exc:
        raise ProviderRejected(
            f"Vertex AI at {base_url}: Google credentials are unusable: {exc}", status_code=401
        ) from None
