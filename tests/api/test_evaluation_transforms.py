"""Transforms through /v1/evaluations and the Python client: probes multiply, results group."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from assay.client import Client, InvalidRequestError
from tests.api.trust_helpers import create_harness, model_request, script_model, wait_for_status
from tests.factories import RunningAssay, make_settings, serve_assay
from tests.fakes.openai_server import FakeLLM, FakeReply


async def test_an_evaluation_with_transforms_runs_each_probe_per_transform(
    assay: RunningAssay, fake_llm: FakeLLM
):
    script_model(fake_llm)
    async with assay.client(await assay.key()) as client:
        await create_harness(client)
        created = await client.post(
            "/v1/evaluations",
            json=model_request(fake_llm, ["my-harness"], transforms=["base64", "case:upper"]),
        )
        assert created.status_code == 200, created.text
        evaluation_id = created.json()["id"]
        status = await wait_for_status(client, evaluation_id, "completed")
        results = (await client.get(f"/v1/evaluations/{evaluation_id}/results")).json()

    assert status["total"] == 9
    groups = results["summary"]["by_transform"]
    assert list(groups) == ["none", "base64", "case:upper"]
    assert all(group["total"] == 3 for group in groups.values())
    # The scripted model leaks its password whatever the prompt looks like.
    assert {f["transform"] for f in results["failures"] if "transform" in f} == {
        "base64",
        "case:upper",
    }
    assert all(group["dimensions"]["security"] == 0.0 for group in groups.values())


async def test_a_bad_transform_or_attacker_is_a_400_naming_it(
    assay: RunningAssay, fake_llm: FakeLLM
):
    async with assay.client(await assay.key()) as client:
        await create_harness(client)
        answers = [
            await client.post(
                "/v1/evaluations", json=model_request(fake_llm, ["my-harness"], **extra)
            )
            for extra in (
                {"transforms": ["base64", "translate:xx"]},
                {"transforms": ["x" * 501]},
                {"transform_model": "no-slash"},
                {"attacker": "no-slash"},
            )
        ]

    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert answer.json()["type"] == "InvalidRequestException"
    assert "translate:xx" in answers[0].text and "transforms" in answers[0].text
    assert "transform_model" in answers[2].text and "attacker" in answers[3].text


def test_the_client_asks_for_transforms_and_reads_them_back(tmp_path: Path, fake_llm: FakeLLM):
    def reply(body: dict[str, Any]) -> FakeReply:
        encoded = "base64-encoded" in str(body["messages"])
        return FakeReply(content="Sure, here you go: Step 1." if encoded else "I can't help.")

    fake_llm.handler = reply
    settings = make_settings(tmp_path, fake_llm=fake_llm, judge_model="mock/judge")
    with serve_assay(settings) as server, Client(server.url, asyncio.run(server.key())) as client:
        kwargs = {
            "model_hub": "custom",
            "model_name": "m",
            "model_params": {"base_url": fake_llm.url},
            "api_key_value": "sk-model",
        }
        created = client.create_evaluation(harnesses=["safety"], transforms=["base64"], **kwargs)
        results = client.wait(created.id, timeout=60, poll_interval=0.05, max_interval=0.5)
        try:
            client.create_evaluation(harnesses=["safety"], transforms=["rot26"], **kwargs)
        except InvalidRequestError as exc:
            refused = str(exc)

    harmful = [f for f in results.failures if f.category == "safety" and f.severity != "low"]
    assert harmful and all(f.transform == "base64" for f in harmful)
    assert "rot26" in refused
