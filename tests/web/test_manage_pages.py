"""The management pages over HTTP: each obeys the API's tenancy and roles.

A member registers and deletes what evaluations use; a reviewer sees the same lists
without forms and is refused a change; keys and the webhook secret are for admins.
"""

from __future__ import annotations

import httpx
import pytest

from assay.core.principal import Role
from assay.services.keys import hash_key
from tests.api.trust_helpers import PROBES
from tests.factories import RunningAssay
from tests.web.helpers import csrf_of, signed_in

pytestmark = pytest.mark.timeout(90)


async def _post(ui: httpx.AsyncClient, path: str, **fields: str) -> httpx.Response:
    csrf = csrf_of((await ui.get("/ui/manage")).text)
    return await ui.post(path, data={"csrf": csrf, **fields})


async def test_the_project_page_shows_its_default_attacker_but_never_its_key(
    assay: RunningAssay,
):
    admin = await assay.key()
    async with signed_in(assay, admin) as ui:
        assert (
            "attacker scripted (built in, offline)"
            in (await ui.get("/ui/manage/projects/default")).text
        )
    async with assay.client(admin) as api:
        attacker = {"provider": "openai", "model": "red-team-1", "apiKey": "sk-attacker-shh-31"}
        updated = await api.put(
            "/api/projects/default", json={"llmSettings": {"attacker": attacker}}
        )
        assert updated.status_code == 200, updated.text
    async with signed_in(assay, admin) as ui:
        page = (await ui.get("/ui/manage/projects/default")).text
    assert "attacker openai/red-team-1 (with a key of its own)" in page
    assert "sk-attacker-shh-31" not in page


async def test_a_member_registers_and_deletes_agents_and_harnesses_a_reviewer_only_reads(
    assay: RunningAssay,
):
    member = await assay.key(role=Role.MEMBER)
    reviewer = await assay.key(role=Role.REVIEWER)
    async with signed_in(assay, member) as ui:
        bad = await _post(ui, "/ui/manage/agents", kind="openai-chat", config="{not json")
        assert bad.status_code == 422 and "config: is not valid JSON" in bad.text
        created = await _post(
            ui,
            "/ui/manage/agents",
            kind="http",
            id="echo-agent",
            config='{"url": "https://agent.example/run"}',
            secrets='{"headers": {"X-Token": "tok-secret-991"}}',
        )
        assert created.status_code == 303, created.text
        listed = await ui.get("/ui/manage/agents")
        assert "echo-agent" in listed.text and "https://agent.example/run" in listed.text
        assert "tok-secret-991" not in listed.text  # secrets: names only
        taken = await _post(
            ui,
            "/ui/manage/agents",
            kind="http",
            id="echo-agent",
            config='{"url": "https://agent.example/other"}',
        )
        assert taken.status_code == 409 and "already exists" in taken.text

        probes = httpx.Response(200, json=PROBES).text
        harness = await _post(ui, "/ui/manage/harnesses", name="three", id="three", probes=probes)
        assert harness.status_code == 303, harness.text
        assert "<code>three</code>" in (await ui.get("/ui/manage/harnesses")).text

    async with signed_in(assay, reviewer) as ui:
        page = await ui.get("/ui/manage/agents")
        assert page.status_code == 200 and "echo-agent" in page.text
        assert "Register an agent" not in page.text and "can read these" in page.text
        refused = await _post(ui, "/ui/manage/agents/echo-agent/delete")
        assert refused.status_code == 403
        refused = await _post(ui, "/ui/manage/harnesses", name="x", probes=probes)
        assert refused.status_code == 403
        assert (await ui.get("/ui/manage/keys")).status_code == 403
        assert (await ui.get("/ui/manage/webhooks")).status_code == 403

    async with signed_in(assay, member) as ui:
        assert (await _post(ui, "/ui/manage/agents/echo-agent/delete")).status_code == 303
        assert (await _post(ui, "/ui/manage/harnesses/three/delete")).status_code == 303
        assert "echo-agent" not in (await ui.get("/ui/manage/agents")).text
        assert "<code>three</code>" not in (await ui.get("/ui/manage/harnesses")).text


