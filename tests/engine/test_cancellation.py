"""Cancelling stops queued items at once and running ones promptly, and keeps what finished."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from assay.services.container import open_container
from assay.services.evaluations import cancel_evaluation
from assay.services.keys import authenticate
from tests.api.eval_runs_helpers import agent_requests, register_chat_agent, script_agent_and_judge
from tests.factories import make_settings, serve_assay, wait_until
from tests.fakes.openai_server import FakeLLM, FakeReply


async def test_cancel_stops_queued_and_running_items(tmp_path: Path, fake_llm: FakeLLM):
    script_agent_and_judge(fake_llm)
    judge_and_agent = fake_llm.handler
    assert judge_and_agent is not None

    def slow(body: dict) -> FakeReply:
        reply = judge_and_agent(body)
        reply.latency = 2.0
        return reply

    fake_llm.handler = slow
    settings = make_settings(tmp_path, fake_llm=fake_llm, workers=2)
    with serve_assay(settings) as assay:
        key = await assay.key()
        async with assay.client(key) as client:
            await register_chat_agent(client, fake_llm)
            post = asyncio.create_task(
                client.post(
                    "/eval-runs",
                    json={
                        "eval_type": "accuracy",
                        "input": "q",
                        "expected_output": "84",
                        "agent_id": "calc-agent",
                        "num_iterations": 10,
                    },
                )
            )

            async def two_running() -> bool:
                return len(agent_requests(fake_llm)) >= 2

            await wait_until(two_running)
            run_id = (await client.get("/eval-runs")).json()["data"][0]["id"]
            container = await open_container(settings)
            try:
                principal = await authenticate(container, f"Bearer {key}")
                cancelled_at = time.monotonic()
                await cancel_evaluation(container, principal, run_id)
            finally:
                await container.aclose()
            response = await post
            stopped_after = time.monotonic() - cancelled_at

    assert response.status_code == 200
    counts = response.json()["eval_data"]["counts"]
    assert counts["cancelled"] == 10 and counts["scored"] == 0
    assert stopped_after < 1.5, (
        "running items stop within a poll interval, not when their calls end"
    )
    assert len(agent_requests(fake_llm)) == 2, "queued items never started"
