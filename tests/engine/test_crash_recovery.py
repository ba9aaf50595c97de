"""Killing the server mid-evaluation loses nothing: a restart finishes every item exactly once."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from assay.store.db import create_engine
from assay.store.tables import Item
from tests.api.eval_runs_helpers import register_chat_agent, script_agent_and_judge
from tests.factories import assay_env, assay_process, free_port, make_key, make_settings, wait_until
from tests.fakes.openai_server import FakeLLM, FakeReply

pytestmark = pytest.mark.timeout(120)


def serve_args(port: int) -> list[str]:
    return ["serve", "--host", "127.0.0.1", "--port", str(port)]


async def _wait_healthy(url: str) -> None:
    async def up() -> bool:
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"{url}/healthz")).status_code == 200
        except httpx.TransportError:
            return False

    await wait_until(up, timeout=30)


async def test_killed_server_resumes_and_counts_every_item_once(tmp_path: Path, fake_llm: FakeLLM):
    script_agent_and_judge(fake_llm)
    scripted = fake_llm.handler
    assert scripted is not None

    def slowly(body: dict[str, Any]) -> FakeReply:
        reply = scripted(body)
        reply.latency = 0.15
        return reply

    fake_llm.handler = slowly
    settings = make_settings(tmp_path, fake_llm=fake_llm)
    env = assay_env(settings, ASSAY_LEASE_SECONDS="1", ASSAY_WORKERS="4")
    key = await make_key(settings)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    iterations = 30
    log = tmp_path / "server.log"

    with assay_process(serve_args(port), env, log) as first:
        await _wait_healthy(url)
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
            await register_chat_agent(client, fake_llm)
            post = asyncio.create_task(
                client.post(
                    "/eval-runs",
                    json={
                        "eval_type": "accuracy",
                        "input": "12*7?",
                        "expected_output": "84",
                        "agent_id": "calc-agent",
                        "num_iterations": iterations,
                    },
                )
            )

            async def created() -> bool:
                return bool((await client.get("/eval-runs")).json()["data"])

            await wait_until(created, timeout=30)
            run_id = (await client.get("/eval-runs")).json()["data"][0]["id"]

            async def some_finished() -> bool:
                progress = (await client.get(f"/eval-runs/{run_id}")).json()["eval_data"]
                return int(progress.get("items_finished", 0)) >= 8

            await wait_until(some_finished, timeout=30)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            with pytest.raises(httpx.TransportError):
                await post

    db = create_engine(settings.database_url)
    async with db.connect() as conn:
        states = [row.state for row in (await conn.execute(select(Item.state))).all()]
    working = {"claiming", "provisioning", "agent_running", "agent_finished", "verifying"}
    assert working & set(states), "the kill should leave items mid-flight"

    with assay_process(serve_args(port), env, log):
        await _wait_healthy(url)
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:

            async def finished() -> bool:
                return "results" in (await client.get(f"/eval-runs/{run_id}")).json()["eval_data"]

            await wait_until(finished, timeout=60)
            data = (await client.get(f"/eval-runs/{run_id}")).json()["eval_data"]

    assert data["counts"]["total"] == iterations and data["counts"]["scored"] == iterations
    assert len(data["results"]) == iterations
    async with db.connect() as conn:
        rows = (await conn.execute(select(Item.state, Item.attempts, Item.lease_owner))).all()
    await db.dispose()
    assert len(rows) == iterations
    assert all(row.state == "passed" and row.lease_owner is None for row in rows)
    assert any(row.attempts == 2 for row in rows), "items in flight at the kill ran again"
