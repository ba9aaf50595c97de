"""Seed 003's error names and statuses, tenant isolation and quotas on /v1/evaluations."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.api.eval_runs_helpers import register_chat_agent
from tests.api.trust_helpers import create_harness, model_request, script_model, wait_for_status
from tests.factories import RunningAssay, make_settings, serve_assay
from tests.fakes.openai_server import FakeLLM


def assert_error(response: Any, status: int, type_: str, mentions: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status and body["type"] == type_, body
    assert isinstance(body["detail"], str) and body["detail"]
    if mentions is not None:
        assert mentions in body["detail"], body


@pytest.mark.parametrize(
    ("change", "mentions"),
    [
        ({"harnesses": []}, "harnesses"),
        ({"harnesses": None}, "harnesses"),
        ({"model_params": {"temperature": 2.5}}, "temperature"),
        ({"model_params": {"temperature": -0.1}}, "temperature"),
        ({"model_params": {"max_tokens": 0}}, "max_tokens"),
        ({"model_hub": "azure"}, "model_hub"),
        ({"model_name": None}, "model_name"),
        ({"agent_id": "someone"}, "agent_id"),
        ({"api_key_value": None}, "api_key_value"),
        ({"model_params": {}}, "base_url"),
        ({"model_hub": "openai"}, "base_url"),
        ({"webhook_url": "ftp://example.com/hook"}, "webhook_url"),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
async def test_bad_requests_are_invalid_request_exceptions_naming_the_field(
    assay: RunningAssay, fake_llm: FakeLLM, change: dict[str, Any], mentions: str
):
    body = model_request(fake_llm, ["security"]) | change
    body = {k: v for k, v in body.items() if v is not None}
    async with assay.client(await assay.key()) as client:
        response = await client.post("/v1/evaluations", json=body)
        listed = (await client.get("/v1/evaluations")).json()
    assert_error(response, 400, "InvalidRequestException", mentions)
    assert listed["total"] == 0


async def test_malformed_json_is_an_invalid_request(assay: RunningAssay):
    async with assay.client(await assay.key()) as client:
        response = await client.post(
            "/v1/evaluations", content=b"{not json", headers={"Content-Type": "application/json"}
        )
    assert_error(response, 400, "InvalidRequestException")


async def test_neither_agent_nor_model_is_an_invalid_request(assay: RunningAssay):
    async with assay.client(await assay.key()) as client:
        response = await client.post("/v1/evaluations", json={"harnesses": ["security"]})
    assert_error(response, 400, "InvalidRequestException", "agent_id")


@pytest.mark.parametrize(("hub", "sdk"), [("bedrock", "boto3"), ("vertex", "google.auth")])
async def test_hubs_without_their_extra_name_the_extra(
    assay: RunningAssay, monkeypatch: pytest.MonkeyPatch, hub: str, sdk: str
):
    # The SDK, not our code, is made unimportable (the server runs in this process).
    monkeypatch.delitem(sys.modules, f"assay.providers.{hub}", raising=False)
    monkeypatch.setitem(sys.modules, sdk, None)
    async with assay.client(await assay.key()) as client:
        response = await client.post(
            "/v1/evaluations",
            json={
                "harnesses": ["security"],
                "model_hub": hub,
                "model_name": "m",
                "api_key_value": "k",
            },
        )
    assert_error(response, 400, "InvalidRequestException", f"pip install 'assay[{hub}]'")


async def test_openai_hub_uses_the_server_key_when_none_is_given(
    assay: RunningAssay, fake_llm: FakeLLM
):
    script_model(fake_llm)
    async with assay.client(await assay.key()) as client:
        await create_harness(client)
        created = await client.post(
            "/v1/evaluations",
            json={"harnesses": ["my-harness"], "model_hub": "openai", "model_name": "gpt-x"},
        )
        assert created.status_code == 200, created.text
        await wait_for_status(client, created.json()["id"], "completed")
    assert {h["authorization"] for h in fake_llm.headers} == {"Bearer sk-test-secret"}


async def test_anthropic_hub_without_a_server_key_needs_api_key_value(assay: RunningAssay):
    async with assay.client(await assay.key()) as client:
        response = await client.post(
            "/v1/evaluations",
            json={"harnesses": ["security"], "model_hub": "anthropic", "model_name": "claude"},
        )
    assert_error(response, 400, "InvalidRequestException", "api_key_value")


async def test_unknown_names_are_not_found_with_the_seed_names(
    assay: RunningAssay, fake_llm: FakeLLM
):
    async with assay.client(await assay.key()) as client:
        harness = await client.post(
            "/v1/evaluations", json=model_request(fake_llm, ["security", "no-such-harness"])
        )
        agent = await client.post(
            "/v1/evaluations", json={"harnesses": ["security"], "agent_id": "ghost"}
        )
        evaluation = await client.get("/v1/evaluations/eval-missing")
        results = await client.get("/v1/evaluations/eval-missing/results")
        cancel = await client.post("/v1/evaluations/eval-missing/cancel")
        delete = await client.delete("/v1/evaluations/eval-missing")
        webhooks = await client.get("/v1/evaluations/eval-missing/webhooks")
    assert_error(harness, 404, "HarnessNotFoundException", "no-such-harness")
    assert_error(agent, 404, "AgentNotFoundException", "ghost")
    for response in (evaluation, results, cancel, delete, webhooks):
        assert_error(response, 404, "EvaluationNotFoundException", "eval-missing")


async def test_a_missing_or_wrong_key_is_invalid_api_key(assay: RunningAssay):
    async with assay.client(None) as anonymous, assay.client("assay_wrong") as wrong:
        for client in (anonymous, wrong):
            assert_error(await client.get("/v1/evaluations"), 401, "InvalidApiKeyException")
            response = await client.post("/v1/evaluations", json={"harnesses": ["security"]})
            assert_error(response, 401, "InvalidApiKeyException")


async def test_another_organizations_evaluations_and_harnesses_are_invisible(
    assay: RunningAssay, fake_llm: FakeLLM
):
    script_model(fake_llm)
    async with (
        assay.client(await assay.key("org-a")) as a,
        assay.client(await assay.key("org-b")) as b,
    ):
        await create_harness(a)
        await register_chat_agent(a, fake_llm, agent_id="a-bot")
        created = await a.post("/v1/evaluations", json=model_request(fake_llm, ["my-harness"]))
        evaluation_id = created.json()["id"]
        await wait_for_status(a, evaluation_id, "completed")

        for method, path in [
            ("GET", f"/v1/evaluations/{evaluation_id}"),
            ("GET", f"/v1/evaluations/{evaluation_id}/results"),
            ("GET", f"/v1/evaluations/{evaluation_id}/webhooks"),
            ("POST", f"/v1/evaluations/{evaluation_id}/cancel"),
            ("DELETE", f"/v1/evaluations/{evaluation_id}"),
        ]:
            assert_error(await b.request(method, path), 404, "EvaluationNotFoundException")
        assert (await b.get("/v1/evaluations")).json()["total"] == 0
        assert_error(await b.get("/v1/harnesses/my-harness"), 404, "HarnessNotFoundException")
        assert (await b.get("/v1/harnesses")).json()["total"] == 0
        used = await b.post("/v1/evaluations", json=model_request(fake_llm, ["my-harness"]))
        assert_error(used, 404, "HarnessNotFoundException")
        agent = await b.post("/v1/evaluations", json={"harnesses": ["safety"], "agent_id": "a-bot"})
        assert_error(agent, 404, "AgentNotFoundException")

        still = await a.get(f"/v1/evaluations/{evaluation_id}/results")
        assert still.status_code == 200


async def test_a_reviewer_key_cannot_create_evaluations(assay: RunningAssay, fake_llm: FakeLLM):
    from assay.core.principal import Role

    async with assay.client(await assay.key(role=Role.REVIEWER)) as client:
        response = await client.post("/v1/evaluations", json=model_request(fake_llm, ["security"]))
    assert response.status_code == 403


async def test_concurrent_quota_is_a_429_until_an_evaluation_ends(
    tmp_path: Path, fake_llm: FakeLLM
):
    script_model(fake_llm, latency=1.0)
    settings = make_settings(tmp_path, fake_llm=fake_llm, quota_concurrent_evaluations=1)
    with serve_assay(settings) as running:
        async with running.client(await running.key()) as client:
            await create_harness(client)
            first = await client.post(
                "/v1/evaluations", json=model_request(fake_llm, ["my-harness"])
            )
            second = await client.post(
                "/v1/evaluations", json=model_request(fake_llm, ["my-harness"])
            )
            # Another organization has its own quota.
            async with running.client(await running.key("other")) as other:
                await create_harness(other)
                theirs = await other.post(
                    "/v1/evaluations", json=model_request(fake_llm, ["my-harness"])
                )
            await client.post(f"/v1/evaluations/{first.json()['id']}/cancel")
            third = await client.post(
                "/v1/evaluations", json=model_request(fake_llm, ["my-harness"])
            )
            listed = (await client.get("/v1/evaluations")).json()
    assert first.status_code == 200 and theirs.status_code == 200
    assert_error(second, 429, "RateLimitExceededException", "ASSAY_QUOTA_CONCURRENT_EVALUATIONS")
    assert second.headers["retry-after"]
    assert third.status_code == 200, third.text
    assert listed["total"] == 2


async def test_daily_quota_is_a_429_with_the_reset_time(tmp_path: Path, fake_llm: FakeLLM):
    script_model(fake_llm)
    settings = make_settings(tmp_path, fake_llm=fake_llm, quota_daily_evaluations=2)
    with serve_assay(settings) as running:
        async with running.client(await running.key()) as client:
            await create_harness(client)
            for _ in range(2):
                ok = await client.post(
                    "/v1/evaluations", json=model_request(fake_llm, ["my-harness"])
                )
                assert ok.status_code == 200
                await wait_for_status(client, ok.json()["id"], "completed")
            over = await client.post(
                "/v1/evaluations", json=model_request(fake_llm, ["my-harness"])
            )
    assert_error(over, 429, "RateLimitExceededException", "ASSAY_QUOTA_DAILY_EVALUATIONS")
    assert 0 < int(over.headers["retry-after"]) <= 86400
