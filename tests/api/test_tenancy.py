"""One organization never sees, changes or deletes another's agents and eval runs."""

from __future__ import annotations

from tests.api.eval_runs_helpers import register_chat_agent, script_agent_and_judge
from tests.factories import RunningAssay
from tests.fakes.openai_server import FakeLLM


async def test_another_organizations_objects_are_invisible(assay: RunningAssay, fake_llm: FakeLLM):
    script_agent_and_judge(fake_llm)
    key_a = await assay.key("org-a")
    key_b = await assay.key("org-b")
    async with assay.client(key_a) as a, assay.client(key_b) as b:
        await register_chat_agent(a, fake_llm, agent_id="shared-name")
        run = (
            await a.post(
                "/eval-runs",
                json={
                    "eval_type": "accuracy",
                    "input": "q",
                    "expected_output": "84",
                    "agent_id": "shared-name",
                },
            )
        ).json()

        assert (await b.get(f"/eval-runs/{run['id']}")).status_code == 404
        assert (await b.get("/eval-runs")).json()["meta"]["total_count"] == 0
        assert (await b.patch(f"/eval-runs/{run['id']}", json={"name": "mine"})).status_code == 404
        assert (
            await b.request("DELETE", "/eval-runs", json={"eval_run_ids": [run["id"]]})
        ).status_code == 204
        assert (await b.get("/v1/agents/shared-name")).status_code == 404
        assert (await b.delete("/v1/agents/shared-name")).status_code == 404
        assert (await b.get("/v1/agents")).json()["total"] == 0
        # B may use the same agent id for its own agent, and cannot run A's.
        missing = await b.post(
            "/eval-runs",
            json={
                "eval_type": "accuracy",
                "input": "q",
                "expected_output": "84",
                "agent_id": "shared-name",
            },
        )
        assert missing.status_code == 404
        await register_chat_agent(b, fake_llm, agent_id="shared-name")

        still_there = await a.get(f"/eval-runs/{run['id']}")
        assert still_there.status_code == 200 and still_there.json()["name"] is None


async def test_agent_secrets_are_never_returned(assay: RunningAssay, fake_llm: FakeLLM):
    async with assay.client(await assay.key()) as client:
        created = await register_chat_agent(client, fake_llm)
        fetched = (await client.get("/v1/agents/calc-agent")).text
        listed = (await client.get("/v1/agents")).text
    assert created["secret_fields"] == ["api_key"]
    for text in (str(created), fetched, listed):
        assert "sk-agent-secret" not in text


async def test_a_reviewer_key_can_read_but_not_create(assay: RunningAssay, fake_llm: FakeLLM):
    from assay.core.principal import Role

    async with assay.client(await assay.key(role=Role.REVIEWER)) as reviewer:
        assert (await reviewer.get("/eval-runs")).status_code == 200
        response = await reviewer.post(
            "/v1/agents",
            json={
                "id": "x",
                "kind": "openai-chat",
                "config": {"base_url": fake_llm.url, "model": "m"},
            },
        )
    assert response.status_code == 403 and response.json()["type"] == "forbidden"


async def test_a_workspace_key_sees_only_its_workspace(assay: RunningAssay, fake_llm: FakeLLM):
    script_agent_and_judge(fake_llm)
    research = await assay.key("acme", workspace="research")
    sales = await assay.key("acme", workspace="sales")
    org_wide = await assay.key("acme")
    body = {
        "eval_type": "accuracy",
        "input": "q",
        "expected_output": "84",
        "agent_id": "calc-agent",
    }
    async with assay.client(research) as r, assay.client(sales) as s, assay.client(org_wide) as o:
        await register_chat_agent(r, fake_llm)
        run = (await r.post("/eval-runs", json=body)).json()
        assert (await s.get(f"/eval-runs/{run['id']}")).status_code == 404
        assert (await s.get("/eval-runs")).json()["meta"]["total_count"] == 0
        await s.request("DELETE", "/eval-runs", json={"eval_run_ids": [run["id"]]})
        assert (await r.get(f"/eval-runs/{run['id']}")).status_code == 200
        assert (await o.get(f"/eval-runs/{run['id']}")).status_code == 200
