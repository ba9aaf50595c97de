"""Real processes killed with SIGKILL at each moment of an item's life lose nothing.

Every item ends counted once, every evaluation ends terminal (or waits, resumable), and a
waiting item survives the kill and continues from its saved state when its event comes.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import null, update

from assay.settings import Settings
from assay.store.db import create_engine
from assay.store.tables import Evaluation
from tests.engine.lifecycle import create_lifecycle, evaluation_row, item_rows, lifecycle_plugin
from tests.factories import assay_env, assay_process, free_port, make_key, make_settings, wait_until

pytestmark = pytest.mark.timeout(120)
__all__ = ["lifecycle_plugin"]  # the fixture, used by name


class Server:
    """`assay serve` as a real process with the lifecycle plugin, restartable on one port."""

    def __init__(self, tmp_path: Path, settings: Settings, plugin: Path) -> None:
        self.env = assay_env(
            settings, PYTHONPATH=str(plugin), ASSAY_LEASE_SECONDS="1", ASSAY_WORKERS="4"
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "server.log"
        self._running: Any = None

    @contextmanager
    def process(self) -> Iterator[Any]:
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with assay_process(args, self.env, self.log) as process:
            self._running = process
            yield process

    async def healthy(self) -> None:
        """Wait for /healthz; a server that exits or hangs fails the test with its log."""

        async def up() -> bool:
            if self._running is not None and self._running.poll() is not None:
                raise AssertionError(f"assay serve exited:\n{self._log_tail()}")
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"{self.url}/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        try:
            await wait_until(up, timeout=60)
        except TimeoutError:
            raise AssertionError(f"assay serve not healthy in 60 s:\n{self._log_tail()}") from None

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else "(no log)"


def _kill(process: Any) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


async def _states(settings: Settings, evaluation_id: str) -> list[str]:
    return [row.state for row in await item_rows(settings, evaluation_id)]


async def test_a_waiting_item_survives_a_kill_and_continues_from_its_saved_state(
    tmp_path: Path, lifecycle_plugin: Path, any_database_url: str
):
    settings = make_settings(tmp_path, database_url=any_database_url)
    server = Server(tmp_path, settings, lifecycle_plugin)
    key = await make_key(settings)
    evaluation_id = await create_lifecycle(settings, suspend=True, items=2)

    with server.process() as first:
        await server.healthy()

        async def both_waiting() -> bool:
            row = await evaluation_row(settings, evaluation_id)
            return row.status == "waiting_verification"

        await wait_until(both_waiting, timeout=30)
        _kill(first)
    rows = await item_rows(settings, evaluation_id)
    assert [r.state for r in rows] == ["waiting", "waiting"]
    assert all(r.lease_owner is None and r.saved_state == {"half": 1} for r in rows)

    with server.process():
        await server.healthy()
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers) as client:
            for row in rows:
                sent = await client.post(
                    f"/v1/evaluations/{evaluation_id}/items/{row.id}/events",
                    json={"type": "continue", "data": {"seq": row.seq}},
                )
                assert sent.status_code == 202, sent.text

            async def completed() -> bool:
                return (await evaluation_row(settings, evaluation_id)).status == "completed"

            await wait_until(completed, timeout=30)

    for row in await item_rows(settings, evaluation_id):
        assert row.state == "passed" and row.attempts == 2
        trace = row.outcome["trace"]
        assert trace["saved_state"] == {"half": 1}
        kinds = [e["kind"] for e in trace["events"]]
        assert kinds == ["step", "resume"], "the first run's step, then the event that resumed it"
        assert trace["events"][1]["payload"]["data"] == {"seq": row.seq}
        assert trace["events"][1]["payload"]["by"], "who sent the event comes from the key"


MOMENTS = ["claiming", "provisioning", "agent_running", "agent_finished", "verifying"]


@pytest.mark.parametrize("moment", MOMENTS)
async def test_a_kill_in_any_phase_ends_with_every_item_counted_once(
    tmp_path: Path, lifecycle_plugin: Path, moment: str
):
    settings = make_settings(tmp_path)
    server = Server(tmp_path, settings, lifecycle_plugin)
    items = 3
    evaluation_id = await create_lifecycle(settings, items=items, sleep_in=[moment], sleep_s=60)

    with server.process() as first:
        await server.healthy()

        async def in_moment() -> bool:
            return moment in await _states(settings, evaluation_id)

        await wait_until(in_moment, timeout=30)
        _kill(first)

    with server.process():
        await server.healthy()

        async def finalized() -> bool:
            row = await evaluation_row(settings, evaluation_id)
            return row.status == "completed" and row.summary is not None

        await wait_until(finalized, timeout=60)

    rows = await item_rows(settings, evaluation_id)
    assert len(rows) == items and [r.state for r in rows] == ["passed"] * items
    assert any(r.attempts == 2 for r in rows), "the items in flight at the kill ran again"
    summary = (await evaluation_row(settings, evaluation_id)).summary
    assert summary["counts"] == {"passed": items, "total": items}


async def test_a_kill_while_the_summary_is_written_loses_nothing(
    tmp_path: Path, lifecycle_plugin: Path
):
    settings = make_settings(tmp_path)
    server = Server(tmp_path, settings, lifecycle_plugin)
    slow = tmp_path / "slow-summary"
    slow.touch()
    evaluation_id = await create_lifecycle(
        settings, items=2, slow_summary_file=str(slow), summarise_sleep_s=60
    )

    with server.process() as first:
        await server.healthy()

        async def summarising() -> bool:
            return slow.with_suffix(".started").exists()

        await wait_until(summarising, timeout=30)
        _kill(first)
    row = await evaluation_row(settings, evaluation_id)
    assert row.status == "running" and row.summary is None
    assert "passed" not in await _states(settings, evaluation_id), (
        "outcomes and the summary are written in one transaction"
    )

    slow.unlink()
    with server.process():
        await server.healthy()

        async def finalized() -> bool:
            return (await evaluation_row(settings, evaluation_id)).status == "completed"

        await wait_until(finalized, timeout=30)
    row = await evaluation_row(settings, evaluation_id)
    assert row.summary["counts"] == {"passed": 2, "total": 2}
    assert len(await item_rows(settings, evaluation_id)) == 2


async def test_an_evaluation_left_without_its_summary_is_finalized_by_the_next_process(
    tmp_path: Path, lifecycle_plugin: Path
):
    """What two workers ending an evaluation's last items at once can leave (see finalize.py)."""
    settings = make_settings(tmp_path)
    server = Server(tmp_path, settings, lifecycle_plugin)
    evaluation_id = await create_lifecycle(settings, items=2)
    with server.process():
        await server.healthy()

        async def completed() -> bool:
            return (await evaluation_row(settings, evaluation_id)).status == "completed"

        await wait_until(completed, timeout=30)
    db = create_engine(settings.database_url)
    async with db.begin() as conn:
        await conn.execute(
            update(Evaluation)
            .where(Evaluation.id == evaluation_id)
            .values(status="running", summary=null(), completed_at=None)
        )
    await db.dispose()

    with server.process():
        await server.healthy()
        await wait_until(completed, timeout=30)
    row = await evaluation_row(settings, evaluation_id)
    assert row.summary["counts"] == {"passed": 2, "total": 2}
    assert [r.attempts for r in await item_rows(settings, evaluation_id)] == [1, 1]
