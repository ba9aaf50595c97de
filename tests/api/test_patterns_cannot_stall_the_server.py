"""A tenant's regular expression cannot freeze the server for everyone else.

``^(a+)+$`` against 28 ``a``s and a ``!`` backtracks for about 17 s under Python's ``re``,
holding the GIL, so every request of every organization waited. Tenant patterns now run on
RE2 (linear time) off the event loop; patterns RE2 cannot run are refused when saved.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from tests.api.test_evaluations_errors import assert_error
from tests.api.trust_helpers import create_harness, model_request, wait_for_status
from tests.factories import RunningAssay
from tests.fakes.openai_server import FakeLLM, FakeReply

log = logging.getLogger(__name__)

EVIL = r"^(a+)+$"
#: ``re`` backtracks through about 2**28 paths (17 s here); RE2 answers in microseconds.
ANSWER = "a" * 28 + "!"
#: What "answers promptly" means for a list request here: typically under 0.1 s, with room
#: for a loaded 2-core machine; the old code stalled every request for 17-26 s.
PROMPT_SECONDS = 3.0


def _regex_probe(index: int, pattern: str = EVIL) -> dict[str, Any]:
    return {
        "id": f"evil-{index}",
        "category": "reliability",
        "prompt": "Say a lot of a's.",
        "detector": {"name": "regex", "params": {"pattern": pattern}},
    }


async def _longest_wait(assay: RunningAssay, key: str, stop: asyncio.Event) -> float:
    """Poll a list as another organization until ``stop``; the slowest answer, in seconds."""
    longest = 0.0
    async with assay.client(key) as client:
        while not stop.is_set():
            started = time.perf_counter()
            answer = await client.get("/v1/harnesses")
            assert answer.status_code == 200, answer.text
            longest = max(longest, time.perf_counter() - started)
            await asyncio.sleep(0.01)
    return longest


async def test_a_backtracking_pattern_neither_stalls_the_run_nor_other_tenants(
    assay: RunningAssay, fake_llm: FakeLLM
):
    fake_llm.handler = lambda _body: FakeReply(content=ANSWER)
    other_key = await assay.key(org="bystander")
    stop = asyncio.Event()
    async with assay.client(await assay.key(org="attacker")) as client:
        # A first, harmless run loads the model SDK (an import of about a second that holds
        # the GIL once per process), so what is measured below is the pattern alone.
        await create_harness(client, "warm-up", [_regex_probe(0, "a+!")])
        warm_up = await client.post("/v1/evaluations", json=model_request(fake_llm, ["warm-up"]))
        await wait_for_status(client, warm_up.json()["id"], "completed")
        await create_harness(client, "evil", [_regex_probe(i) for i in range(2)])
        watcher = asyncio.create_task(_longest_wait(assay, other_key, stop))
        started = time.perf_counter()
        created = await client.post("/v1/evaluations", json=model_request(fake_llm, ["evil"]))
        assert created.status_code == 200, created.text
        status = await wait_for_status(client, created.json()["id"], "completed", timeout=30)
        took = time.perf_counter() - started
        stop.set()
        longest = await watcher
        results = (await client.get(f"/v1/evaluations/{created.json()['id']}/results")).json()
    log.warning("longest stall %.3f s; evaluation %.3f s", longest, took)
    assert status["completed"] == 2
    assert results["reliability_score"] == 0.0
    assert all("does not match" in failure["reason"] for failure in results["failures"])
    assert longest < PROMPT_SECONDS, f"another organization waited {longest:.2f} s"
    assert took < 10, f"the evaluation took {took:.1f} s"


@pytest.mark.parametrize(
    ("pattern", "feature"),
    [(r"(a)\1", r"\1"), (r"secret(?=\d)", "(?="), (r"(?<!no )leak", "(?<"), (r"a{5000}", "5000")],
)
async def test_patterns_re2_cannot_run_are_refused_naming_the_field(
    assay: RunningAssay, pattern: str, feature: str
):
    async with assay.client(await assay.key()) as client:
        response = await client.post(
            "/v1/harnesses",
            json={"name": "x", "probes": [_regex_probe(0, "fine"), _regex_probe(1, pattern)]},
        )
        listed = (await client.get("/v1/harnesses")).json()
    assert_error(response, 400, "InvalidRequestException", "probes.1.detector.params.pattern")
    assert feature in response.json()["detail"] and "RE2" in response.json()["detail"]
    assert listed["total"] == 0
