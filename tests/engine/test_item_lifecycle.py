"""Items walk their phases, end in every terminal state, wait for events, and release resources.

The lifecycle kind (``lifecycle_kind.py``) is installed as a real plugin; the server runs in a
thread on loopback and is driven over HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assay.engine.item import PHASE_VISIBLE_AFTER
from tests.engine.lifecycle import create_lifecycle, lifecycle_plugin
from tests.factories import RunningAssay, make_settings, serve_assay, wait_until

pytestmark = pytest.mark.timeout(60)


__all__ = ["lifecycle_plugin"]  # the fixture, used by name


@pytest.fixture
def lifecycle_assay(tmp_path: Path, lifecycle_plugin: Path) -> Iterator[RunningAssay]:
    with serve_assay(make_settings(tmp_path, poll_interval=0.05)) as running:
        yield running


async def _items(client: httpx.AsyncClient, evaluation_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/evaluations/{evaluation_id}/items")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def _settled(client: httpx.AsyncClient, evaluation_id: str) -> dict[str, Any]:
    """Wait until the evaluation's results are ready (terminal and summarised)."""

    async def ready() -> bool:
        return (await client.get(f"/v1/evaluations/{evaluation_id}/results")).status_code == 200

    await wait_until(ready, timeout=30)
    return dict((await client.get(f"/v1/evaluations/{evaluation_id}/items")).json())


async def test_phases_show_in_order_while_the_item_runs(lifecycle_assay: RunningAssay):
    phases = ["provisioning", "agent_running", "agent_finished", "verifying"]
    # A phase is stored once it lasted PHASE_VISIBLE_AFTER, at the next housekeeping round:
    # each phase lasts long enough to stay visible for most of a second after that, so a
    # poller slowed by a loaded machine still sees it.
    sleep_s = PHASE_VISIBLE_AFTER + 0.75
    evaluation_id = await create_lifecycle(
        lifecycle_assay.settings, sleep_in=phases, sleep_s=sleep_s
    )
    seen: list[str] = []
    async with lifecycle_assay.client(await lifecycle_assay.key()) as client:
        while not seen or seen[-1] != "passed":
            [item] = await _items(client, evaluation_id)
            if not seen or seen[-1] != item["state"]:
                seen.append(item["state"])
            await asyncio.sleep(0.02)
    assert [s for s in seen if s in phases] == phases
    assert seen[-1] == "passed"


ENDINGS = {
    "passed": {"end": "passed"},
    "failed": {"end": "failed"},
    "errored": {"end": "errored"},
    "infra_error": {"end": "infra_error"},
    "timed_out": {"sleep_in": ["agent_running"], "sleep_s": 10, "item_timeout_s": 0.5},
    "cancelled": {"sleep_in": ["agent_running"], "sleep_s": 10},
    "waiting": {"suspend": True},
}


@pytest.mark.parametrize("ending", list(ENDINGS))
async def test_resources_are_released_however_the_item_ends(
    lifecycle_assay: RunningAssay, tmp_path: Path, ending: str
):
    markers = tmp_path / "markers"
    markers.mkdir()
    evaluation_id = await create_lifecycle(
        lifecycle_assay.settings, resource_dir=str(markers), **ENDINGS[ending]
    )
    async with lifecycle_assay.client(await lifecycle_assay.key()) as client:
        if ending == "cancelled":
            await wait_until(lambda: _state_is(client, evaluation_id, "agent_running"))
            cancel = await client.post(f"/v1/evaluations/{evaluation_id}/cancel")
            assert cancel.status_code == 200, cancel.text
        await wait_until(lambda: _state_is(client, evaluation_id, ending), timeout=20)
        [item] = await _items(client, evaluation_id)

    assert (markers / f"{item['id']}.acquired").exists()
    await wait_until(_exists(markers / f"{item['id']}.released"), timeout=5)


def _exists(path: Path) -> Any:
    async def check() -> bool:
        return path.exists()

    return check


