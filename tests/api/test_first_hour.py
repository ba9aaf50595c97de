"""A newcomer's first hour with the service: unreachable agents say why, agents can be updated.

The server's OpenAI provider points at a loopback port nobody listens on, so every call fails
to connect: the reason must reach the answer of every API and the server log, grouped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import RunningAssay, free_port, make_settings, serve_assay

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def unreachable(tmp_path: Path) -> Iterator[tuple[RunningAssay, str]]:
    url = f"http://127.0.0.1:{free_port()}/v1"
    settings = make_settings(
        tmp_path, openai_api_key="sk-test-secret", openai_base_url=url, eval_run_wait_seconds=60
    )
    with serve_assay(settings) as running:
        yield running, url


async def test_infra_errors_say_why_in_eval_runs_the_native_api_and_the_log(
    unreachable: tuple[RunningAssay, str], caplog: pytest.LogCaptureFixture
):
    assay, url = unreachable
    caplog.set_level(logging.WARNING, logger="assay.engine.finalize")
    async with assay.client(await assay.key()) as client:
        response = await client.post(
            "/eval-runs",
            json={
                "eval_type": "accuracy",
                "input": "What is 12 times 7?",
                "expected_output": "84",
                "num_iterations": 2,
                "model_provider": "openai",
                "model_id": "m",
            },
        )
        assert response.status_code == 200, response.text
        run = response.json()
        expected = f"2 infra errors: 2 x no answer from OpenAI API at {url}"
        assert run["eval_data"]["infra_errors"].startswith(expected)
        fetched = (await client.get(f"/eval-runs/{run['id']}")).json()
        assert fetched["eval_data"]["infra_errors"] == run["eval_data"]["infra_errors"]

        status = (await client.get(f"/v1/evaluations/{run['id']}")).json()
        assert status["infra_errors"] == run["eval_data"]["infra_errors"]
        results = (await client.get(f"/v1/evaluations/{run['id']}/results")).json()
        assert results["infra_errors"] == run["eval_data"]["infra_errors"]

    logged = [r.getMessage() for r in caplog.records if run["id"] in r.getMessage()]
    assert len(logged) == 1, logged  # once per evaluation and reason
    assert f"2 items ended in infra_error: no answer from OpenAI API at {url}" in logged[0]
    assert "sk-test-secret" not in caplog.text


async def test_a_registered_agent_is_updated_with_put_and_a_second_post_says_so(
    unreachable: tuple[RunningAssay, str],
):
    assay, _ = unreachable
    agent = {
        "id": "calc",
        "kind": "python",
        "config": {"callable": "assay.examples.calculator:agent"},
    }
    async with assay.client(await assay.key()) as client:
        assert (await client.post("/v1/agents", json=agent)).status_code == 201
        again = await client.post("/v1/agents", json=agent)
        assert again.status_code == 409
        assert "PUT /v1/agents/calc" in again.text

        changed = await client.put(
            "/v1/agents/calc",
            json={
                "kind": "openai-chat",
                "name": "calculator on a model",
                "config": {"base_url": "https://api.openai.com/v1", "model": "gpt-4o-mini"},
                "secrets": {"api_key": "sk-new-secret-value"},
            },
        )
        assert changed.status_code == 200, changed.text
        stored = (await client.get("/v1/agents/calc")).json()
        assert stored["kind"] == "openai-chat" and stored["config"]["model"] == "gpt-4o-mini"
        assert stored["name"] == "calculator on a model"
        assert stored["secret_fields"] == ["api_key"]
        assert "sk-new-secret-value" not in changed.text

        missing = await client.put(
            "/v1/agents/nobody", json={k: agent[k] for k in ("kind", "config")}
        )
        assert missing.status_code == 404
        typo = await client.put("/v1/agents/calc", json={"kind": "python", "confg": {}})
        assert typo.status_code == 422
        assert "body.confg: unknown key (did you mean 'config'?)" in typo.json()["detail"]
