"""``assay.Client`` against a real Assay server whose model under test is the fake LLM."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assay.client import (
    AgentNotFoundError,
    AuthenticationError,
    Client,
    EvaluationCancelledError,
    EvaluationNotFoundError,
    EvaluationStatus,
    HarnessNotFoundError,
    InvalidRequestError,
    InvalidStateError,
    ResultsNotReadyError,
    WaitTimeoutError,
)
from assay.probes.catalog import probes_for_harness
from tests.factories import RunningAssay, make_settings, serve_assay
from tests.fakes.openai_server import FakeLLM, FakeReply

pytestmark = pytest.mark.timeout(60)

#: A model the fake LLM answers slowly, so its evaluations stay running.
SLOW = "slow-model"
MODEL_KEY = "sk-client-secret"


@pytest.fixture
def server(tmp_path: Path, fake_llm: FakeLLM) -> Iterator[RunningAssay]:
    def reply(body: dict[str, Any]) -> FakeReply:
        slow = body.get("model") == SLOW
        return FakeReply(content="Sorry, I can't help with that.", latency=2.0 if slow else 0.0)

    fake_llm.handler = reply
    settings = make_settings(tmp_path, fake_llm=fake_llm, judge_model="mock/judge")
    with serve_assay(settings) as running:
        yield running


@pytest.fixture
def client(server: RunningAssay) -> Iterator[Client]:
    with Client(server.url, asyncio.run(server.key())) as client:
        yield client


def model(fake_llm: FakeLLM, name: str = "fake-model") -> dict[str, Any]:
    return {
        "model_hub": "custom",
        "model_name": name,
        "model_params": {"base_url": fake_llm.url},
        "api_key_value": MODEL_KEY,
    }


class RecordingTransport(httpx.HTTPTransport):
    """A real transport that notes when each request was sent and when its answer came."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[float, float, str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.monotonic()
        response = super().handle_request(request)
        self.sent.append((started, time.monotonic(), request.method, request.url.path))
        return response


def test_create_wait_and_read_the_results(client: Client, fake_llm: FakeLLM):
    created = client.create_evaluation(
        harnesses=["security"], system_prompt="You are terse.", name="nightly", **model(fake_llm)
    )
    assert created.id.startswith("eval-") and created.harnesses == ["security"]
    assert created.status is EvaluationStatus.PENDING

    results = client.wait(created.id, timeout=45, poll_interval=0.05, max_interval=0.5)
    assert results.id == created.id and results.completed_at is not None
    assert results.security_score is not None and results.trust_score == results.security_score
    assert results.safety_score is None and results.reliability_score is None
    assert all(f.category == "security" and f.probe_id for f in results.failures)

    progress = client.get_evaluation(created.id)
    total = len(probes_for_harness("security"))
    assert progress.status is EvaluationStatus.COMPLETED
    assert (progress.completed, progress.total, progress.progress) == (total, total, 100)
    sent = [
        h
        for h, b in zip(fake_llm.headers, fake_llm.requests, strict=True)
        if b["model"] == "fake-model"
    ]
    assert len(sent) >= total and all(h["authorization"] == f"Bearer {MODEL_KEY}" for h in sent)
    assert MODEL_KEY not in progress.model_dump_json() + results.model_dump_json()


def test_list_pages_and_filters(client: Client, fake_llm: FakeLLM):
    done = client.create_evaluation(harnesses=["reliability"], **model(fake_llm))
    client.wait(done.id, timeout=45, poll_interval=0.05)
    running = client.create_evaluation(harnesses=["security"], **model(fake_llm, SLOW))

    everything = client.list_evaluations()
    assert everything.total == 2 and {e.id for e in everything.evaluations} == {done.id, running.id}
    page = client.list_evaluations(limit=1, offset=1)
    assert (page.total, page.limit, page.offset, len(page.evaluations)) == (2, 1, 1, 1)
    completed = client.list_evaluations(status=EvaluationStatus.COMPLETED)
    assert [e.id for e in completed.evaluations] == [done.id] and completed.total == 1
    assert client.list_evaluations(agent_id="nobody").total == 0
    client.cancel_evaluation(running.id)


def test_cancel_then_delete(client: Client, fake_llm: FakeLLM):
    created = client.create_evaluation(harnesses=["security"], **model(fake_llm, SLOW))
    with pytest.raises(ResultsNotReadyError) as early:
        client.get_results(created.id)
    assert (early.value.status, early.value.type) == (409, "ResultsNotReadyException")

    cancelled = client.cancel_evaluation(created.id)
    assert cancelled.id == created.id and cancelled.status is EvaluationStatus.CANCELLED
    with pytest.raises(EvaluationCancelledError):
        client.wait(created.id, timeout=10, poll_interval=0.05)
    with pytest.raises(InvalidStateError) as again:
        client.cancel_evaluation(created.id)
    assert (again.value.status, again.value.type) == (409, "InvalidStateException")

    client.delete_evaluation(created.id)
    with pytest.raises(EvaluationNotFoundError) as gone:
        client.get_evaluation(created.id)
    assert gone.value.status == 404 and created.id in gone.value.detail
    with pytest.raises(EvaluationNotFoundError):
        client.delete_evaluation(created.id)


def test_bad_requests_raise_their_own_classes(
    server: RunningAssay, client: Client, fake_llm: FakeLLM
):
    with pytest.raises(InvalidRequestError) as no_target:
        client.create_evaluation(harnesses=["security"])
    assert no_target.value.status == 400 and no_target.value.type == "InvalidRequestException"
    assert "model_hub" in no_target.value.detail
    with pytest.raises(HarnessNotFoundError, match="vibes"):
        client.create_evaluation(harnesses=["security", "vibes"], **model(fake_llm))
    with pytest.raises(AgentNotFoundError):
        client.create_evaluation(harnesses=["security"], agent_id="ghost")
    with (
        Client(server.url, "assay_wrong") as stranger,
        pytest.raises(AuthenticationError) as denied,
    ):
        stranger.list_evaluations()
    assert denied.value.status == 401


def test_wait_polls_at_growing_intervals_up_to_the_cap(server: RunningAssay, fake_llm: FakeLLM):
    transport = RecordingTransport()
    with Client(server.url, asyncio.run(server.key()), transport=transport) as client:
        created = client.create_evaluation(harnesses=["security"], **model(fake_llm, SLOW))
        started = time.monotonic()
        with pytest.raises(WaitTimeoutError, match="still (pending|running)"):
            client.wait(created.id, timeout=1.0, poll_interval=0.05, max_interval=0.2)
        waited = time.monotonic() - started
        client.cancel_evaluation(created.id)
    polls = [(sent, answered) for sent, answered, method, _ in transport.sent if method == "GET"]
    pauses = [nxt[0] - prev[1] for prev, nxt in zip(polls, polls[1:], strict=False)]
    schedule = [0.05, 0.075, 0.1125, 0.16875, 0.2, 0.2, 0.2, 0.2]
    assert waited >= 1.0
    # No poll came sooner than the growing schedule allows (a busy machine only makes them
    # later); the last pause is cut short by the timeout, so it is not compared.
    assert all(real >= want - 0.005 for real, want in zip(pauses[:-1], schedule, strict=False))
    # Fixed 50 ms polling would need 20 polls in a second; growing intervals capped at 0.2 s need
    # 8 (fewer when a loaded machine answers slowly).
    assert 2 <= len(polls) <= 9
