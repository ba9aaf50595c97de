"""Seed 002's workspace resources: datasets (JSON), runtimes, write-only sandbox secrets."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from assay.core.principal import Role
from assay.settings import get_settings
from assay.store.db import create_engine
from assay.store.tables import BenchSecret
from tests.factories import RunningAssay, make_settings, serve_assay, wait_until

pytestmark = pytest.mark.timeout(90)

ORG, WS1, WS2 = "acme", "red-team", "blue-team"
BASE = f"/api/v1/org/{ORG}/ws/{WS1}"
VALUE = "sk-live-" + uuid.uuid4().hex


@pytest.fixture
def assay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, any_database_url: str
) -> Iterator[RunningAssay]:
    monkeypatch.setenv("ASSAY_SANDBOX_ROOT", str(tmp_path / "sandboxes"))
    get_settings.cache_clear()
    with serve_assay(make_settings(tmp_path, database_url=any_database_url)) as running:
        yield running
    get_settings.cache_clear()


def _task(name: str = "token-check") -> dict[str, Any]:
    return {
        "name": name,
        "instruction": "Put the API token in answer.txt.",
        "capability": "secrets",
        "difficulty": "easy",
        "solution": 'printf %s "$API_TOKEN" > answer.txt\n',
        "verifier": {
            "type": "test",
            "script": '[ -n "$API_TOKEN" ] && [ "$(cat answer.txt)" = "$API_TOKEN" ]\n',
        },
    }


async def _finished(client: httpx.AsyncClient, evaluation_id: str) -> dict[str, Any]:
    async def ready() -> bool:
        got = (await client.get(f"{BASE}/evaluation/{evaluation_id}")).json()
        return bool(got["analytics"]["status"] == "ready")

    await wait_until(ready, timeout=60)
    return dict((await client.get(f"{BASE}/evaluation/{evaluation_id}/items")).json())


async def test_a_secret_is_write_only_encrypted_injected_and_redacted(assay: RunningAssay):
    async with assay.client(await assay.key(ORG, Role.MEMBER, workspace=WS1)) as client:
        created = await client.post(f"{BASE}/secrets", json={"name": "API_TOKEN", "value": VALUE})
        assert created.status_code == 201, created.text
        secret = created.json()
        listed = await client.get(f"{BASE}/secrets")
        assert VALUE not in created.text + listed.text
        assert [s["name"] for s in listed.json()] == ["API_TOKEN"]
        again = await client.post(f"{BASE}/secrets", json={"name": "API_TOKEN", "value": "x"})
        assert again.status_code == 409
        assert again.json()["type"] == "conflict"

        body = {
            "agent_type": "command",
            "dataset": {"tasks": [_task()]},
            "secret_ids": [secret["id"]],
            "task_config": {
                "agent_command": [
                    "sh",
                    "-c",
                    'printf %s "$API_TOKEN" > answer.txt; echo $API_TOKEN',
                ]
            },
        }
        evaluation = (await client.post(f"{BASE}/evaluation", json=body)).json()
        items = await _finished(client, evaluation["id"])
        [item] = items["items"]
        assert item["state"] == "passed"
        assert item["trace"][0]["stdout"].strip() != ""
        assert VALUE not in repr(items)

    db = create_engine(assay.settings.database_url)
    try:
        async with db.connect() as conn:
            stored = (await conn.execute(select(BenchSecret.value_enc))).scalars().all()
    finally:
        await db.dispose()
    assert len(stored) == 1
    assert VALUE not in stored[0]


async def test_a_json_dataset_is_versioned_and_runs_by_id(assay: RunningAssay):
    async with assay.client(await assay.key(ORG, Role.MEMBER, workspace=WS1)) as client:
        task = _task() | {"solution": "printf hello > answer.txt\n"}
        task["verifier"] = {"type": "flag", "flag": "hello"}
        made = await client.post(
            f"{BASE}/datasets", json={"name": "mine", "version": "1", "tasks": [task]}
        )
        assert made.status_code == 201, made.text
        dataset = made.json()
        assert dataset["task_names"] == ["token-check"]
        duplicate = await client.post(
            f"{BASE}/datasets", json={"name": "mine", "version": "1", "tasks": [task]}
        )
        assert duplicate.status_code == 409
        broken = await client.post(
            f"{BASE}/datasets",
            json={
                "name": "mine",
                "version": "2",
                "tasks": [{**task, "verifier": {"type": "flag"}}],
            },
        )
        assert broken.status_code == 422
        assert broken.json()["errors"][0]["loc"][:3] == ["tasks", 0, "verifier"]

        body = {"agent_type": "oracle", "dataset": {"id": dataset["id"], "version": "1"}}
        evaluation = (await client.post(f"{BASE}/evaluation", json=body)).json()
        [item] = (await _finished(client, evaluation["id"]))["items"]
        assert item["state"] == "passed"

    async with assay.client(await assay.key(ORG, Role.MEMBER, workspace=WS2)) as other:
        base2 = f"/api/v1/org/{ORG}/ws/{WS2}"
        assert (await other.get(f"{base2}/datasets")).json() == []
        hidden = await other.post(
            f"{base2}/evaluation", json={"agent_type": "oracle", "dataset": {"id": dataset["id"]}}
        )
        assert hidden.status_code == 422
        assert hidden.json()["errors"][0]["loc"] == ["dataset", "id"]
        gone = await other.delete(f"{base2}/datasets/{dataset['id']}")
        assert gone.status_code == 404


async def test_a_runtime_limits_the_sandbox_of_an_evaluation(assay: RunningAssay):
    forker = (
        "import os, time\nn = 0\nfor _ in range(64):\n    try:\n        pid = os.fork()\n"
        "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(3)\n"
        "        os._exit(0)\n    n += 1\nprint(n)\nopen('answer.txt', 'w').write(str(n))\n"
    )
    async with assay.client(await assay.key(ORG, Role.MEMBER, workspace=WS1)) as client:
        unknown = await client.post(
            f"{BASE}/evaluation", json={"dataset": {"tasks": [_task()]}, "runtime_id": "nope"}
        )
        assert unknown.status_code == 422
        assert unknown.json()["errors"][0]["loc"] == ["runtime_id"]
        runtime = (await client.post(f"{BASE}/runtimes", json={"name": "tight", "pids": 12})).json()
        assert runtime["pids"] == 12
        assert runtime["provider"] == "bwrap"
        bad = await client.post(f"{BASE}/runtimes", json={"name": "x", "provider": "docker"})
        assert bad.status_code == 422
        body = {
            "agent_type": "command",
            "dataset": {"tasks": [_task()]},
            "runtime_id": runtime["id"],
            "task_config": {"agent_command": ["python3", "-c", forker]},
        }
        evaluation = (await client.post(f"{BASE}/evaluation", json=body)).json()
        [item] = (await _finished(client, evaluation["id"]))["items"]
        assert 0 < int(item["trace"][0]["stdout"]) < 12
        deleted = await client.delete(f"{BASE}/runtimes/{runtime['id']}")
        assert deleted.status_code == 204
        assert (await client.get(f"{BASE}/runtimes")).json() == []


async def test_a_tar_gz_upload_becomes_a_dataset_that_runs(assay: RunningAssay):
    from tests.tasks.test_archives import _shipped, _tar

    archive = _tar(_shipped("base64-once", "") | _shipped("patch-xss-handler", ""))
    async with assay.client(await assay.key(ORG, Role.MEMBER, workspace=WS1)) as client:
        made = await client.post(
            f"{BASE}/datasets/upload",
            params={"name": "uploaded", "version": "2"},
            content=archive,
            headers={"Content-Type": "application/gzip"},
        )
        assert made.status_code == 201, made.text
        assert made.json()["task_names"] == ["base64-once", "patch-xss-handler"]
        garbage = await client.post(
            f"{BASE}/datasets/upload", params={"name": "x"}, content=b"garbage"
        )
        assert garbage.status_code == 422
        assert garbage.json()["errors"][0]["loc"] == ["archive"]
        body = {"agent_type": "oracle", "dataset": {"id": made.json()["id"]}}
        evaluation = (await client.post(f"{BASE}/evaluation", json=body)).json()
        items = (await _finished(client, evaluation["id"]))["items"]
        assert [i["state"] for i in items] == ["passed", "passed"]
