"""Retries of infrastructure failures, with exponential backoff and jitter.

Only ``ProviderError`` subclasses marked ``retryable`` (rate limits, 5xx, connection errors,
timeouts) are retried; a rate limit waits at least the server's ``Retry-After``. The agent's
own failures (``TargetError``) and rejected requests are never retried.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from assay.core.errors import ProviderError, ProviderRateLimited

T = TypeVar("T")

#: No single backoff sleeps longer than this, whatever Retry-After says.
MAX_DELAY = 60.0


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    base_delay: float = 0.5

    def delay(self, attempt: int, error: ProviderError) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        backoff = self.base_delay * (2.0 ** (attempt - 1)) * (0.5 + random.random())  # noqa: S311
        if isinstance(error, ProviderRateLimited) and error.retry_after is not None:
            backoff = max(backoff, error.retry_after)
        return min(backoff, MAX_DELAY)


async def call_with_retries(call: Callable[[], Awaitable[T]], policy: RetryPolicy) -> T:
    """Run ``call``; retry retryable ProviderErrors up to ``policy.max_retries`` times."""
    attempt = 0
    while True:
        try:
            return await call()
        except ProviderError as error:
            attempt += 1
            if not error.retryable or attempt > policy.max_retries:
                raise
            await asyncio.sleep(policy.delay(attempt, error))
