"""The server's provider key goes only to the provider's endpoint or the operator's own URL.

Each test runs a second fake OpenAI server on loopback as the *tenant's* URL (it records
every request's headers, as ``nc -l`` would) and checks that no route lets a tenant point the
server at it and receive the operator's ``OPENAI_API_KEY``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.projects_helpers import (
    SUCCESS,
    create,
    persona,
    scenario,
    script_simulator_and_judge,
    wait_for_runs,
)
from tests.api.trust_helpers import create_harness, wait_for_status
from tests.factories import LOOPBACK, RunningAssay, make_settings, serve_assay
from tests.fakes.openai_server import FakeLLM, FakeReply, serve_fake_llm

CANARY = "sk-operator-canary-5f1e"
TENANT_KEY = "sk-tenant-own-key-77"
HARNESS = [
    {
        "id": "capital",
        "category": "reliability",
        "severity": "medium",
        "prompt": "What is the capital of France?",
        "detector": {"name": "answer_match", "params": {"answers": ["Paris"]}},
    }
]


@pytest.fixture
def tenant() -> Iterator[FakeLLM]:
    """The URL a tenant chose: any server that answers, and records what it was sent."""
    with serve_fake_llm() as fake:
        fake.handler = lambda body: FakeReply(content="The capital of France is Paris.")
        yield fake


@pytest.fixture
def operator_assay(
    tmp_path: Path, fake_llm: FakeLLM, any_database_url: str
) -> Iterator[RunningAssay]:
    """Assay whose OPENAI_BASE_URL (the operator's) is ``fake_llm``, with the canary key."""
    settings = make_settings(
        tmp_path, database_url=any_database_url, fake_llm=fake_llm, openai_api_key=CANARY
    )
    with serve_assay(settings) as running:
        yield running


def authorizations(fake: FakeLLM) -> list[str]:
    return [h.get("authorization", "") for h in fake.headers]


def assert_never_got_the_canary(fake: FakeLLM) -> None:
    sent = authorizations(fake)
    assert sent, "the tenant's server was never called"
    assert not any(CANARY in value for value in sent), sent


async def run_agent_harness(assay: RunningAssay, base_url: str) -> dict[str, Any]:
    async with assay.client(await assay.key()) as client:
        await create_harness(client, "capital", HARNESS)
        agent = await client.post(
            "/v1/agents",
            json={"kind": "openai-chat", "config": {"base_url": base_url, "model": "m"}},
        )
        assert agent.status_code == 201, agent.text
        created = await client.post(
            "/v1/evaluations", json={"harnesses": ["capital"], "agent_id": agent.json()["id"]}
        )
        assert created.status_code == 200, created.text
        return await wait_for_status(client, created.json()["id"], "completed", "failed")


async def test_an_openai_chat_agent_without_secrets_never_gets_the_server_key(
    operator_assay: RunningAssay, tenant: FakeLLM
):
    await run_agent_harness(operator_assay, tenant.url)

    assert_never_got_the_canary(tenant)


async def test_the_operators_own_base_url_does_get_the_server_key(
    operator_assay: RunningAssay, fake_llm: FakeLLM
):
    fake_llm.handler = lambda body: FakeReply(content="Paris")

    await run_agent_harness(operator_assay, fake_llm.url)

    assert f"Bearer {CANARY}" in authorizations(fake_llm)


async def test_a_custom_model_hub_needs_the_callers_key_and_gets_only_that(
    operator_assay: RunningAssay, tenant: FakeLLM
):
    request = {
        "harnesses": ["capital"],
        "model_hub": "custom",
        "model_name": "m",
        "model_params": {"base_url": tenant.url},
    }
    async with operator_assay.client(await operator_assay.key()) as client:
        await create_harness(client, "capital", HARNESS)
        refused = await client.post("/v1/evaluations", json=request)
        assert refused.status_code == 400, refused.text
        assert refused.json()["errors"][0]["loc"] == ["api_key_value"]

        created = await client.post("/v1/evaluations", json=request | {"api_key_value": TENANT_KEY})
        assert created.status_code == 200, created.text
        await wait_for_status(client, created.json()["id"], "completed", "failed")

    assert_never_got_the_canary(tenant)
    assert set(authorizations(tenant)) == {f"Bearer {TENANT_KEY}"}


async def test_seed_004_connector_and_llm_settings_never_get_the_server_key(
    operator_assay: RunningAssay, tenant: FakeLLM
):
    """An openai-chat connector without credentials, simulator and judge with a baseUrl."""
    script_simulator_and_judge(tenant)
    scripted = tenant.handler
    assert scripted is not None

    def handler(body: dict[str, Any]) -> FakeReply:
        try:
            return scripted(body)
        except AssertionError:  # not a simulator or judge call: the agent under test
            return FakeReply(content="Your booking B123 is cancelled.")

    tenant.handler = handler
    async with operator_assay.client(await operator_assay.key()) as client:
        settings = await client.put(
            "/api/projects/default",
            json={
                "llmSettings": {
                    "simulator": {"provider": "openai", "model": "sim", "baseUrl": tenant.url},
                    "judge": {"provider": "openai", "model": "judge", "baseUrl": tenant.url},
                }
            },
        )
        assert settings.status_code == 200, settings.text
        connector = await create(
            client,
            "/api/projects/default/connectors",
            {"name": "Bot", "type": "openai-chat", "baseUrl": tenant.url, "config": {"model": "m"}},
        )
        ann = await persona(client, "Ann")
        case = await scenario(client, SUCCESS, [ann["id"]])
        evaluation = await create(
            client,
            "/api/projects/default/evals",
            {"name": "Leak test", "connectorId": connector["id"], "scenarioIds": [case["id"]]},
        )
        started = await client.post(f"/api/projects/default/evals/{evaluation['id']}/runs")
        assert started.status_code == 201, started.text
        await wait_for_runs(client, evaluation["id"], 1)

    assert_never_got_the_canary(tenant)
    systems = [str(r["messages"][0].get("content", "")) for r in tenant.requests]
    assert len(systems) >= 3  # the agent, the simulator and the judge were all called


def test_assay_run_sends_a_model_base_url_no_server_key(tmp_path: Path, tenant: FakeLLM):
    run_file = f"""
target:
  model: openai/m
  base_url: "{tenant.url}"
judge: mock/judge
checks:
  - kind: match
    params:
      mode: includes
      cases:
        - {{input: "What is the capital of France?", expected_output: "Paris"}}
"""
    (tmp_path / "checks.yaml").write_text(run_file)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "OPENAI_", "ANTHROPIC_"))
    }
    env |= {
        "ASSAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'assay.db'}",
        "ASSAY_DATA_DIR": str(tmp_path / "data"),
        "ASSAY_OUTBOUND_ALLOW": LOOPBACK,
        "OPENAI_API_KEY": CANARY,
    }
    result = subprocess.run(
        [sys.executable, "-m", "assay", "run", "checks.yaml", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=110,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert_never_got_the_canary(tenant)
