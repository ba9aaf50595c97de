"""The operator's provider limits (``ASSAY_PROVIDER_LIMITS``) on the engine's provider pool.

Calls go through ``ProviderPool`` (where the engine gets every provider) to the fake OpenAI
server, which records when each request arrived and how many it had in flight at once. Two
pools on one Redis stand for two worker processes; the test across real worker processes is
in ``tests/engine/test_celery_workers.py``.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from assay.core.llm import ChatMessage, ChatRequest
from assay.core.spec import ModelRef
from assay.engine.runtime import ProviderPool
from assay.settings import Settings
from tests.factories import free_port, make_settings
from tests.fakes.openai_server import FakeLLM


async def call_many(pools: list[ProviderPool], url: str, calls: int) -> list[str]:
    """``calls`` chat completions at once, spread over ``pools``; their answers."""
    ref = ModelRef(provider="openai", model="m", base_url=url)
    request = ChatRequest(messages=[ChatMessage(role="user", content="hi")])
    providers = [pool.get(ref) for pool in pools]
    responses = await asyncio.gather(
        *(providers[i % len(providers)].generate(request) for i in range(calls))
    )
    return [r.text for r in responses]


def limited_pools(settings: Settings, count: int = 1) -> list[ProviderPool]:
    return [ProviderPool(settings) for _ in range(count)]


async def close(pools: list[ProviderPool]) -> None:
    for pool in pools:
        await pool.aclose()


@pytest.mark.parametrize(
    ("rules", "most"),
    [
        ({"openai": {"concurrency": 2}}, 2),
        # The base URL's rule wins over the provider's.
        ({"openai": {"concurrency": 5}, "URL": {"concurrency": 1}}, 1),
    ],
)
async def test_a_concurrency_rule_caps_calls_in_flight(
    tmp_path: Path, fake_llm: FakeLLM, rules: dict[str, Any], most: int
):
    fake_llm.latency = 0.2
    rules = {(fake_llm.url + "/" if k == "URL" else k): v for k, v in rules.items()}
    pools = limited_pools(make_settings(tmp_path, provider_limits=rules))
    try:
        answers = await call_many(pools, fake_llm.url, 6)
    finally:
        await close(pools)
    assert answers == ["echo: hi"] * 6
    assert fake_llm.max_in_flight == most


async def test_a_rule_for_another_provider_leaves_calls_unlimited(
    tmp_path: Path, fake_llm: FakeLLM
):
    fake_llm.latency = 0.5
    settings = make_settings(tmp_path, provider_limits={"anthropic": {"concurrency": 1}})
    pools = limited_pools(settings)
    try:
        await call_many(pools, fake_llm.url, 6)
    finally:
        await close(pools)
    assert fake_llm.max_in_flight > 1


async def test_two_pools_on_one_redis_share_the_rate_and_the_slots(
    tmp_path: Path, fake_llm: FakeLLM, redis_url: str
):
    fake_llm.latency = 0.05
    rules = {fake_llm.url: {"rate": "4 per 2 seconds", "concurrency": 1}}
    settings = make_settings(
        tmp_path, provider_limits=rules, provider_limits_storage=f"{redis_url}/0"
    )
    pools = limited_pools(settings, count=2)
    try:
        answers = await call_many(pools, fake_llm.url, 10)
    finally:
        await close(pools)
    assert answers == ["echo: hi"] * 10
    assert fake_llm.max_in_flight == 1, "one slot for both pools"
    # Counted when sent: a 0.5 s margin for the requests' own time on the way (a new
    # connection on a loaded machine).
    assert fake_llm.most_in_window(1.5) <= 4, fake_llm.arrivals


async def test_an_unreachable_limit_storage_lets_calls_through_with_a_warning(
    tmp_path: Path, fake_llm: FakeLLM, caplog: pytest.LogCaptureFixture
):
    rules = {"openai": {"rate": "1/minute", "concurrency": 1}}
    settings = make_settings(
        tmp_path,
        provider_limits=rules,
        provider_limits_storage=f"redis://127.0.0.1:{free_port()}/0",
    )
    pools = limited_pools(settings)
    caplog.set_level(logging.WARNING, logger="assay.providers.call_limits")
    try:
        answers = await call_many(pools, fake_llm.url, 3)
    finally:
        await close(pools)
    assert answers == ["echo: hi"] * 3
    assert "provider limit storage failed" in caplog.text


def test_provider_limits_are_read_from_the_environment_as_json(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv(
        "ASSAY_PROVIDER_LIMITS", '{"openai": {"rate": "500/minute", "concurrency": 20}}'
    )
    rule = Settings().provider_limits["openai"]
    assert (rule.rate, rule.concurrency) == ("500/minute", 20)


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ({"openai": {"rate": "often"}}, "rate"),
        ({"openai": {"concurrency": 0}}, "concurrency"),
        ({"openai": {"burst": 3}}, "burst"),
    ],
)
def test_a_bad_provider_limit_is_refused_naming_its_field(rules: dict[str, Any], field: str):
    with pytest.raises(ValidationError) as raised:
        Settings(provider_limits=rules)
    assert "provider_limits" in str(raised.value) and field in str(raised.value)


def test_a_limit_storage_that_is_not_memory_or_redis_is_refused():
    with pytest.raises(ValidationError, match="provider_limits_storage"):
        Settings(provider_limits_storage="http://127.0.0.1:6379")
