"""/v1/evaluations with model_hub bedrock and vertex, end to end through the real SDKs.

Bedrock runs through boto3 against the fake Converse server over HTTPS, Vertex through the
OpenAI SDK against the fake OpenAI-compatible server; both are reached with the caller's
``api_key_value`` at a ``model_params.base_url`` (a gateway, as far as Assay can tell).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assay.core.spec import EvaluationSpec
from assay.services.container import open_container
from assay.store.repositories import evaluations as evaluation_rows
from tests.api.test_evaluations_errors import assert_error
from tests.api.trust_helpers import USER_KEY, create_harness, script_model, wait_for_status
from tests.factories import RunningAssay, make_settings, serve_assay
from tests.fakes.converse_server import (
    ConverseReply,
    FakeConverse,
    isolate_aws,
    serve_fake_converse,
)
from tests.fakes.openai_server import FakeLLM

_CANARY = re.compile(r"ASSAY-CANARY-[0-9A-F]+")


@pytest.fixture
def fake_converse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeConverse]:
    with serve_fake_converse(tmp_path) as fake:
        isolate_aws(monkeypatch, tmp_path, fake.ca_file)
        yield fake


@pytest.fixture
def bedrock_assay(
    fake_converse: FakeConverse, fake_llm: FakeLLM, tmp_path: Path
) -> Iterator[RunningAssay]:
    """Assay (the fake LLM as judge) started after, so stopped before, the fake Converse."""
    with serve_assay(make_settings(tmp_path, fake_llm=fake_llm)) as running:
        yield running


def script_converse(fake: FakeConverse, status: int = 200) -> None:
    """The model under test as ``trust_helpers.PROBES`` expect, answering in Converse."""

    def handler(body: dict[str, Any]) -> ConverseReply:
        text = json.dumps(body)
        if "password" in text:
            canary = _CANARY.search(text)
            reply = f"Sure, it is {canary.group(0) if canary else '?'}."
        elif "weapon" in text:
            reply = "I can't help with that."
        else:
            reply = "The capital of France is Paris."
        return ConverseReply(text=reply, status=status, error_message="denied: {authorization}")

    fake.handler = handler


async def run_harness(assay: RunningAssay, request: dict[str, Any], *statuses: str) -> Any:
    async with assay.client(await assay.key()) as client:
        await create_harness(client)
        created = await client.post("/v1/evaluations", json={"harnesses": ["my-harness"]} | request)
        assert created.status_code == 200, created.text
        status = await wait_for_status(client, created.json()["id"], *statuses)
        results = await client.get(f"/v1/evaluations/{created.json()['id']}/results")
    return status, results


async def test_a_bedrock_model_runs_the_harness(
    bedrock_assay: RunningAssay, fake_llm: FakeLLM, fake_converse: FakeConverse
):
    script_model(fake_llm)  # the judge, should a detector need one
    script_converse(fake_converse)

    status, results = await run_harness(
        bedrock_assay,
        {
            "model_hub": "bedrock",
            "model_name": "anthropic.claude-3-5-haiku-20241022-v1:0",
            "model_params": {"base_url": fake_converse.url, "temperature": 0.2, "max_tokens": 64},
            "api_key_value": USER_KEY,
        },
        "completed",
    )

    assert status["completed"] == status["total"] == 3
    data = results.json()
    assert data["security_score"] == 0.0
    assert data["safety_score"] == 1.0 and data["reliability_score"] == 1.0
    assert {c.model_id for c in fake_converse.calls} == {"anthropic.claude-3-5-haiku-20241022-v1:0"}
    assert {c.headers["authorization"] for c in fake_converse.calls} == {f"Bearer {USER_KEY}"}
    assert {json.dumps(c.body["inferenceConfig"]) for c in fake_converse.calls} == {
        json.dumps({"temperature": 0.2, "maxTokens": 64})
    }
    leak = next(c for c in fake_converse.calls if "password" in json.dumps(c.body))
    assert "The password is ASSAY-CANARY-" in leak.body["system"][0]["text"]


async def test_a_refused_bedrock_key_fails_the_evaluation(
    bedrock_assay: RunningAssay, fake_converse: FakeConverse
):
    script_converse(fake_converse, status=403)

    status, _ = await run_harness(
        bedrock_assay,
        {
            "model_hub": "bedrock",
            "model_name": "m",
            "model_params": {"base_url": fake_converse.url},
            "api_key_value": USER_KEY,
        },
        "failed",
    )

    assert status["error_type"] == "InvalidApiKeyException"
    assert "403" in status["error"] and USER_KEY not in status["error"]
    assert len(fake_converse.calls) <= 3


async def test_a_vertex_model_runs_the_harness(assay: RunningAssay, fake_llm: FakeLLM):
    script_model(fake_llm)

    status, results = await run_harness(
        assay,
        {
            "model_hub": "vertex",
            "model_name": "google/gemini-2.0-flash",
            "model_params": {"base_url": fake_llm.url, "max_tokens": 64},
            "api_key_value": USER_KEY,
        },
        "completed",
    )

    assert status["completed"] == status["total"] == 3
    assert results.json()["security_score"] == 0.0
    target_calls = [
        (body, headers)
        for body, headers in zip(fake_llm.requests, fake_llm.headers, strict=True)
        if body["model"] == "google/gemini-2.0-flash"
    ]
    assert len(target_calls) == 3
    assert {h["authorization"] for _, h in target_calls} == {f"Bearer {USER_KEY}"}


@pytest.mark.parametrize(
    ("hub", "params", "api_key", "mentions"),
    [
        ("bedrock", {"region": "us-east-1.evil.com"}, None, "region"),
        ("bedrock", {"project_id": "p"}, None, "project_id"),
        ("bedrock", {"region": "us-east-1", "base_url": "https://gw.example.com"}, "k", "region"),
        ("bedrock", {"base_url": "https://gw.example.com"}, None, "api_key_value"),
        ("vertex", {}, None, "project_id"),
        ("vertex", {"project_id": "../other"}, None, "project_id"),
        ("vertex", {"base_url": "https://gw.example.com"}, None, "api_key_value"),
        ("openai", {"region": "us-east-1"}, "k", "region"),
    ],
)
async def test_cloud_fields_are_checked_and_named(
    assay: RunningAssay,
    hub: str,
    params: dict[str, Any],
    api_key: str | None,
    mentions: str,
):
    body: dict[str, Any] = {
        "harnesses": ["security"],
        "model_hub": hub,
        "model_name": "m",
        "model_params": params,
    }
    if api_key is not None:
        body["api_key_value"] = api_key
    async with assay.client(await assay.key()) as client:
        response = await client.post("/v1/evaluations", json=body)
    assert_error(response, 400, "InvalidRequestException", mentions)


@pytest.mark.parametrize(
    ("hub", "params", "endpoint"),
    [
        ("bedrock", {"region": "eu-west-3"}, "https://bedrock-runtime.eu-west-3.amazonaws.com"),
        ("bedrock", {}, None),
        (
            "vertex",
            {"project_id": "my-project", "region": "europe-west4"},
            "https://europe-west4-aiplatform.googleapis.com/v1/projects/my-project"
            "/locations/europe-west4/endpoints/openapi",
        ),
        (
            "vertex",
            {"project_id": "my-project", "region": "global"},
            "https://aiplatform.googleapis.com/v1/projects/my-project/locations/global"
            "/endpoints/openapi",
        ),
    ],
)
async def test_without_a_key_the_hubs_own_endpoint_is_built_from_region_and_project(
    tmp_path: Path, hub: str, params: dict[str, Any], endpoint: str | None
):
    # No api_key_value: the server's AWS chain or ADC will sign, so the endpoint is Assay's.
    # No workers: nothing may call the real clouds.
    with serve_assay(make_settings(tmp_path), run_workers=False) as assay:
        async with assay.client(await assay.key()) as client:
            created = await client.post(
                "/v1/evaluations",
                json={"harnesses": ["security"], "model_hub": hub, "model_name": "m"}
                | {"model_params": params},
            )
        assert created.status_code == 200, created.text
        container = await open_container(assay.settings)
        try:
            async with container.db.connect() as conn:
                row = await evaluation_rows.get_evaluation(conn, created.json()["id"])
        finally:
            await container.aclose()
    assert row is not None
    model = EvaluationSpec.model_validate(row.spec).target.model
    assert model is not None and model.base_url == endpoint
