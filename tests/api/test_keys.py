"""Listing and revoking API keys: admins only, never a key or its hash; revoked through the
API means 401 now, through another process (the CLI) within the key cache's second."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.core.principal import Role
from assay.services.key_cache import KEY_CACHE_SECONDS
from assay.services.keys import hash_key
from tests.checkpoints.test_review_cli import assay as _assay
from tests.factories import RunningAssay, assay_env, make_settings, serve_assay, wait_until

pytestmark = pytest.mark.timeout(120)


async def test_an_admin_lists_and_revokes_keys_and_the_revoked_key_is_refused_at_once(
    assay: RunningAssay,
):
    admin = await assay.key()
    member = await assay.key(role=Role.MEMBER)
    scoped = await assay.key(workspace="team-a")
    theirs = await assay.key(org="other-org")
    async with assay.client(admin) as client:
        listed = await client.get("/v1/keys")
        assert listed.status_code == 200, listed.text
        body = listed.json()
        text = listed.text
        for key in (admin, member, scoped):
            assert key not in text and hash_key(key) not in text
        assert body["total"] == 3 == len(body["data"])
        by_prefix = {k["prefix"]: k for k in body["data"]}
        assert by_prefix[member[:10]]["role"] == "member"
        assert by_prefix[scoped[:10]]["workspace"] == "team-a"
        assert theirs[:10] not in by_prefix
        member_id = by_prefix[member[:10]]["id"]

        async with assay.client(member) as as_member:
            assert (await as_member.get("/v1/agents")).status_code == 200
            refused = await as_member.get("/v1/keys")
            assert refused.status_code == 403 and "admin" in refused.json()["detail"]
            assert (await as_member.post(f"/v1/keys/{member_id}/revoke")).status_code == 403

            revoked = await client.post(f"/v1/keys/{member_id}/revoke")
            assert revoked.status_code == 200, revoked.text
            assert revoked.json()["revoked_at"] is not None
            assert (await as_member.get("/v1/agents")).status_code == 401
        again = await client.post(f"/v1/keys/{member_id}/revoke")
        assert again.json()["revoked_at"] == revoked.json()["revoked_at"]

        async with assay.client(theirs) as other:
            foreign = (await other.get("/v1/keys")).json()["data"]
            assert (await client.post(f"/v1/keys/{foreign[0]['id']}/revoke")).status_code == 404
        assert (await client.post("/v1/keys/no-such-key/revoke")).status_code == 404
        assert (await client.get("/v1/agents")).status_code == 200

    async with assay.client(scoped) as workspace_admin:
        mine = (await workspace_admin.get("/v1/keys")).json()["data"]
        assert [k["prefix"] for k in mine] == [scoped[:10]]
        outside = await workspace_admin.post(f"/v1/keys/{by_prefix[admin[:10]]['id']}/revoke")
        assert outside.status_code == 404


async def test_keys_list_and_revoke_on_the_command_line(tmp_path: Path):
    settings = make_settings(tmp_path)
    env = assay_env(settings)
    created = _assay(env, "keys", "create", "--org", "acme", "--role", "reviewer")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    listed = _assay(env, "keys", "list", "--org", "acme")
    assert listed.returncode == 0, listed.stderr
    assert key not in listed.stdout and hash_key(key) not in listed.stdout
    [line] = listed.stdout.strip().splitlines()
    key_id = line.split()[0]
    assert f"{key[:10]}..." in line and "reviewer" in line and line.endswith("active")
    with serve_assay(settings) as server:
        async with server.client(key) as client:
            assert (await client.get("/v1/agents")).status_code == 200
            revoked = _assay(env, "keys", "revoke", key_id, "--org", "acme")
            assert revoked.returncode == 0, revoked.stderr
            assert "revoked" in revoked.stdout

            # Revoked by another process, the key stops within the server's key cache time.
            async def refused() -> bool:
                return (await client.get("/v1/agents")).status_code == 401

            await wait_until(refused, timeout=KEY_CACHE_SECONDS + 2, interval=0.1)
    elsewhere = _assay(env, "keys", "revoke", key_id, "--org", "nowhere")
    assert elsewhere.returncode == 2 and "nowhere" in elsewhere.stderr
    assert "revoked" in _assay(env, "keys", "list", "--org", "acme").stdout
