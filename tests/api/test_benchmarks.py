"""Seed 002 over HTTP: workspace-scoped task benchmark evaluations with real bwrap sandboxes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assay.core.principal import Role
from assay.settings import get_settings
from tests.factories import RunningAssay, make_settings, serve_assay, wait_until

pytestmark = pytest.mark.timeout(90)

ORG, WS1, WS2 = "acme", "red-team", "blue-team"
BASE = f"/api/v1/org/{ORG}/ws/{WS1}"
SEED_FIELDS = {
    "agent_type", "capability", "cleanup_policy", "concurrency", "dataset", "kind", "model",
    "name", "project_id", "runtime_id", "sandbox_provider", "secret_ids", "task_config",
    "task_names", "task_timeout_sec",
}  # fmt: skip
ITEM_COUNT_KEYS = {
    "agent_finished", "agent_running", "cancelled", "claiming", "errored", "failed",
    "infra_error", "passed", "provisioning", "queued", "timed_out", "verifying",
}  # fmt: skip


@pytest.fixture
def assay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningAssay]:
    monkeypatch.setenv("ASSAY_SANDBOX_ROOT", str(tmp_path / "sandboxes"))
    get_settings.cache_clear()
    with serve_assay(make_settings(tmp_path)) as running:
        yield running
    get_settings.cache_clear()


def _body(**overrides: Any) -> dict[str, Any]:
    body = {
        "agent_type": "oracle",
        "name": "nightly",
        "dataset": {"id": "security"},
        "task_names": ["base64-once", "patch-xss-handler", "sudoers-audit"],
        "concurrency": 3,
        "task_timeout_sec": 30,
    }
    return body | overrides


async def _ready(client: httpx.AsyncClient, evaluation_id: str) -> dict[str, Any]:
    async def ready() -> bool:
        got = await client.get(f"{BASE}/evaluation/{evaluation_id}")
        return bool(got.json()["analytics"]["status"] == "ready")

    await wait_until(ready, timeout=60)
    return dict((await client.get(f"{BASE}/evaluation/{evaluation_id}")).json())


async def test_an_oracle_benchmark_runs_to_ready_analytics_with_item_traces(assay: RunningAssay):
    key = await assay.key(ORG, Role.MEMBER, workspace=WS1)
    async with assay.client(key) as client:
        created = await client.post(f"{BASE}/evaluation", json=_body())
        assert created.status_code == 200, created.text
        evaluation = created.json()
        assert SEED_FIELDS <= set(evaluation)
        assert set(evaluation["item_counts"]) == ITEM_COUNT_KEYS
        assert sum(evaluation["item_counts"].values()) == 3
        assert evaluation["kind"] == "security_task_benchmark"
        assert set(evaluation["created_by"]) == {"id", "name", "email"}
        assert evaluation["analytics"]["status"] in ("pending", "computing", "ready")

        done = await _ready(client, evaluation["id"])
        assert done["status"] == "completed"
        assert done["item_counts"]["passed"] == 3
        assert done["analytics"]["overall"]["pass_rate"] == 1.0
        assert done["analytics"]["cleanup_failures"] == 0
        assert done["analytics"]["durations_s"]["sandbox_start"]["n"] == 3

        items = (await client.get(f"{BASE}/evaluation/{evaluation['id']}/items")).json()
        by_name = {i["task_name"]: i for i in items["items"]}
        assert set(by_name) == {"base64-once", "patch-xss-handler", "sudoers-audit"}
        patch = by_name["patch-xss-handler"]
        assert patch["verdict"] == "passed"
        assert patch["verifier"]["exit_code"] == 0
        assert [step["kind"] for step in patch["trace"]] == ["command", "verifier"]
        assert patch["trace"][0]["exit_code"] == 0
        assert set(patch["timings"]) >= {"provisioning_s", "agent_s", "verifying_s"}

        listed = (await client.get(f"{BASE}/evaluation", params={"status": "completed"})).json()
        assert [e["id"] for e in listed["items"]] == [evaluation["id"]]


async def test_unknown_task_names_are_a_422_naming_them(assay: RunningAssay):
    async with assay.client(await assay.key(ORG, Role.MEMBER, workspace=WS1)) as client:
        response = await client.post(
            f"{BASE}/evaluation", json=_body(task_names=["base64-once", "no-such-task"])
        )
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == 422
        assert body["type"] == "validation_error"
        assert body["errors"][0]["loc"][-1] == "task_names"
        assert "no-such-task" in body["errors"][0]["msg"]
        assert (await client.get(f"{BASE}/evaluation")).json()["total"] == 0


async def test_the_unsafe_local_provider_is_refused_naming_the_field(assay: RunningAssay):
    async with assay.client(await assay.key(ORG, Role.MEMBER, workspace=WS1)) as client:
        response = await client.post(f"{BASE}/evaluation", json=_body(sandbox_provider="local"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"][-1] == "sandbox_provider"


async def test_another_workspace_is_403_and_another_organization_404(assay: RunningAssay):
    owner = await assay.key(ORG, Role.MEMBER, workspace=WS1)
    async with assay.client(owner) as client:
        created = (await client.post(f"{BASE}/evaluation", json=_body())).json()
    other_workspace = await assay.key(ORG, Role.ADMIN, workspace=WS2)
    other_org = await assay.key("globex", Role.ADMIN)
    async with assay.client(other_workspace) as client:
        forbidden = await client.get(f"{BASE}/evaluation/{created['id']}")
        assert forbidden.status_code == 403
        assert forbidden.json()["type"] == "forbidden"
        own = await client.get(f"/api/v1/org/{ORG}/ws/{WS2}/evaluation/{created['id']}")
        assert own.status_code == 404
    async with assay.client(other_org) as client:
        for path in (f"{BASE}/evaluation/{created['id']}", f"{BASE}/evaluation"):
            hidden = await client.get(path)
            assert hidden.status_code == 404
            assert hidden.json()["code"] == 404


async def test_cancel_then_delete(assay: RunningAssay):
    async with assay.client(await assay.key(ORG, Role.MEMBER, workspace=WS1)) as client:
        body = _body(
            agent_type="command",
            task_config={"agent_command": ["sleep", "20"]},
            task_names=["base64-once"],
        )
        created = (await client.post(f"{BASE}/evaluation", json=body)).json()
        cancelled = await client.post(f"{BASE}/evaluation/{created['id']}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        again = await client.post(f"{BASE}/evaluation/{created['id']}/cancel")
        assert again.status_code == 409
        deleted = await client.delete(f"{BASE}/evaluation/{created['id']}")
        assert deleted.status_code == 204
        gone = await client.get(f"{BASE}/evaluation/{created['id']}")
        assert gone.status_code == 404
