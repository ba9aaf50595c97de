"""aiohttp's resolver under the outbound policy (``core/outbound.py``; see ``http_guard.py``).

Apart from ``http_guard.py`` so that Assay's own aiohttp client (``providers/openai_wire.py``)
is guarded without importing httpx.
"""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from typing_extensions import override

from assay.core.errors import OutboundRefused
from assay.core.outbound import OutboundPolicy, literal_address

#: The SDKs' own pool size (openai and anthropic ``DEFAULT_CONNECTION_LIMITS``).
SDK_MAX_CONNECTIONS = 1000


def policy_address(text: str) -> Any:
    """An address a resolver answered, as the policy checks it (scope ids dropped)."""
    address = literal_address(text.partition("%")[0])
    if address is None:  # a resolver answers addresses, never names
        raise OutboundRefused(f"the resolver answered {text!r}, which is not an address")
    return address


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, answering only the addresses the policy allows."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy
        self._inner = aiohttp.DefaultResolver()

    @override
    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self._policy.check_host(host)
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if self._policy.refusal(policy_address(r["host"])) is None]
        if not allowed and results:
            self._policy.check_address(policy_address(results[0]["host"]), host)
        return allowed

    @override
    async def close(self) -> None:
        await self._inner.close()
