"""ASSAY_RATE_LIMIT: each API key's requests are counted; over the limit is a 429 with
Retry-After in the dialect's envelope. Memory storage counts per process, Redis across them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.api.app import create_app
from tests.factories import RunningAssay, make_settings, serve_assay

LIMIT = 3


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    return str(request.getfixturevalue("redis_url"))


@pytest.fixture
def limited(tmp_path: Path, storage: str) -> Iterator[RunningAssay]:
    settings = make_settings(tmp_path, rate_limit=f"{LIMIT}/minute", rate_limit_storage=storage)
    with serve_assay(settings, run_workers=False) as running:
        yield running


async def test_a_key_over_its_limit_gets_429_with_retry_after(limited: RunningAssay):
    async with limited.client(await limited.key(org="busy")) as busy:
        answers = [await busy.get("/v1/harnesses") for _ in range(LIMIT)]
        over = await busy.get("/v1/harnesses")
    async with limited.client(await limited.key(org="calm")) as calm:
        other = await calm.get("/v1/harnesses")
    assert [a.status_code for a in answers] == [200] * LIMIT
    assert over.status_code == 429, over.text
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    body = over.json()
    assert body["code"] == 429 and body["type"] == "RateLimitExceededException"
    assert "ASSAY_RATE_LIMIT" in body["detail"]
    assert other.status_code == 200, "another key's budget is its own"


@pytest.mark.parametrize(
    ("path", "key", "shape"),
    [
        ("/v1/agents", "type", "rate_limited"),
        ("/eval-runs", "detail", None),
        ("/api/projects/default/evals", "error", None),
    ],
)
async def test_the_429_is_in_each_dialects_envelope(
    limited: RunningAssay, path: str, key: str, shape: str | None
):
    async with limited.client(await limited.key()) as client:
        for _ in range(LIMIT):
            await client.get(path)
        over = await client.get(path)
    assert over.status_code == 429, over.text
    assert int(over.headers["Retry-After"]) >= 1
    value = over.json()[key]
    assert value == shape if shape else "over its limit" in value


async def test_requests_without_a_valid_key_are_not_counted(limited: RunningAssay):
    key = await limited.key()
    async with limited.client("assay_not-a-key") as stranger:
        refused = [(await stranger.get("/v1/harnesses")).status_code for _ in range(2 * LIMIT)]
    async with limited.client(None) as anonymous:
        refused += [(await anonymous.get("/v1/harnesses")).status_code for _ in range(LIMIT)]
    async with limited.client(key) as client:
        mine = [(await client.get("/v1/harnesses")).status_code for _ in range(LIMIT + 1)]
    assert set(refused) == {401}
    assert mine == [200] * LIMIT + [429], "the key's whole budget was its own"


async def test_servers_sharing_redis_share_one_limit(tmp_path: Path, redis_url: str):
    settings = make_settings(tmp_path, rate_limit=f"{LIMIT}/minute", rate_limit_storage=redis_url)
    with serve_assay(settings, run_workers=False) as first:
        key = await first.key()
        with serve_assay(settings, run_workers=False) as second:
            async with first.client(key) as one, second.client(key) as two:
                statuses = [
                    (await (one if n % 2 else two).get("/v1/harnesses")).status_code
                    for n in range(LIMIT + 1)
                ]
    assert statuses == [200] * LIMIT + [429]


@pytest.mark.parametrize("storage_url", ["foo://x", "redis://:bad-port:x"])
async def test_a_bad_rate_limit_storage_is_an_error_at_start_not_on_requests(
    tmp_path: Path, storage_url: str
):
    """The limiter is built when the server starts, so a bad storage never reaches a request."""
    with pytest.raises(ValueError, match="rate_limit_storage|port"):
        app = create_app(make_settings(tmp_path, rate_limit_storage=storage_url), run_workers=False)
        async with app.router.lifespan_context(app):
            pass
