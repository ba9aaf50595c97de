"""Ctrl-C or SIGTERM of `assay run` cancels its evaluation, and no later process re-runs it."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from assay.store.db import create_engine
from assay.store.tables import Evaluation, Item
from tests.factories import assay_env, assay_process, free_port, make_settings, wait_until
from tests.fakes.openai_server import FakeLLM

pytestmark = pytest.mark.timeout(120)

CASES = 40
RUN_FILE = """
name: slow model
target:
  model: openai/slow
checks:
  - kind: match
    params:
      mode: includes
      cases:
"""


async def _rows(database_url: str) -> tuple[list[str], list[tuple[str, int]]]:
    db = create_engine(database_url)
    try:
        async with db.connect() as conn:
            statuses = [r[0] for r in (await conn.execute(select(Evaluation.status))).all()]
            items = (await conn.execute(select(Item.state, Item.attempts).order_by(Item.seq))).all()
    finally:
        await db.dispose()
    return statuses, [(state, attempts) for state, attempts in items]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
async def test_an_interrupted_run_is_cancelled_and_never_resumed(
    tmp_path: Path, fake_llm: FakeLLM, stop: signal.Signals
):
    fake_llm.latency = 0.3
    cases = "".join(f'        - {{input: "q{n}", expected_output: "q{n}"}}\n' for n in range(CASES))
    (tmp_path / "checks.yaml").write_text(RUN_FILE + cases)
    settings = make_settings(tmp_path, fake_llm=fake_llm)
    env = assay_env(settings, ASSAY_WORKERS="2", COLUMNS="160")
    run = subprocess.Popen(
        [sys.executable, "-m", "assay", "run", "checks.yaml"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    async def some_answered() -> bool:
        return len(fake_llm.requests) >= 4

    await wait_until(some_answered, timeout=60)
    run.send_signal(stop)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, stderr
    assert "interrupted" in stderr and f"of {CASES} items finished" in stderr

    statuses, items = await _rows(settings.database_url)
    assert statuses == ["cancelled"]
    states = {state for state, _ in items}
    assert states <= {"passed", "cancelled"} and "cancelled" in states and "passed" in states
    sent = len(fake_llm.requests)

    port = free_port()
    with assay_process(
        ["serve", "--host", "127.0.0.1", "--port", str(port)], env, tmp_path / "s.log"
    ):

        async def healthy() -> bool:
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"http://127.0.0.1:{port}/healthz")).is_success
            except httpx.TransportError:
                return False

        await wait_until(healthy, timeout=30)
        await asyncio.sleep(1.5)  # many claim polls (every 50 ms) and the start-up sweep
    assert await _rows(settings.database_url) == (statuses, items), "nothing changed"
    assert len(fake_llm.requests) == sent, "no item was sent again"