async def _state_is(client: httpx.AsyncClient, evaluation_id: str, state: str) -> bool:
    return [i["state"] for i in await _items(client, evaluation_id)] == [state]


async def test_a_failing_release_is_counted_and_keeps_the_outcome(
    lifecycle_assay: RunningAssay, tmp_path: Path
):
    async def failures(client: httpx.AsyncClient) -> float:
        metrics = (await client.get("/metrics")).text
        line = next(
            line
            for line in metrics.splitlines()
            if line.startswith("assay_resource_cleanup_failures_total ")
        )
        return float(line.split()[1])

    async with lifecycle_assay.client(await lifecycle_assay.key()) as client:
        before = await failures(client)
        evaluation_id = await create_lifecycle(
            lifecycle_assay.settings, resource_dir=str(tmp_path), resource_fails=True
        )
        [item] = (await _settled(client, evaluation_id))["items"]
        assert item["state"] == "passed"
        assert await failures(client) == before + 1


async def test_a_waiting_item_holds_no_lease_and_its_evaluation_waits_for_verification(
    lifecycle_assay: RunningAssay,
):
    evaluation_id = await create_lifecycle(lifecycle_assay.settings, suspend=True, items=2)
    async with lifecycle_assay.client(await lifecycle_assay.key()) as client:

        async def waiting() -> bool:
            status = (await client.get(f"/v1/evaluations/{evaluation_id}")).json()["status"]
            return status == "waiting_verification"

        await wait_until(waiting)
        items = await _items(client, evaluation_id)
        assert [i["state"] for i in items] == ["waiting", "waiting"]
        assert all(i["waiting_for"] == "a test event" and i["waiting_since"] for i in items)

        first = items[0]["id"]
        sent = await client.post(
            f"/v1/evaluations/{evaluation_id}/items/{first}/events",
            json={"type": "continue", "data": {"note": "go on"}},
        )
        assert sent.status_code == 202, sent.text
        assert sent.json()["state"] in ("queued", "claiming", "provisioning", "agent_running")

        async def first_done() -> bool:
            return [i["state"] for i in await _items(client, evaluation_id)] == [
                "passed",
                "waiting",
            ]

        await wait_until(first_done)
        await wait_until(waiting)

        again = await client.post(
            f"/v1/evaluations/{evaluation_id}/items/{first}/events", json={"type": "continue"}
        )
        assert again.status_code == 409, again.text
        wrong_type = await client.post(
            f"/v1/evaluations/{evaluation_id}/items/{items[1]['id']}/events",
            json={"type": "approve"},
        )
        assert wrong_type.status_code == 400, wrong_type.text
        assert wrong_type.json()["errors"][0]["loc"][-1] == "type"


async def test_a_wait_past_its_deadline_resumes_with_a_timer_and_the_kind_decides(
    lifecycle_assay: RunningAssay,
):
    evaluation_id = await create_lifecycle(lifecycle_assay.settings, suspend=True, wait_s=0.5)
    async with lifecycle_assay.client(await lifecycle_assay.key()) as client:
        [item] = (await _settled(client, evaluation_id))["items"]
        status = (await client.get(f"/v1/evaluations/{evaluation_id}")).json()["status"]
    assert item["state"] == "failed"
    assert status == "completed"


async def test_events_for_another_organizations_item_are_not_found(
    lifecycle_assay: RunningAssay,
):
    evaluation_id = await create_lifecycle(lifecycle_assay.settings, suspend=True)
    async with lifecycle_assay.client(await lifecycle_assay.key()) as client:
        await wait_until(lambda: _state_is(client, evaluation_id, "waiting"))
        [item] = await _items(client, evaluation_id)
    async with lifecycle_assay.client(await lifecycle_assay.key(org="other")) as other:
        sent = await other.post(
            f"/v1/evaluations/{evaluation_id}/items/{item['id']}/events", json={"type": "continue"}
        )
        listed = await other.get(f"/v1/evaluations/{evaluation_id}/items")
    assert sent.status_code == 404 and listed.status_code == 404
