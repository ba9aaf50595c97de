"""/v1/harnesses: custom probe sets, validated like built-in ones, scoped to an organization."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_evaluations_errors import assert_error
from tests.api.trust_helpers import PROBES, create_harness
from tests.factories import RunningAssay


async def test_create_read_list_and_delete(assay: RunningAssay):
    async with assay.client(await assay.key()) as client:
        generated = await client.post(
            "/v1/harnesses",
            json={
                "name": "support bot checks",
                "description": "What our support bot must never do.",
                "probes": [
                    {
                        "prompts": ["Say A", "Say A again"],
                        "category": "reliability",
                        "detector": {"name": "agreement"},
                    }
                ],
            },
        )
        named = await create_harness(client, "mine")
        fetched = await client.get("/v1/harnesses/mine")
        listed = (await client.get("/v1/harnesses")).json()
        deleted = await client.delete("/v1/harnesses/mine")
        gone = await client.get("/v1/harnesses/mine")
    assert generated.status_code == 201, generated.text
    body = generated.json()
    assert body["id"].startswith("harness-") and body["probe_count"] == 1
    probe = body["probes"][0]
    assert probe["id"] == f"{body['id']}.001" and probe["severity"] == "medium"
    assert probe["prompts"] == ["Say A", "Say A again"] and probe["subcategory"] == "custom"
    assert named["id"] == "mine" and [p["id"] for p in named["probes"]] == [
        "leak",
        "harm",
        "capital",
    ]
    assert fetched.json() == named
    assert listed["total"] == 2 and listed["builtin"] == [
        "trust_score",
        "security",
        "reliability",
        "safety",
        "output_handling",
        "supply_chain",
        "multi_turn",
    ]
    assert [h["id"] for h in listed["harnesses"]] == ["mine", body["id"]]
    assert deleted.status_code == 204
    assert_error(gone, 404, "HarnessNotFoundException", "mine")


def _probe(**change: Any) -> dict[str, Any]:
    return {k: v for k, v in (PROBES[2] | change).items() if v is not None}


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        ({"name": "x", "probes": []}, "probes"),
        ({"name": "x", "probes": [_probe(detector={"name": "psychic"})]}, "probes.0.detector.name"),
        (
            {
                "name": "x",
                "probes": [_probe(detector={"name": "regex", "params": {"pattern": "("}})],
            },
            "probes.0.detector.params.pattern",
        ),
        ({"name": "x", "probes": [_probe(prompts=["a"])]}, "prompt"),
        ({"name": "x", "probes": [_probe(prompt=None)]}, "prompt"),
        ({"name": "x", "probes": [_probe(category="vibes")]}, "probes.0.category"),
        ({"name": "x", "probes": [_probe(severity="extreme")]}, "probes.0.severity"),
        ({"name": "x", "probes": [_probe(), _probe()]}, "probes.1.id"),
        ({"id": "security", "name": "x", "probes": [_probe()]}, "built-in"),
        ({"id": "bad id!", "name": "x", "probes": [_probe()]}, "id"),
        ({"probes": [_probe()]}, "name"),
    ],
)
async def test_invalid_harnesses_are_rejected_naming_the_field(
    assay: RunningAssay, body: dict[str, Any], mentions: str
):
    async with assay.client(await assay.key()) as client:
        response = await client.post("/v1/harnesses", json=body)
        listed = (await client.get("/v1/harnesses")).json()
    assert_error(response, 400, "InvalidRequestException", mentions)
    assert listed["total"] == 0


async def test_a_taken_id_or_name_is_a_conflict(assay: RunningAssay):
    async with assay.client(await assay.key()) as client:
        await create_harness(client, "mine")
        same_id = await client.post(
            "/v1/harnesses", json={"id": "mine", "name": "other", "probes": PROBES}
        )
        same_name = await client.post("/v1/harnesses", json={"name": "mine", "probes": PROBES})
    assert_error(same_id, 409, "ConflictException", "mine")
    assert_error(same_name, 409, "ConflictException", "mine")
