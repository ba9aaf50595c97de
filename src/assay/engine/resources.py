"""Resources of one item run, released by the engine however the run ends.

A kind enters a sandbox (or any async context manager) through ``ctx.resources``; the item
function closes the scope after the run, shielded from cancellation, on every ending: an
outcome, an exception, a cancellation, the item's deadline, a suspension. Each failing release
is logged and counted, and never replaces the item's outcome.
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

log = logging.getLogger(__name__)
R = TypeVar("R")


class ItemResources:
    """The ``Resources`` an item run gets; ``close`` releases them in reverse order."""

    def __init__(self, item_id: str) -> None:
        self._item_id = item_id
        self._entered: list[AbstractAsyncContextManager[Any]] = []

    async def enter(self, resource: AbstractAsyncContextManager[R]) -> R:
        value = await resource.__aenter__()
        self._entered.append(resource)
        return value

    @property
    def held(self) -> bool:
        """Whether anything was entered and not yet released."""
        return bool(self._entered)

    async def close(self) -> int:
        """Release everything entered, last first; returns how many releases failed."""
        failures = 0
        while self._entered:
            resource = self._entered.pop()
            try:
                await resource.__aexit__(None, None, None)
            except Exception:  # noqa: BLE001 - a failed release must not replace the outcome
                failures += 1
                # Imported here: prometheus_client costs a one-item `assay run` ~10 ms.
                from assay.metrics import CLEANUP_FAILURES

                CLEANUP_FAILURES.inc()
                log.exception("releasing a resource of item %s failed", self._item_id)
        return failures
