"""Requests per API key, counted by the ``limits`` library in memory or in Redis.

One key's burst must not starve the other tenants, so every authenticated request counts
against its key (a sliding window, ``Settings.rate_limit``, e.g. ``600/minute``). Requests
that fail authentication count against no key: they cost one hashed lookup and never reach
a service. Memory storage counts per process; several ``assay serve`` processes behind one
load balancer share one count through ``ASSAY_RATE_LIMIT_STORAGE=redis://...``.

If Redis cannot be reached the request is let through and a warning logged: the limit
protects capacity, it is not an access control, and an outage of it must not fail every
request.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from assay.core.errors import RateLimited

log = logging.getLogger(__name__)

_NAMESPACE = "assay-key"


class KeyRateLimiter:
    """The request limit of each API key; ``limit`` None means no limit."""

    def __init__(self, limit: str | None, storage_uri: str) -> None:
        self._item: RateLimitItem | None = parse(limit) if limit else None
        options: dict[str, Any] = {"wrap_exceptions": True}
        #: Our own Redis connections, so that closing the server closes them.
        self._pool: Any = None
        if storage_uri.startswith(("redis://", "rediss://")):
            from redis.asyncio import ConnectionPool

            self._pool = ConnectionPool.from_url(storage_uri)
            options |= {"implementation": "redispy", "connection_pool": self._pool}
        self._limiter = SlidingWindowCounterRateLimiter(
            storage_from_string(f"async+{storage_uri}", **options)
        )

    async def hit(self, key_id: str) -> None:
        """Count one request of ``key_id``.

        Raises:
            RateLimited: the key used up its limit; ``retry_after`` says when it may go on.
        """
        if self._item is None:
            return
        try:
            allowed = await self._limiter.hit(self._item, _NAMESPACE, key_id)
            if allowed:
                return
            stats = await self._limiter.get_window_stats(self._item, _NAMESPACE, key_id)
        except StorageError as exc:
            log.warning(
                "rate limit storage failed (%s); request let through",
                type(exc.storage_error).__name__,
            )
            return
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(
            f"this API key is over its limit of {self._item}; see ASSAY_RATE_LIMIT",
            retry_after=retry_after,
        )

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
