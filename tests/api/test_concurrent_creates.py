"""Twenty creates of one id at once: exactly one 201 and nineteen 409s, on each database.

The services check "does it exist?" before inserting, but concurrent requests all pass that
check; the database's unique key then refuses all but one, and that refusal must be a 409.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.api.trust_helpers import PROBES
from tests.factories import make_settings, serve_assay

AGENT = {"id": "twin", "kind": "http", "config": {"url": "http://127.0.0.1:9/agent"}}
CREATES = [
    ("/v1/agents", AGENT, "/v1/agents"),
    ("/v1/harnesses", {"id": "twin", "name": "twin", "probes": PROBES}, "/v1/harnesses"),
]


@pytest.mark.parametrize(("path", "body", "listing"), CREATES, ids=["agent", "harness"])
async def test_concurrent_creates_of_one_key_are_one_created_and_conflicts(
    tmp_path: Path, any_database_url: str, path: str, body: dict[str, Any], listing: str
):
    settings = make_settings(tmp_path, database_url=any_database_url)
    with serve_assay(settings, run_workers=False) as assay:
        async with assay.client(await assay.key()) as client:
            responses = await asyncio.gather(*(client.post(path, json=body) for _ in range(20)))
            listed = (await client.get(listing)).json()
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: 19}, [r.text for r in responses if r.status_code != 201]
    for response in responses:
        if response.status_code == 409:
            assert response.json()["code"] == 409
    assert listed["total"] == 1
