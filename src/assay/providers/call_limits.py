"""The operator's limits on calls to a provider, shared by every process through Redis.

A provider's quota (requests per minute, calls in flight) belongs to the account, not to a
process: ten workers each holding a per-process limit would send ten times the quota.
``ASSAY_PROVIDER_LIMITS`` names rules by provider (``openai``) or base URL; each account (API
key) at that endpoint gets the rule's limits, counted where ``ASSAY_PROVIDER_LIMITS_STORAGE``
points: ``memory://`` in this process, ``redis://...`` across every server and worker on it.

- **Rate**: the ``limits`` library's moving window. A call over the rate is not refused, it
  waits until the window has room: the item runs later, it does not fail.
- **Concurrency**: ``limits`` counts events, not calls in flight, so a sorted set in Redis
  holds one member per call in flight, added and counted atomically by one script and each
  expiring after the call's own timeout plus a margin, so a worker killed mid-call frees its
  slot. In memory it is an ``asyncio.Semaphore``.

The slot is taken before the rate is counted, so a call is sent right after it counted and
the provider sees the rate the window allowed. If Redis cannot be reached the call goes ahead
and a warning is logged: the limit protects a quota, and a Redis outage must not stop every
evaluation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from assay.core.llm import ChatRequest, ChatResponse
from assay.providers.base import ModelProvider
from assay.settings import ProviderLimit, Settings

log = logging.getLogger(__name__)

_NAMESPACE = "assay-provider"
#: How long a call waiting for a concurrency slot sleeps before it looks again, in seconds.
_SLOT_POLL = 0.02
#: Seconds beyond a call's own timeout after which the slot of a call that never ended (its
#: worker died) is free again.
_SLOT_MARGIN = 30.0
#: Drop expired members, then add ours if fewer than the limit hold a slot; 1 when added.
_TAKE_SLOT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0
"""


def _normal(key: str) -> str:
    return key.rstrip("/")


class ProviderLimiter:
    """The rules of ``provider_limits`` and where their counts live."""

    def __init__(self, rules: Mapping[str, ProviderLimit], storage_uri: str) -> None:
        self._rules = {_normal(key): rule for key, rule in rules.items()}
        self._items: dict[str, RateLimitItem] = {
            key: parse(rule.rate) for key, rule in self._rules.items() if rule.rate is not None
        }
        options: dict[str, Any] = {"wrap_exceptions": True}
        #: Our own Redis connections (shared with ``limits``), closed with the limiter.
        self._redis: Any = None
        self._take_slot: Any = None
        if storage_uri.startswith(("redis://", "rediss://")):
            from redis.asyncio import ConnectionPool, Redis

            pool = ConnectionPool.from_url(storage_uri)
            self._redis = Redis(connection_pool=pool)
            self._take_slot = self._redis.register_script(_TAKE_SLOT)
            options |= {"implementation": "redispy", "connection_pool": pool}
        self._limiter = MovingWindowRateLimiter(
            storage_from_string(f"async+{storage_uri}", **options)
        )
        self._semaphores: dict[str, asyncio.Semaphore] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> ProviderLimiter:
        return cls(settings.provider_limits, settings.provider_limits_storage)

    def wrap(self, provider: ModelProvider, name: str, base_url: str | None) -> ModelProvider:
        """``provider`` under the rule for its base URL, else for its name; as is without one."""
        url = _normal(base_url) if base_url else None
        rule_key = url if url is not None and url in self._rules else name
        rule = self._rules.get(rule_key)
        if rule is None or (rule.rate is None and rule.concurrency is None):
            return provider
        return LimitedProvider(provider, self, f"{rule_key}|{provider.connection_key()}", rule_key)

    @contextlib.asynccontextmanager
    async def call(self, key: str, rule_key: str, hold: float) -> AsyncIterator[None]:
        """Hold a slot and count one call of ``key`` under ``rule_key``'s limits."""
        rule = self._rules[rule_key]
        async with self._slot(key, rule.concurrency, hold):
            item = self._items.get(rule_key)
            if item is not None:
                await self._within_rate(key, item)
            yield

    async def _within_rate(self, key: str, item: RateLimitItem) -> None:
        while True:
            try:
                if await self._limiter.hit(item, _NAMESPACE, key):
                    return
                stats = await self._limiter.get_window_stats(item, _NAMESPACE, key)
            except StorageError as exc:
                _storage_failed(exc.storage_error)
                return
            # Jitter, so that the calls waiting on one window do not all ask at once.
            await asyncio.sleep(max(0.005, stats.reset_time - time.time()) + random.random() / 100)

    @contextlib.asynccontextmanager
    async def _slot(self, key: str, concurrency: int | None, hold: float) -> AsyncIterator[None]:
        if concurrency is None:
            yield
        elif self._redis is None:
            semaphore = self._semaphores.setdefault(key, asyncio.Semaphore(concurrency))
            async with semaphore:
                yield
        else:
            slots = f"{_NAMESPACE}/slots/{key}"
            member = await self._take_redis_slot(slots, concurrency, hold)
            try:
                yield
            finally:
                if member is not None:
                    with contextlib.suppress(Exception):
                        await self._redis.zrem(slots, member)

    async def _take_redis_slot(self, slots: str, concurrency: int, hold: float) -> str | None:
        """Our member of the slot set once there was room; None if Redis failed."""
        member = uuid.uuid4().hex
        while True:
            now = time.time()
            try:
                args = [now, concurrency, now + hold, member, int(hold * 1000)]
                if await self._take_slot(keys=[slots], args=args):
                    return member
            except Exception as exc:  # the Redis client's errors, whatever their class
                _storage_failed(exc)
                return None
            await asyncio.sleep(_SLOT_POLL * (1 + random.random()))

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose(close_connection_pool=True)


def _storage_failed(error: Exception) -> None:
    log.warning(
        "provider limit storage failed (%s); call let through without its limit",
        type(error).__name__,
    )


class LimitedProvider(ModelProvider):
    """A pooled provider whose calls wait for the operator's limits before they are sent."""

    def __init__(
        self, inner: ModelProvider, limiter: ProviderLimiter, key: str, rule_key: str
    ) -> None:
        super().__init__(inner.model, inner.config)
        self._inner = inner
        self._limiter = limiter
        self._key = key
        self._rule_key = rule_key

    async def generate(self, request: ChatRequest) -> ChatResponse:
        hold = self.config.timeout + _SLOT_MARGIN
        async with self._limiter.call(self._key, self._rule_key, hold):
            return await self._inner.generate(request)

    def max_connections(self) -> int:
        return self._inner.max_connections()

    def connection_key(self) -> str:
        return self._inner.connection_key()

    async def aclose(self) -> None:
        await self._inner.aclose()
