"""Tenant URLs that lead inside the operator's network are refused when saved, naming the field.

The server here runs with the default policy (``ASSAY_OUTBOUND_ALLOW`` unset: public
addresses only). The refused addresses are only strings: nothing connects to them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import RunningAssay, make_settings, serve_assay

BAD_URLS = [
    "http://127.0.0.1:9/v1",
    "http://169.254.169.254/latest",
    "http://[::ffff:127.0.0.1]/v1",
    "http://2130706433/v1",
    "http://0177.0.0.1/v1",
    "file:///etc/passwd",
    "gopher://example.com/",
    "http://user:pw@example.com/v1",
]


@pytest.fixture
def strict_assay(tmp_path: Path, any_database_url: str) -> Iterator[RunningAssay]:
    settings = make_settings(tmp_path, database_url=any_database_url, outbound_allow=None)
    with serve_assay(settings, run_workers=False) as running:
        yield running


def assert_names(response: Any, status: int, loc: list[str]) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["errors"][0]["loc"] == loc, body
    assert body["detail"].startswith(".".join(loc) + ": "), body
    assert "allowed" in body["detail"] or "URL" in body["detail"], body


@pytest.mark.parametrize("url", BAD_URLS)
async def test_native_agents_refuse_internal_urls(strict_assay: RunningAssay, url: str):
    agents = [
        ("openai-chat", {"base_url": url, "model": "m"}, "base_url"),
        ("http", {"url": url}, "url"),
        ("langgraph", {"base_url": url, "assistant_id": "a"}, "base_url"),
    ]
    async with strict_assay.client(await strict_assay.key()) as client:
        for kind, config, field in agents:
            response = await client.post("/v1/agents", json={"kind": kind, "config": config})
            if kind != "openai-chat" and url.startswith(("file:", "gopher:")):
                # http and langgraph already refuse other schemes in their own config.
                assert response.status_code == 422 and field in response.text, response.text
                continue
            assert_names(response, 422, ["config", field])
        assert (await client.get("/v1/agents")).json()["total"] == 0


@pytest.mark.parametrize("url", BAD_URLS)
async def test_native_evaluations_refuse_internal_urls(strict_assay: RunningAssay, url: str):
    request = {
        "harnesses": ["security"],
        "model_hub": "custom",
        "model_name": "m",
        "model_params": {"base_url": "https://models.example.com/v1"},
        "api_key_value": "sk-own",
    }
    async with strict_assay.client(await strict_assay.key()) as client:
        hook = await client.post("/v1/evaluations", json=request | {"webhook_url": url})
        assert_names(hook, 400, ["webhook_url"])
        model = await client.post(
            "/v1/evaluations", json=request | {"model_params": {"base_url": url}}
        )
        assert_names(model, 400, ["model_params", "base_url"])
        listed = await client.get("/v1/evaluations")
        assert listed.json()["total"] == 0, listed.text


@pytest.mark.parametrize("url", BAD_URLS)
async def test_seed_004_refuses_internal_urls(strict_assay: RunningAssay, url: str):
    async with strict_assay.client(await strict_assay.key()) as client:
        connector = await client.post(
            "/api/projects/default/connectors",
            json={"name": "Bot", "type": "openai-chat", "baseUrl": url, "config": {"model": "m"}},
        )
        assert connector.status_code == 400, connector.text
        assert connector.json()["error"].startswith("baseUrl: "), connector.text
        assert (await client.get("/api/projects/default/connectors")).json() == []

        for model in ("simulator", "judge"):
            settings = await client.put(
                "/api/projects/default",
                json={"llmSettings": {model: {"provider": "openai", "model": "m", "baseUrl": url}}},
            )
            assert settings.status_code == 400, settings.text
            assert settings.json()["error"].startswith(f"llmSettings.{model}.baseUrl: ")
        project = (await client.get("/api/projects/default")).json()
        assert project["llmSettings"]["simulator"]["baseUrl"] is None


async def test_a_public_url_is_accepted(strict_assay: RunningAssay):
    async with strict_assay.client(await strict_assay.key()) as client:
        response = await client.post(
            "/v1/agents",
            json={
                "kind": "openai-chat",
                "config": {"base_url": "https://a.example/v1", "model": "m"},
            },
        )
        assert response.status_code == 201, response.text
