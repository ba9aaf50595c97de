"""Assay's own event loops are uvloop's where it is installed (everywhere but Windows)."""

from __future__ import annotations

import asyncio

import uvloop

from assay.core import loops


async def _running_loop() -> asyncio.AbstractEventLoop:
    await asyncio.sleep(0)
    return asyncio.get_running_loop()


def test_a_coroutine_runs_to_completion_on_uvloop():
    assert isinstance(loops.run(_running_loop()), uvloop.Loop)


def test_a_new_loop_is_uvloops_and_runs_coroutines():
    loop = loops.new_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
        assert loop.run_until_complete(_running_loop()) is loop
    finally:
        loop.close()
