"""A workspace cannot take over another workspace's agent id to run its own code there.

Before agents had a workspace, a key of ws2 could delete ws1's agent and register its own
python agent under the same id, so ws1's next evaluation ran ws2's code with ws1's data.
"""

from __future__ import annotations

from pathlib import Path

from assay.core.principal import Role
from tests.api.eval_runs_helpers import agent_requests, script_agent_and_judge
from tests.factories import make_settings, serve_assay
from tests.fakes.openai_server import FakeLLM

ANSWER = "ws1's own agent says 2 + 2 is 4."
PYTHON_AGENT = {
    "id": "support-bot",
    "kind": "python",
    "config": {"callable": "assay.examples.calculator:agent"},
}
RUN = {
    "eval_type": "accuracy",
    "input": "What is 2 + 2?",
    "expected_output": "4",
    "agent_id": "support-bot",
}


async def test_another_workspace_cannot_replace_an_agent_id(
    tmp_path: Path, fake_llm: FakeLLM, any_database_url: str
):
    script_agent_and_judge(fake_llm, answer=ANSWER)
    settings = make_settings(tmp_path, database_url=any_database_url, fake_llm=fake_llm)
    with serve_assay(settings) as assay:
        ws1_key = await assay.key("acme", Role.MEMBER, workspace="ws1")
        ws2_key = await assay.key("acme", Role.ADMIN, workspace="ws2")
        async with assay.client(ws1_key) as ws1, assay.client(ws2_key) as ws2:
            created = await ws1.post(
                "/v1/agents",
                json={
                    "id": "support-bot",
                    "kind": "openai-chat",
                    "config": {"base_url": fake_llm.url, "model": "agent-model"},
                    "secrets": {"api_key": "sk-ws1-agent"},
                },
            )
            assert created.status_code == 201, created.text

            deleted = await ws2.delete("/v1/agents/support-bot")
            replaced = await ws2.post("/v1/agents", json=PYTHON_AGENT)
            seen = await ws2.get("/v1/agents/support-bot")
            run = await ws1.post("/eval-runs", json=RUN)
            after = (await ws1.get("/v1/agents/support-bot")).json()

    assert deleted.status_code == 404, deleted.text
    assert replaced.status_code == 409, replaced.text
    assert seen.status_code == 404, seen.text
    assert run.status_code == 200, run.text
    assert ANSWER in run.text and len(agent_requests(fake_llm)) == 1
    assert after["kind"] == "openai-chat" and after["workspace"] == "ws1"


async def test_a_freed_id_never_resolves_to_another_workspaces_agent(
    tmp_path: Path, fake_llm: FakeLLM, any_database_url: str
):
    script_agent_and_judge(fake_llm, answer=ANSWER)
    settings = make_settings(tmp_path, database_url=any_database_url, fake_llm=fake_llm)
    with serve_assay(settings) as assay:
        ws1_key = await assay.key("acme", Role.MEMBER, workspace="ws1")
        ws2_key = await assay.key("acme", Role.MEMBER, workspace="ws2")
        async with assay.client(ws1_key) as ws1, assay.client(ws2_key) as ws2:
            agent = {
                "id": "support-bot",
                "kind": "openai-chat",
                "config": {"base_url": fake_llm.url, "model": "agent-model"},
            }
            assert (await ws1.post("/v1/agents", json=agent)).status_code == 201
            assert (await ws1.delete("/v1/agents/support-bot")).status_code == 204
            taken = await ws2.post("/v1/agents", json=PYTHON_AGENT)
            ws1_run = await ws1.post("/eval-runs", json=RUN)
            ws2_run = await ws2.post("/eval-runs", json=RUN)

    assert taken.status_code == 201 and taken.json()["workspace"] == "ws2", taken.text
    assert ws1_run.status_code == 404, ws1_run.text
    assert ws2_run.status_code == 200, ws2_run.text
    assert agent_requests(fake_llm) == []
