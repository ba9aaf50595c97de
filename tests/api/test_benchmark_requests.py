"""Seed 002 request rules: the client version gate (426) and the react agent's max_steps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assay.core.principal import Role
from assay.settings import get_settings
from tests.factories import RunningAssay, make_settings, serve_assay, wait_until
from tests.fakes.openai_server import FakeLLM, FakeReply

pytestmark = pytest.mark.timeout(90)

ORG, WS = "acme", "red-team"
BASE = f"/api/v1/org/{ORG}/ws/{WS}"
VERSION = "X-Assay-Client-Version"


@pytest.fixture
def assay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_llm: FakeLLM
) -> Iterator[RunningAssay]:
    monkeypatch.setenv("ASSAY_SANDBOX_ROOT", str(tmp_path / "sandboxes"))
    get_settings.cache_clear()
    settings = make_settings(tmp_path, fake_llm=fake_llm, min_client_version="2.1")
    with serve_assay(settings) as running:
        yield running
    get_settings.cache_clear()


def _react(**task_config: Any) -> dict[str, Any]:
    return {
        "agent_type": "react",
        "model": "openai/scripted",
        "dataset": {"id": "security"},
        "task_names": ["base64-once"],
        "task_config": task_config,
        "task_timeout_sec": 30,
    }


async def test_a_client_below_the_minimum_version_gets_426_in_the_envelope(assay: RunningAssay):
    key = await assay.key(ORG, Role.MEMBER, workspace=WS)
    async with assay.client(key) as client:
        old = await client.get(f"{BASE}/evaluation", headers={VERSION: "2.0.9"})
        assert old.status_code == 426
        body = old.json()
        assert body["code"] == 426
        assert body["type"] == "upgrade_required"
        assert "2.0.9" in body["detail"] and "2.1" in body["detail"]
        # Refused before anything is created.
        created = await client.post(f"{BASE}/evaluation", json=_react(), headers={VERSION: "1.9"})
        assert created.status_code == 426
        for served in ("2.1", "2.1.0-beta", "10.0"):
            answer = await client.get(f"{BASE}/evaluation", headers={VERSION: served})
            assert answer.status_code == 200, (served, answer.text)
            assert answer.json()["total"] == 0
        # A client that does not say its version is served.
        assert (await client.get(f"{BASE}/evaluation")).status_code == 200
        garbled = await client.get(f"{BASE}/evaluation", headers={VERSION: "latest"})
        assert garbled.status_code == 422
        assert garbled.json()["errors"][0]["loc"] == ["header", VERSION]
    # Other APIs do not speak seed 002 and are not gated.
    async with assay.client(key) as client:
        native = await client.get("/v1/evaluations", headers={VERSION: "0.1"})
    assert native.status_code != 426


async def test_react_max_steps_comes_from_task_config(assay: RunningAssay, fake_llm: FakeLLM):
    fake_llm.handler = lambda body: FakeReply(
        tool_calls=[{"name": "shell", "arguments": {"command": "ls"}}]
    )
    key = await assay.key(ORG, Role.MEMBER, workspace=WS)
    async with assay.client(key) as client:
        created = await client.post(f"{BASE}/evaluation", json=_react(max_steps=2))
        assert created.status_code == 200, created.text
        evaluation_id = created.json()["id"]

        async def done() -> bool:
            got = (await client.get(f"{BASE}/evaluation/{evaluation_id}")).json()
            return bool(got["status"] == "completed")

        await wait_until(done, timeout=60)
        [item] = (await client.get(f"{BASE}/evaluation/{evaluation_id}/items")).json()["items"]
    assert item["state"] == "failed"
    assert len([e for e in item["trace"] if e["kind"] == "tool"]) == 2
    assert len(fake_llm.requests) == 2


@pytest.mark.parametrize("steps", [0, 501, "ten", 2.5, True])
async def test_a_bad_max_steps_is_a_422_naming_it(assay: RunningAssay, steps: Any):
    key = await assay.key(ORG, Role.MEMBER, workspace=WS)
    async with assay.client(key) as client:
        response = await client.post(f"{BASE}/evaluation", json=_react(max_steps=steps))
        assert response.status_code == 422, response.text
        error = response.json()["errors"][0]
        assert error["loc"][-2:] == ["task_config", "max_steps"]
        assert "1 to 500" in error["msg"]
        assert (await client.get(f"{BASE}/evaluation")).json()["total"] == 0
