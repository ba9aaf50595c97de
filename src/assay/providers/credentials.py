"""Which of the server's own credentials a call may carry: decided here, for every route.

The operator's keys (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``) and cloud identity (the AWS
credential chain for Bedrock, Google Application Default Credentials for Vertex) go only to
the provider's own endpoint or to the endpoint the operator configured (``OPENAI_BASE_URL``,
``ANTHROPIC_BASE_URL``). An endpoint a caller chose (an agent's or connector's base URL, a
project's ``llmSettings.*.baseUrl``, ``model_params.base_url``, a run file's ``base_url``)
gets the caller's own key or none: anyone who may register a URL could otherwise read the
operator's key with ``nc -l``.

The engine's provider pool (``engine/runtime.py``) applies this to every provider it builds,
and ``services/trust.py`` asks it whether a model hub needs the caller's key, so the answer
at save time and at run time is the same.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import urlsplit

from pydantic import SecretStr

from assay.settings import Settings

#: The hosted APIs' own endpoints, as the SDKs call them without a base URL.
DEFAULT_ENDPOINTS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
}
#: Bedrock's regional runtime endpoints (not VPC endpoints, which any AWS account can own).
_BEDROCK_HOST = re.compile(r"^bedrock-runtime(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?$")
#: Vertex AI's global and regional endpoints.
_VERTEX_HOST = re.compile(r"^(?:[a-z0-9-]+-)?aiplatform\.googleapis\.com$")


class ServerCredentials(NamedTuple):
    """What a call to one endpoint may use of the server's own identity."""

    base_url: str | None
    """The endpoint to call: the caller's, else the operator's, else None (the default)."""
    api_key: SecretStr | None
    """The server's key for this provider, when the endpoint may receive it."""
    ambient: bool
    """Whether the provider may fall back to the server's cloud identity (AWS, Google)."""
    operator_endpoint: bool
    """The endpoint is the provider's own or the operator's, not one a caller chose."""


def server_credentials(
    provider: str, base_url: str | None, settings: Settings
) -> ServerCredentials:
    """The server's credentials that may go to ``base_url`` (None: the provider's default).

    A caller's base URL that is the provider's own endpoint or the operator's (compared by
    scheme, host, port and path) counts as theirs; any other gets nothing of the server's.
    """
    if provider in DEFAULT_ENDPOINTS:
        key, configured = _server_key(provider, settings)
        if base_url is None:
            return ServerCredentials(configured, key, ambient=False, operator_endpoint=True)
        ours = {_endpoint(DEFAULT_ENDPOINTS[provider])}
        if configured:
            ours.add(_endpoint(configured))
        if _endpoint(base_url) in ours:
            return ServerCredentials(base_url, key, ambient=False, operator_endpoint=True)
        return ServerCredentials(base_url, None, ambient=False, operator_endpoint=False)
    hosts = {"bedrock": _BEDROCK_HOST, "vertex": _VERTEX_HOST}.get(provider)
    if hosts is None:
        # The mock and plugin providers: the server holds no credentials for them.
        return ServerCredentials(base_url, None, ambient=False, operator_endpoint=False)
    own = (base_url is None and provider == "bedrock") or (
        base_url is not None and _is_https_host(base_url, hosts)
    )
    return ServerCredentials(base_url, None, ambient=own, operator_endpoint=own)


def _server_key(provider: str, settings: Settings) -> tuple[SecretStr | None, str | None]:
    if provider == "openai":
        return settings.openai_api_key, settings.openai_base_url
    return settings.anthropic_api_key, settings.anthropic_base_url


def _endpoint(url: str) -> tuple[str, str, int | None, str]:
    """A URL reduced to what decides where a request goes; unparsable URLs match nothing."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        return ("invalid", url, None, "")
    return (parts.scheme.lower(), (parts.hostname or "").rstrip("."), port, parts.path.rstrip("/"))


def _is_https_host(url: str, pattern: re.Pattern[str]) -> bool:
    scheme, host, port, _path = _endpoint(url)
    return scheme == "https" and port == 443 and pattern.match(host) is not None