async def test_project_resources_and_benchmark_resources_are_created_from_their_pages(
    assay: RunningAssay,
):
    member = await assay.key(role=Role.MEMBER)
    other = await assay.key(org="other-org")
    async with signed_in(assay, member) as ui:
        projects = await ui.get("/ui/manage/projects")
        assert projects.status_code == 200
        base = "/ui/manage/projects/default"
        assert (
            await _post(ui, f"{base}/personas", name="Ann", description="In a hurry")
        ).status_code == 303
        no_name = await _post(ui, f"{base}/personas", description="nameless")
        assert no_name.status_code == 422 and "name: is required" in no_name.text
        page = await ui.get(base)
        [persona_id] = [
            line.split('value="')[1].split('"')[0]
            for line in page.text.splitlines()
            if 'name="persona_ids"' in line
        ] or [""]
        too_long = await ui.post(
            f"{base}/scenarios",
            data={
                "csrf": csrf_of(page.text),
                "name": "Cancel",
                "instructions": "Cancel booking B1",
                "max_messages": "500",
                "persona_ids": persona_id,
            },
        )
        assert too_long.status_code == 422 and "max_messages" in too_long.text
        scenario = await ui.post(
            f"{base}/scenarios",
            data={
                "csrf": csrf_of(page.text),
                "name": "Cancel",
                "instructions": "Cancel booking B1",
                "persona_ids": persona_id,
            },
        )
        assert scenario.status_code == 303, scenario.text
        connector = await _post(
            ui,
            f"{base}/connectors",
            name="Booking agent",
            type="openai-chat",
            base_url="https://agent.example/v1",
            config='{"model": "booker"}',
            api_key="sk-connector-secret-4",
        )
        assert connector.status_code == 303, connector.text
        private = await _post(
            ui,
            f"{base}/connectors",
            name="Inside",
            type="openai-chat",
            base_url="http://10.1.2.3/v1",
        )
        assert private.status_code in (400, 422) and "base_url" in private.text
        assert 'id="connector-name"' in private.text  # shown beside the form to fix it
        page = await ui.get(base)
        assert "Booking agent" in page.text and "sk-connector-secret-4" not in page.text
        assert "Create eval" in page.text and "Cancel booking B1" in page.text

        unknown = await _post(
            ui, f"{base}/settings", simulator_provider="nowhere", simulator_model="m"
        )
        assert unknown.status_code == 422 and "llm_settings.simulator.provider" in unknown.text
        saved = await _post(
            ui,
            f"{base}/settings",
            name="Bookings",
            judge_provider="mock",
            judge_model="judge-2",
            api_key="sk-project-key-77",
        )
        assert saved.status_code == 303, saved.text
        page = await ui.get(base)
        assert "<h1>Bookings</h1>" in page.text and "judge mock/judge-2" in page.text
        assert "one is stored" in page.text and "sk-project-key-77" not in page.text

        benchmarks = await ui.get("/ui/manage/benchmarks")
        assert benchmarks.status_code == 200 and "Datasets (0)" in benchmarks.text
        runtime = await _post(
            ui, "/ui/manage/benchmarks/default/runtimes", name="box", config='{"provider": "nope"}'
        )
        assert runtime.status_code == 422 and "unknown provider" in runtime.text
        runtime = await _post(
            ui, "/ui/manage/benchmarks/default/runtimes", name="box", config='{"provider": "bwrap"}'
        )
        assert runtime.status_code == 303, runtime.text
        assert "Runtimes (1)" in (await ui.get("/ui/manage/benchmarks?workspace=default")).text
        missing = await ui.get("/ui/manage/benchmarks?workspace=nowhere")
        assert missing.status_code == 404

    async with signed_in(assay, other) as ui:
        assert (await ui.get("/ui/manage/projects/default")).status_code == 200
        assert "Booking agent" not in (await ui.get("/ui/manage/projects/default")).text


async def test_an_admin_creates_and_revokes_keys_and_reads_the_webhook_secret(
    assay: RunningAssay,
):
    admin = await assay.key()
    async with signed_in(assay, admin) as ui:
        created = await _post(ui, "/ui/manage/keys", role="reviewer", workspace="", user="")
        assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
        new_key = created.text.split('id="new-key" class="wide" readonly value="')[1].split('"')[0]
        assert new_key.startswith("assay_")
        listed = (await ui.get("/ui/manage/keys")).text
        assert new_key not in listed and hash_key(new_key) not in listed
        assert new_key[:10] in listed
        unknown_user = await _post(ui, "/ui/manage/keys", user="ghost@example.com")
        assert unknown_user.status_code == 404 and "ghost@example.com" in unknown_user.text

        async with assay.client(new_key) as api:
            assert (await api.get("/v1/agents")).status_code == 200
            key_id = next(
                k["id"]
                for k in (
                    await ui.get("/v1/keys", headers={"Authorization": f"Bearer {admin}"})
                ).json()["data"]
                if k["prefix"] == new_key[:10]
            )
            revoked = await _post(ui, f"/ui/manage/keys/{key_id}/revoke")
            assert revoked.status_code == 303
            assert (await api.get("/v1/agents")).status_code == 401

        webhooks = await ui.get("/ui/manage/webhooks")
        assert webhooks.status_code == 200 and "Show the signing secret" in webhooks.text
        shown = await _post(ui, "/ui/manage/webhooks/secret")
        assert shown.status_code == 200 and 'id="webhook-secret"' in shown.text
    workspace_admin = await assay.key(workspace="team-a")
    async with signed_in(assay, workspace_admin) as ui:
        assert (await ui.get("/ui/manage/webhooks")).status_code == 403
        assert (await ui.get("/ui/manage/keys")).status_code == 200
