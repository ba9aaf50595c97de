"""Chat Completions posted straight through one pooled aiohttp session: the hot path.

A benchmark sends thousands of completions at high concurrency, and the official SDK spends
more client CPU building each request (options models, deep copies, httpx request and header
objects) than the rest of Assay spends on the item. This client keeps what the SDK does that
matters to an evaluation (the same URL, bearer auth, timeouts, errors classified by the same
status table with the provider's own message, ``Retry-After``, no retries of its own) and
drops the rest: the headers are built once, the body is serialised once, and the answer is
read as bytes. ``ASSAY_OPENAI_TRANSPORT=sdk`` switches back to the SDK (``providers/openai.py``);
a test runs both against one server and requires the same outcomes.

Connections go where the outbound policy allows, as the SDK's do: the guarded resolver of
``http_guard.py`` answers only allowed addresses, and literal hosts are checked per call.
A 307 or 308 is followed, each hop checked like the first (they keep the method and body),
and a hop to another origin goes without the key, as httpx (the SDK's client) does; another
redirect is an error, since a chat completion turned into a GET cannot succeed.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from yarl import URL

from assay import __version__
from assay.core.errors import OutboundRefused, ProviderUnavailable
from assay.core.outbound import OutboundPolicy
from assay.providers._http import error_from_status, redact, retry_after_seconds
from assay.resolver import SDK_MAX_CONNECTIONS, GuardedResolver

#: Hops followed, as httpx (the SDK's client) follows them.
MAX_REDIRECTS = 20


class ChatCompletionsClient:
    """POSTs ``{base_url}/chat/completions`` as one account; created lazily in the running loop."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float,
        headers: dict[str, str],
        outbound: OutboundPolicy | None,
    ) -> None:
        self._base_url = base_url
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._api_key = api_key
        self._headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"assay/{__version__}",
            **headers,
            "Authorization": f"Bearer {api_key}",
        }
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        self._outbound = outbound if outbound is not None and not outbound.allow_all else None
        self._session: aiohttp.ClientSession | None = None

    async def post(self, body: dict[str, Any]) -> bytes:
        """The raw body of a 2xx answer.

        Raises:
            ProviderRateLimited, ProviderUnavailable, ProviderRejected: as ``error_from_status``
                classifies the status, with the server's message and the key redacted.
            ProviderUnavailable: no answer (connection refused or reset, timeout).
            OutboundRefused: the endpoint is somewhere the policy forbids.
        """
        session = self._session or self._open()
        data = json.dumps(body).encode()
        url, sent = URL(self._url), self._headers
        try:
            for _ in range(MAX_REDIRECTS + 1):
                if self._outbound is not None:
                    self._outbound.check_url(str(url))  # literal hosts never reach the resolver
                async with session.post(
                    url, data=data, headers=sent, timeout=self._timeout, allow_redirects=False
                ) as response:
                    content = await response.read()
                    status, headers = response.status, response.headers
                location = headers.get("Location")
                if status not in (307, 308) or not location:
                    break
                url = url.join(URL(location))
                if url.origin() != URL(self._url).origin():  # the key is for its endpoint only
                    sent = {k: v for k, v in self._headers.items() if k != "Authorization"}
        except OutboundRefused:
            raise
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            detail = redact(str(exc) or "Request timed out.", self._api_key)
            raise ProviderUnavailable(
                f"no answer from OpenAI API at {self._base_url}: {detail}"
            ) from None
        if 200 <= status < 300:
            return content
        detail = redact(error_detail(status, content.decode(errors="replace")), self._api_key)
        message = f"OpenAI API at {self._base_url} answered HTTP {status}: {detail}"
        raise error_from_status(status, message, retry_after_seconds(headers))

    def use_api_key(self, api_key: str) -> None:
        """Authenticate (and redact) with ``api_key`` from the next call on."""
        self._api_key = api_key
        self._headers = self._headers | {"Authorization": f"Bearer {api_key}"}

    def _open(self) -> aiohttp.ClientSession:
        resolver = GuardedResolver(self._outbound) if self._outbound is not None else None
        connector = aiohttp.TCPConnector(limit=SDK_MAX_CONNECTIONS, resolver=resolver)
        self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def error_detail(status: int, text: str) -> str:
    """The provider's own error message, found where the SDK finds it (``error.message``)."""
    text = text.strip()
    try:
        body: Any = json.loads(text)
        fallback = f"Error code: {status} - {body}"
    except ValueError:
        body, fallback = text, text or f"Error code: {status}"
    data = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return str(data)[:500] if data else fallback
