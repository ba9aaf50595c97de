"""The interface every execution backend implements: it schedules, the item function runs.

A backend decides when and where ``ItemRunner`` calls happen (an asyncio loop in this
process, a Celery worker elsewhere); it never decides what an item's outcome is, how it is
written, or when an evaluation ends. Those live once in ``engine/item.py``.
"""

from __future__ import annotations

from typing import Protocol


class ExecutionBackend(Protocol):
    async def start(self) -> None:
        """Begin running queued items (and housekeeping) until ``stop``."""
        ...

    def notify(self) -> None:
        """New work was queued (or an item was resumed): look for it now, not at the next poll."""
        ...

    async def stop(self, grace: float = 5.0) -> None:
        """Stop taking work, let running items finish for ``grace`` seconds, requeue the rest.

        Items of evaluations that were cancelled meanwhile end ``cancelled``, not requeued.
        """
        ...
