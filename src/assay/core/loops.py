"""Event loops for Assay's own work: uvloop where it is installed, asyncio's otherwise.

uvloop is a dependency on every platform but Windows, and uvicorn already serves the API on
it. Much of the engine's work per item is the event loop's (a task, callbacks, hand-offs to
the database's thread): on uvloop, ``assay run`` of 3,000 items on the ``mock`` provider
spent about 6% less CPU net of its start-up (medians of 16, interleaved against asyncio's
loop). With a model over HTTP the gain was within the noise of the machine measured.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def new_loop() -> asyncio.AbstractEventLoop:
    """A new loop, not set as any thread's current one."""
    try:
        import uvloop
    except ImportError:  # Windows, where uvloop does not exist
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on a loop from :func:`new_loop`."""
    with asyncio.Runner(loop_factory=new_loop) as runner:
        return runner.run(main)
