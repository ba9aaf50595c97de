"""`assay view DB` serves the UI over what `assay quickstart` stored, without sign-in, read-only."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.factories import assay_env, assay_process, free_port, make_settings, wait_until


async def test_view_shows_a_local_runs_evaluations_and_changes_nothing(tmp_path: Path):
    settings = make_settings(tmp_path)
    env = assay_env(settings)
    subprocess.run(
        [sys.executable, "-m", "assay", "quickstart", "--json"],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    database = Path(settings.database_url.removeprefix("sqlite+aiosqlite:///"))
    port = free_port()
    log = tmp_path / "view.log"
    env.pop("ASSAY_DATABASE_URL")
    with assay_process(["view", str(database), "--port", str(port)], env, log):
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:

            async def up() -> bool:
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_until(up, timeout=60)
            listing = await client.get("/ui/evaluations", params={"kind": "accuracy"})
            assert listing.status_code == 200
            assert "local, read-only" in listing.text
            ids = re.findall(r'href="/ui/evaluations/([0-9a-f-]{36})"', listing.text)
            assert ids and "<td>accuracy</td>" in listing.text
            assert "<td>agent_as_judge</td>" not in listing.text
            page = await client.get(f"/ui/evaluations/{ids[0]}")
            assert page.status_code == 200 and "95% interval" in page.text
            assert "/delete" not in page.text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            token = csrf.group(1) if csrf else ""
            refused = await client.post(f"/ui/evaluations/{ids[0]}/delete", data={"csrf": token})
            assert refused.status_code == 403
            assert (await client.get(f"/ui/evaluations/{ids[0]}")).status_code == 200
    assert f"http://127.0.0.1:{port}/ui/evaluations" in log.read_text()
