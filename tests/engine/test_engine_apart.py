"""`assay serve` runs its engine apart from the API: in a child process (the default) or a
thread. The API answers while an item blocks the engine; a dead engine process is started
again; the engine process dies with the server."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.engine.lifecycle import create_lifecycle, evaluation_row, item_rows, lifecycle_plugin
from tests.engine.processes import alive, engine_children
from tests.engine.test_kills import Server
from tests.factories import make_key, make_settings, wait_until

pytestmark = pytest.mark.timeout(120)
__all__ = ["lifecycle_plugin"]  # the fixture, used by name


@pytest.mark.parametrize("engine", ["process", "thread"])
async def test_the_api_answers_while_an_item_blocks_the_engine(
    tmp_path: Path, lifecycle_plugin: Path, engine: str
):
    settings = make_settings(tmp_path)
    server = Server(tmp_path, settings, lifecycle_plugin)
    server.env["ASSAY_ENGINE"] = engine
    key = await make_key(settings)
    blocking = tmp_path / "blocking"
    blocking.touch()
    evaluation_id = await create_lifecycle(settings, items=1, blocking_file=str(blocking))

    with server.process() as process:
        await server.healthy()
        assert bool(engine_children(process.pid)) == (engine == "process")

        async def blocked() -> bool:
            return blocking.with_suffix(".started").exists()

        await wait_until(blocked, timeout=60)
        try:
            headers = {"Authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(base_url=server.url, headers=headers) as client:
                # The engine's loop is stuck in time.sleep until the file goes; on one shared
                # loop neither request could be answered before then.
                assert (await client.get("/healthz", timeout=20)).status_code == 200
                items = await client.get(f"/v1/evaluations/{evaluation_id}/items", timeout=20)
                assert items.status_code == 200, items.text
                assert blocking.exists(), "the answers came while the engine was still blocked"
        finally:
            blocking.unlink()

        async def completed() -> bool:
            return (await evaluation_row(settings, evaluation_id)).status == "completed"

        await wait_until(completed, timeout=60)


async def test_a_killed_engine_process_is_started_again_and_its_item_runs_to_the_end(
    tmp_path: Path, lifecycle_plugin: Path
):
    settings = make_settings(tmp_path)
    server = Server(tmp_path, settings, lifecycle_plugin)
    blocking = tmp_path / "blocking"
    blocking.touch()
    evaluation_id = await create_lifecycle(settings, items=1, blocking_file=str(blocking))

    with server.process() as process:
        await server.healthy()
        [first] = engine_children(process.pid)

        async def blocked() -> bool:
            return blocking.with_suffix(".started").exists()

        await wait_until(blocked, timeout=60)
        os.kill(first, signal.SIGKILL)
        blocking.unlink()  # only the first attempt blocks

        async def replaced() -> bool:
            return [pid for pid in engine_children(process.pid) if alive(pid)] not in ([], [first])

        await wait_until(replaced, timeout=30)

        async def completed() -> bool:
            return (await evaluation_row(settings, evaluation_id)).status == "completed"

        await wait_until(completed, timeout=60)
        [item] = await item_rows(settings, evaluation_id)
        assert (item.state, item.attempts) == ("passed", 2), "run again once its lease expired"
    assert "the engine process exited (code -9); starting it again" in server.log.read_text()


async def test_the_engine_process_dies_with_a_killed_server(tmp_path: Path, lifecycle_plugin: Path):
    settings = make_settings(tmp_path)
    server = Server(tmp_path, settings, lifecycle_plugin)
    with server.process() as process:
        await server.healthy()
        [engine] = engine_children(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

        async def gone() -> bool:
            return not alive(engine)

        await wait_until(gone, timeout=10)
