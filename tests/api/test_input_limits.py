"""Input that no database can store is a 4xx naming the field on every route, never a 500.

Found by fuzzing: offsets at or above 2**63, lone surrogates, NUL characters (PostgreSQL
refuses them), names longer than their column (PostgreSQL refuses them too), an empty
persona language. Each case runs on SQLite and PostgreSQL, and leaves nothing stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.factories import RunningAssay, make_settings, serve_assay

HUGE = 2**63


@pytest.fixture
def served(tmp_path: Path, any_database_url: str) -> Iterator[RunningAssay]:
    settings = make_settings(tmp_path, database_url=any_database_url)
    with serve_assay(settings, run_workers=False) as running:
        yield running


def _message(response: httpx.Response) -> str:
    """The error text of any dialect's envelope."""
    body = response.json()
    return json.dumps(body.get("detail", body.get("error", body)))


def assert_rejected(response: httpx.Response, *mentions: str) -> None:
    assert response.status_code in (400, 422), (response.status_code, response.text)
    message = _message(response)
    for mention in mentions:
        assert mention in message, (mention, message)


def raw(body: dict[str, Any]) -> dict[str, Any]:
    """Request kwargs sending ``body`` as ASCII JSON, so lone surrogates travel as escapes."""
    return {"content": json.dumps(body), "headers": {"Content-Type": "application/json"}}


@pytest.mark.parametrize("value", [HUGE, HUGE - 1, 10**30])
async def test_offsets_beyond_the_databases_integers_are_rejected(served: RunningAssay, value: int):
    async with served.client(await served.key()) as client:
        for path, name in [
            ("/v1/agents", "offset"),
            ("/v1/harnesses", "offset"),
            ("/v1/evaluations", "offset"),
            ("/eval-runs", "page"),
        ]:
            assert_rejected(await client.get(path, params={name: value}), name)
        listed = await client.get("/v1/agents", params={"offset": 1_000_000_000})
    assert listed.status_code == 200 and listed.json()["data"] == []


BAD_TEXT = ["\ud800", "nul\x00byte"]
PERSONAS = "/api/projects/default/personas"


def _cases(bad: str) -> list[tuple[str, dict[str, Any], str]]:
    """(path, body, field) that put ``bad`` into each kind of stored string."""
    agent = {"id": "a1", "kind": "openai-chat", "config": {"model": "m"}}
    return [
        ("/v1/agents", agent | {"name": bad}, "name"),
        ("/v1/agents", agent | {"id": bad}, "id"),
        ("/v1/agents", agent | {"config": {"model": "m", "system_prompt": bad}}, "config"),
        ("/v1/agents", agent | {"config": {"model": "m", bad: 1}}, "config"),
        (
            "/v1/harnesses",
            {"name": "h", "description": bad, "probes": [{"prompt": "p"}]},
            "description",
        ),
        ("/v1/harnesses", {"name": "h", "probes": [{"prompt": bad}]}, "probes"),
        ("/v1/evaluations", {"harnesses": ["security"], "agent_id": "a", "name": bad}, "name"),
        ("/eval-runs", {"eval_type": "accuracy", "input": bad, "model_id": "m"}, "input"),
        (PERSONAS, {"name": bad, "description": "d"}, "name"),
        ("/api/projects/default/scenarios", {"name": "s", "instructions": bad}, "instructions"),
        (
            "/api/projects/default/connectors",
            {"name": "c", "type": "http", "baseUrl": "http://127.0.0.1:9", "headers": {"x": bad}},
            "headers",
        ),
    ]


@pytest.mark.parametrize("bad", BAD_TEXT, ids=["lone-surrogate", "nul"])
async def test_unstorable_characters_in_bodies_are_rejected_naming_the_field(
    served: RunningAssay, bad: str
):
    async with served.client(await served.key()) as client:
        for path, body, field in _cases(bad):
            assert_rejected(await client.post(path, **raw(body)), field)
        agents = (await client.get("/v1/agents")).json()
        personas = (await client.get(PERSONAS)).json()
        harnesses = (await client.get("/v1/harnesses")).json()
    assert agents["total"] == 0 and personas == [] and harnesses["total"] == 0


async def test_nul_in_paths_and_queries_is_rejected_naming_the_parameter(served: RunningAssay):
    async with served.client(await served.key()) as client:
        assert_rejected(await client.get("/v1/agents/a%00b"), "agent_id")
        assert_rejected(await client.get(f"{PERSONAS}/p%00"), "personaId")
        assert_rejected(
            await client.get("/v1/evaluations", params={"agent_id": "a\x00"}), "agent_id"
        )
        assert_rejected(await client.get("/eval-runs", params={"model_id": "\x00"}), "model_id")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/v1/agents",
            {"kind": "openai-chat", "config": {"model": "m"}, "name": "n" * 201},
            "name",
        ),
        ("/v1/agents", {"kind": "k" * 51, "config": {}}, "kind"),
        (PERSONAS, {"name": "n" * 201, "description": "d"}, "name"),
        (PERSONAS, {"name": "n", "description": "d" * 100_001}, "description"),
        ("/api/projects/default/scenarios", {"name": "n" * 201, "instructions": "i"}, "name"),
        (
            "/api/projects/default/evals",
            {"name": "n" * 501, "connectorId": "c", "scenarioIds": ["s"]},
            "name",
        ),
        (
            "/api/projects/default/connectors",
            {"name": "n" * 201, "type": "http", "baseUrl": "http://127.0.0.1:9"},
            "name",
        ),
        ("/eval-runs", {"eval_type": "accuracy", "input": "q", "name": "n" * 501}, "name"),
    ],
)
async def test_strings_longer_than_their_limit_are_rejected_naming_the_field(
    served: RunningAssay, path: str, body: dict[str, Any], field: str
):
    async with served.client(await served.key()) as client:
        response = await client.post(path, json=body)
        agents = (await client.get("/v1/agents")).json()
    assert_rejected(response, field)
    assert agents["total"] == 0


async def test_an_empty_persona_language_is_rejected_on_create_and_update(served: RunningAssay):
    async with served.client(await served.key()) as client:
        created = await client.post(
            PERSONAS, json={"name": "Ann", "description": "d", "traits": {"language": "de"}}
        )
        assert created.status_code == 201, created.text
        bad_create = await client.post(
            PERSONAS, json={"name": "Bob", "description": "d", "traits": {"language": ""}}
        )
        bad_update = await client.put(
            f"{PERSONAS}/{created.json()['id']}", json={"traits": {"language": ""}}
        )
        stored = await client.get(f"{PERSONAS}/{created.json()['id']}")
        listed = await client.get(PERSONAS)
    assert_rejected(bad_create, "traits.language")
    assert_rejected(bad_update, "traits.language")
    assert stored.json()["traits"]["language"] == "de"
    assert [p["name"] for p in listed.json()] == ["Ann"]
