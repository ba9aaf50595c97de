"""`serve --no-workers` plus `assay worker` processes: the API queues, the workers run."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.api.eval_runs_helpers import register_chat_agent, script_agent_and_judge
from tests.factories import assay_env, assay_process, make_settings, serve_assay
from tests.fakes.openai_server import FakeLLM

pytestmark = pytest.mark.timeout(90)


async def test_a_worker_process_runs_what_an_api_only_server_queued(
    tmp_path: Path, fake_llm: FakeLLM, any_database_url: str
):
    script_agent_and_judge(fake_llm)
    settings = make_settings(tmp_path, database_url=any_database_url, fake_llm=fake_llm)
    with serve_assay(settings, run_workers=False) as api:
        async with api.client(await api.key()) as client:
            health = (await client.get("/healthz")).json()
            await register_chat_agent(client, fake_llm)
            with assay_process(["worker"], assay_env(settings), tmp_path / "worker.log") as worker:
                response = await client.post(
                    "/eval-runs",
                    json={
                        "eval_type": "accuracy",
                        "input": "q",
                        "expected_output": "84",
                        "agent_id": "calc-agent",
                        "num_iterations": 4,
                    },
                )
                worker.send_signal(signal.SIGTERM)
                assert worker.wait(timeout=30) == 0
    assert health["workers"] is False
    assert response.status_code == 200, response.text
    assert response.json()["eval_data"]["counts"]["scored"] == 4
