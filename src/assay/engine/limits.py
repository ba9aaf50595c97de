"""Named concurrency limits keyed by the scarce resource.

``async with limits.acquire("provider", key=provider.connection_key(), n=...)`` shares one
semaphore among every call to the same account at the same endpoint, whichever evaluation
makes it. The first caller of a name/key fixes its size.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Limits:
    def __init__(self) -> None:
        self._semaphores: dict[tuple[str, str], asyncio.Semaphore] = {}

    @asynccontextmanager
    async def acquire(self, name: str, key: str, n: int) -> AsyncIterator[None]:
        semaphore = self._semaphores.get((name, key))
        if semaphore is None:
            semaphore = self._semaphores[(name, key)] = asyncio.Semaphore(n)
        async with semaphore:
            yield

    def forget(self, name: str, key: str) -> None:
        """Drop a limit nobody will use again (an evaluation that finished)."""
        self._semaphores.pop((name, key), None)
