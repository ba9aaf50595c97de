"""What the HTTP API providers share: credentials, connection keys and the status table.

Each SDK adapter catches its own exception classes (``map_openai_errors``,
``map_anthropic_errors``), but which ``ProviderError`` an HTTP status becomes is decided
here once, so every provider classifies a 429, a 503 or a 401 the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from assay.core.errors import (
    ConfigurationError,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from assay.providers.base import ProviderConfig

#: Sent as the key to local OpenAI-compatible servers, which ignore it but whose SDK needs one.
PLACEHOLDER_API_KEY = "not-needed"


def api_key_for(config: ProviderConfig, provider: str, env_name: str) -> str:
    """The key to send, resolved when the provider is built so a missing one fails fast.

    Raises:
        ConfigurationError: no key and no ``base_url``. A hosted API would answer 401 to every
            item; a configured ``base_url`` means a local server, which gets a placeholder.
    """
    if config.api_key is not None:
        return config.api_key.get_secret_value()
    if config.base_url:
        return PLACEHOLDER_API_KEY
    raise ConfigurationError(
        f"the {provider} provider needs an API key: set {env_name}, or give a base_url "
        "for a local server"
    )


def connection_key(base_url: str, api_key: str) -> str:
    """One account at one endpoint; the key is reduced to a digest so it never leaves here."""
    digest = hashlib.sha256(api_key.encode()).hexdigest()[:12]
    return f"{base_url}#{digest}"


def error_from_status(status: int, message: str, retry_after: float | None) -> ProviderError:
    """The ``ModelProvider`` contract's table: 429 waits, 5xx is retried, other 4xx is final."""
    if status == 429:
        return ProviderRateLimited(message, retry_after=retry_after)
    if status >= 500:
        return ProviderUnavailable(message, status_code=status)
    return ProviderRejected(message, status_code=status)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait the server asked for: OpenAI's ``retry-after-ms``, else ``retry-after`` seconds.

    An HTTP-date or garbage gives None, and the engine falls back to its own backoff.
    """
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            continue
    return None


def redact(text: str, secret: str) -> str:
    """``text`` without ``secret``: servers sometimes echo the credential in their errors."""
    return text.replace(secret, "***") if secret else text
