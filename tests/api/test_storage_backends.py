"""The service end to end on each database: SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from tests.api.eval_runs_helpers import register_chat_agent, script_agent_and_judge
from tests.factories import make_settings, serve_assay
from tests.fakes.openai_server import FakeLLM


async def test_an_eval_run_completes_and_lists_on_each_database(
    tmp_path: Path, fake_llm: FakeLLM, any_database_url: str
):
    script_agent_and_judge(fake_llm)
    settings = make_settings(tmp_path, database_url=any_database_url, fake_llm=fake_llm)
    with serve_assay(settings) as assay:
        async with assay.client(await assay.key()) as client:
            await register_chat_agent(client, fake_llm)
            run = await client.post(
                "/eval-runs",
                json={
                    "eval_type": "accuracy",
                    "input": "q",
                    "expected_output": "84",
                    "agent_id": "calc-agent",
                    "num_iterations": 5,
                },
            )
            listed = (await client.get("/eval-runs")).json()
    assert run.status_code == 200, run.text
    assert run.json()["eval_data"]["counts"]["scored"] == 5
    assert listed["meta"]["total_count"] == 1 and listed["data"][0]["id"] == run.json()["id"]
