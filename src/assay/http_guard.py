"""HTTP clients that connect only where the outbound policy allows (``core/outbound.py``).

A URL checked when it was saved may still lead somewhere else when it is used: its name may
now resolve to ``127.0.0.1`` (DNS rebinding), or the server may redirect. So the check runs
where connections are made, on every new connection, redirects included:

- **httpx** (http and langgraph agents, webhooks): an httpcore network backend resolves the
  host once, checks every address, and connects to an allowed one. httpcore still sends the
  original ``Host`` header and uses the original name for TLS (SNI and certificate checks),
  and its pool stays keyed by that name, so two hosts behind one address never share a
  connection.
- **The model SDKs** (openai, anthropic, on httpx2 over aiohttp) and Assay's own Chat
  Completions client (plain aiohttp): an aiohttp resolver (``resolver.py``, apart so that the
  aiohttp client needs no httpx) does the same for names; aiohttp skips its resolver for a literal address, so the transport
  checks literal hosts of each request (every redirect hop is a new request) first.

A refused connection raises ``OutboundRefused``, which no client retries. A policy of ``*``
resolves nothing itself and leaves connecting to the libraries as usual.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import Any

import aiohttp
import anyio
import httpcore
import httpx
import httpx2
from httpx_aiohttp.httpx2 import AiohttpTransport
from typing_extensions import override

from assay.core.errors import OutboundRefused
from assay.core.outbound import OutboundPolicy
from assay.resolver import SDK_MAX_CONNECTIONS, GuardedResolver, policy_address


async def allowed_addresses(
    policy: OutboundPolicy, host: str, port: int, timeout: float | None = None
) -> list[str]:
    """The addresses of ``host`` that the policy allows, resolved once, in resolver order.

    Raises:
        OutboundRefused: a literal or metadata host that is not allowed, or a name whose
            every address is refused (the message names the first).
        httpcore.ConnectError: the name does not resolve.
        httpcore.ConnectTimeout: resolving took longer than ``timeout``.
    """
    literal = policy.check_host(host)
    if literal is not None:
        return [str(literal)]
    try:
        with anyio.fail_after(timeout):
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
    except OSError as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    allowed = [a for a in addresses if policy.refusal(policy_address(a)) is None]
    if not allowed:
        policy.check_address(policy_address(addresses[0]), host)
    return allowed


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's own backend, connecting only to addresses the policy allows."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    @override
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if self._policy.allow_all:
            return await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        addresses = await allowed_addresses(self._policy, host, port, timeout)
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None  # allowed_addresses never returns an empty list
        raise failure

    @override
    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise OutboundRefused("unix sockets are not allowed")

    @override
    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's default transport (HTTP/1.1, system-independent TLS) on a ``GuardedBackend``.

    Passing a transport also turns off httpx's proxies from the environment, which would
    otherwise connect on the client's behalf to an address this guard never sees.
    """

    def __init__(self, policy: OutboundPolicy) -> None:
        super().__init__()
        # httpx has no parameter for the backend; its pool does (a public httpcore API).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(), network_backend=GuardedBackend(policy)
        )


class GuardedSDKTransport(httpx2.AsyncBaseTransport):
    """The SDKs' aiohttp transport, on a ``GuardedResolver``, refusing literal hosts first."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy
        ssl_context = httpx2.create_ssl_context()

        def session() -> aiohttp.ClientSession:
            connector = aiohttp.TCPConnector(
                limit=SDK_MAX_CONNECTIONS, ssl=ssl_context, resolver=GuardedResolver(policy)
            )
            return aiohttp.ClientSession(connector=connector)

        # A factory: the session must be created inside the running loop, on first use.
        self._inner = AiohttpTransport(client=session)

    @override
    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self._policy.check_url(str(request.url))
        return await self._inner.handle_async_request(request)

    @override
    async def aclose(self) -> None:
        await self._inner.aclose()


def httpx_transport(policy: OutboundPolicy | None) -> httpx.AsyncBaseTransport | None:
    """The transport an httpx client gets: guarded, or None for httpx's default."""
    return GuardedTransport(policy) if policy is not None and not policy.allow_all else None


def sdk_transport(policy: OutboundPolicy | None) -> httpx2.AsyncBaseTransport | None:
    """The transport a model SDK's client gets: guarded, or None for the SDK's default."""
    return GuardedSDKTransport(policy) if policy is not None and not policy.allow_all else None
