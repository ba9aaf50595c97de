"""`assay serve` runs its engine on its own loop: the API answers while an item blocks it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.engine.lifecycle import create_lifecycle, evaluation_row, lifecycle_plugin
from tests.engine.test_kills import Server
from tests.factories import make_key, make_settings, wait_until

pytestmark = pytest.mark.timeout(120)
__all__ = ["lifecycle_plugin"]  # the fixture, used by name


async def test_the_api_answers_while_an_item_blocks_the_engines_loop(
    tmp_path: Path, lifecycle_plugin: Path
):
    settings = make_settings(tmp_path)
    server = Server(tmp_path, settings, lifecycle_plugin)
    key = await make_key(settings)
    blocking = tmp_path / "blocking"
    blocking.touch()
    evaluation_id = await create_lifecycle(settings, items=1, blocking_file=str(blocking))

    with server.process():
        await server.healthy()

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
