"""The /eval-runs API of seed 001, end to end: real server, real SDK, fake LLM over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.eval_runs_helpers import (
    agent_requests,
    judge_requests,
    register_chat_agent,
    script_agent_and_judge,
)
from tests.checkpoints.people import user_key
from tests.factories import RunningAssay
from tests.fakes.openai_server import FakeLLM

SEED_RESPONSE_FIELDS = {
    "id",
    "agent_id",
    "model_id",
    "model_provider",
    "team_id",
    "workflow_id",
    "name",
    "evaluated_component_name",
    "user_id",
    "eval_type",
    "eval_data",
    "eval_input",
    "created_at",
    "updated_at",
}


async def test_accuracy_run_judges_every_iteration_against_the_expected_output(
    assay: RunningAssay, fake_llm: FakeLLM
):
    script_agent_and_judge(
        fake_llm,
        answer="12 times 7 is 84.",
        verdict={"score": 9, "passed": True, "reason": "84 is right"},
    )
    async with assay.client(await assay.key()) as client:
        await register_chat_agent(client, fake_llm)
        response = await client.post(
            "/eval-runs",
            json={
                "eval_type": "accuracy",
                "input": "What is 12 times 7?",
                "expected_output": "84",
                "agent_id": "calc-agent",
                "num_iterations": 3,
                "name": "times table",
                "additional_guidelines": "Extra words are fine.",
            },
        )
    assert response.status_code == 200, response.text
    run = response.json()
    assert set(run) == SEED_RESPONSE_FIELDS
    assert (
        run["eval_type"] == "accuracy"
        and run["agent_id"] == "calc-agent"
        and run["name"] == "times table"
    )
    data = run["eval_data"]
    assert [r["score"] for r in data["results"]] == [9, 9, 9]
    assert (
        data["results"][0]["output"] == "12 times 7 is 84."
        and data["results"][0]["reason"] == "84 is right"
    )
    assert data["avg_score"] == data["mean_score"] == data["min_score"] == data["max_score"] == 9
    assert data["std_dev_score"] == 0
    assert data["counts"]["scored"] == 3 and data["counts"]["infra_error"] == 0
    assert data["usage"]["input_tokens"] == 3 * (20 + 200)
    assert run["eval_input"] == {
        "additional_guidelines": "Extra words are fine.",
        "additional_context": None,
        "num_iterations": 3,
        "expected_output": "84",
        "input": "What is 12 times 7?",
    }
    # Each iteration is a fresh conversation: the agent sees its system prompt and one user turn.
    agent_calls = agent_requests(fake_llm)
    assert len(agent_calls) == 3 and len(judge_requests(fake_llm)) == 3
    assert all([m["role"] for m in call["messages"]] == ["system", "user"] for call in agent_calls)
    assert all(call["model"] == "agent-model" for call in agent_calls)


async def test_accuracy_with_a_bad_answer_scores_low(assay: RunningAssay, fake_llm: FakeLLM):
    script_agent_and_judge(
        fake_llm, answer="It is 74.", verdict={"score": 2, "passed": False, "reason": "74 is wrong"}
    )
    async with assay.client(await assay.key()) as client:
        await register_chat_agent(client, fake_llm)
        run = (
            await client.post(
                "/eval-runs",
                json={
                    "eval_type": "accuracy",
                    "input": "12*7?",
                    "expected_output": "84",
                    "agent_id": "calc-agent",
                },
            )
        ).json()
    assert run["eval_data"]["avg_score"] == 2
    assert run["eval_data"]["results"][0]["reason"] == "74 is wrong"


@pytest.mark.parametrize(
    ("strategy", "verdict", "threshold", "passed", "score"),
    [
        ("binary", {"score": None, "passed": True, "reason": "polite"}, None, True, None),
        ("binary", {"score": None, "passed": False, "reason": "rude"}, None, False, None),
        ("numeric", {"score": 8, "passed": None, "reason": "good"}, 7, True, 8),
        ("numeric", {"score": 6, "passed": None, "reason": "meh"}, 7, False, 6),
    ],
)
async def test_agent_as_judge_applies_the_scoring_strategy_and_threshold(
    assay: RunningAssay, fake_llm: FakeLLM, strategy, verdict, threshold, passed, score
):
    script_agent_and_judge(fake_llm, verdict=verdict)
    body = {
        "eval_type": "agent_as_judge",
        "input": "Hi",
        "criteria": "Be polite",
        "agent_id": "calc-agent",
        "scoring_strategy": strategy,
    }
    if threshold is not None:
        body["threshold"] = threshold
    async with assay.client(await assay.key()) as client:
        await register_chat_agent(client, fake_llm)
        response = await client.post("/eval-runs", json=body)
    assert response.status_code == 200, response.text
    run = response.json()
    result = run["eval_data"]["results"][0]
    assert (
        result["passed"] is passed
        and result["score"] == score
        and result["criteria"] == "Be polite"
    )
    assert run["eval_data"]["pass_rate"] == (100.0 if passed else 0.0)
    assert run["eval_data"]["run_id"] == run["id"]
    assert run["eval_input"]["scoring_strategy"] == strategy
    assert run["eval_input"]["threshold"] == (7 if strategy == "numeric" else None)


async def test_performance_runs_warmups_unmeasured_and_reports_time_only_for_a_remote_agent(
    assay: RunningAssay, fake_llm: FakeLLM
):
    script_agent_and_judge(fake_llm)
    async with assay.client(await assay.key()) as client:
        await register_chat_agent(client, fake_llm)
        response = await client.post(
            "/eval-runs",
            json={
                "eval_type": "performance",
                "input": "What is 2+2?",
                "agent_id": "calc-agent",
                "num_iterations": 3,
                "warmup_runs": 2,
            },
        )
    assert response.status_code == 200, response.text
    data = response.json()["eval_data"]
    assert len(data["run_times"]) == 3 and len(data["runs"]) == 3
    assert all(t > 0 for t in data["run_times"])
    assert data["min_run_time"] <= data["median_run_time"] <= data["max_run_time"]
    assert data["memory_measured"] is False and data["memory_usages"] == []
    assert len(agent_requests(fake_llm)) == 5 and judge_requests(fake_llm) == []
    assert response.json()["eval_input"] == {"num_iterations": 3, "warmup_runs": 2}


async def test_reliability_passes_when_the_expected_tools_are_called(
    assay: RunningAssay, fake_llm: FakeLLM
):
    script_agent_and_judge(
        fake_llm, answer="", tool_calls=[{"name": "multiply", "arguments": {"a": 12, "b": 7}}]
    )
    async with assay.client(await assay.key()) as client:
        await register_chat_agent(client, fake_llm)
        response = await client.post(
            "/eval-runs",
            json={
                "eval_type": "reliability",
                "input": "12*7?",
                "agent_id": "calc-agent",
                "expected_tool_calls": ["multiply"],
            },
        )
    assert response.status_code == 200, response.text
    data = response.json()["eval_data"]
    assert data["eval_status"] == "PASSED"
    assert data["passed_tool_calls"] == ["multiply"] and data["failed_tool_calls"] == []


async def test_reliability_fails_on_an_unexpected_or_missing_tool_call(
    assay: RunningAssay, fake_llm: FakeLLM
):
    script_agent_and_judge(
        fake_llm, answer="", tool_calls=[{"name": "add", "arguments": {"a": 1, "b": 2}}]
    )
    async with assay.client(await assay.key()) as client:
        await register_chat_agent(client, fake_llm)
        response = await client.post(
            "/eval-runs",
            json={
                "eval_type": "reliability",
                "input": "12*7?",
                "agent_id": "calc-agent",
                "expected_tool_calls": ["multiply"],
            },
        )
    data = response.json()["eval_data"]
    assert data["eval_status"] == "FAILED"
    assert data["failed_tool_calls"] == ["add"] and data["missing_tool_calls"] == ["multiply"]


RELIABILITY = {"eval_type": "reliability", "input": "10*5?", "agent_id": "calc-agent"}


async def run_reliability(
    assay: RunningAssay, fake_llm: FakeLLM, calls: list[dict[str, Any]], **fields: Any
) -> dict[str, Any]:
    """A reliability run of an agent that makes ``calls``, with ``fields`` in the request."""
    script_agent_and_judge(fake_llm, answer="", tool_calls=calls)
    async with assay.client(await assay.key()) as client:
        await register_chat_agent(client, fake_llm)
        response = await client.post("/eval-runs", json=RELIABILITY | fields)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize(
    ("expected_arguments", "status", "passed", "failed"),
    [
        ({"multiply": {"a": 999, "b": 999}}, "FAILED", [], ["multiply"]),
        ({"multiply": {"a": 10}}, "PASSED", ["multiply"], []),
        ({"multiply": [{"a": 10, "b": 5}, {"a": 3}]}, "FAILED", [], ["multiply"]),
        ({"divide": {"a": 10}}, "FAILED", [], ["divide"]),
    ],
)
async def test_reliability_checks_the_expected_tool_call_arguments(
    assay: RunningAssay, fake_llm: FakeLLM, expected_arguments, status, passed, failed
):
    run = await run_reliability(
        assay,
        fake_llm,
        [{"name": "multiply", "arguments": {"a": 10, "b": 5}}],
        expected_tool_calls=["multiply"],
        expected_tool_call_arguments=expected_arguments,
    )
    data = run["eval_data"]
    assert data["eval_status"] == status
    assert data["passed_tool_calls"] == ["multiply"]
    assert data["passed_argument_checks"] == passed
    assert data["failed_argument_checks"] == failed
    assert run["eval_input"] == {
        "expected_tool_calls": ["multiply"],
        "allow_additional_tool_calls": False,
        "expected_tool_call_arguments": expected_arguments,
    }


@pytest.mark.parametrize(
    ("expected", "allow", "status", "failed", "additional"),
    [
        (["multiply"], True, "PASSED", [], ["add"]),
        (["multiply"], False, "FAILED", ["add"], []),
        ([], True, "PASSED", [], ["multiply", "add"]),
        ([], False, "FAILED", ["multiply", "add"], []),
    ],
)
async def test_additional_tool_calls_are_listed_when_allowed(
    assay: RunningAssay, fake_llm: FakeLLM, expected, allow, status, failed, additional
):
    calls = [{"name": "multiply", "arguments": {"a": 1}}, {"name": "add", "arguments": {}}]
    run = await run_reliability(
        assay, fake_llm, calls, expected_tool_calls=expected, allow_additional_tool_calls=allow
    )
    data = run["eval_data"]
    assert data["eval_status"] == status
    assert data["failed_tool_calls"] == failed
    assert data["additional_tool_calls"] == additional
    assert run["eval_input"]["allow_additional_tool_calls"] is allow
    assert run["eval_input"]["expected_tool_calls"] == expected


async def test_every_eval_type_returns_its_run_id_and_the_creators_user_id(
    assay: RunningAssay, fake_llm: FakeLLM
):
    script_agent_and_judge(fake_llm, tool_calls=[{"name": "multiply", "arguments": {}}])
    bodies = [
        {"eval_type": "accuracy", "expected_output": "84"},
        {"eval_type": "agent_as_judge", "criteria": "is right"},
        {"eval_type": "performance"},
        {"eval_type": "reliability", "expected_tool_calls": ["multiply"]},
    ]
    async with assay.client(await assay.key()) as service:
        await register_chat_agent(service, fake_llm)
        by_service = (await service.post("/eval-runs", json=RELIABILITY | bodies[0])).json()
    async with assay.client(await user_key(assay.settings, "ann@example.com")) as client:
        runs = [
            (await client.post("/eval-runs", json=RELIABILITY | body)).json() for body in bodies
        ]
        listed = (await client.get("/eval-runs")).json()["data"]
    for run in runs:
        assert run["eval_data"]["run_id"] == run["id"], run["eval_type"]
    assert len({run["user_id"] for run in runs}) == 1 and runs[0]["user_id"]
    assert by_service["user_id"] is None  # a service key belongs to no user
    assert {r["id"]: (r["eval_data"]["run_id"], r["user_id"]) for r in listed} == {
        r["id"]: (r["id"], r["user_id"]) for r in [*runs, by_service]
    }


async def test_a_bare_model_is_evaluated_through_its_provider(
    assay: RunningAssay, fake_llm: FakeLLM
):
    script_agent_and_judge(fake_llm, answer="84")
    async with assay.client(await assay.key()) as client:
        response = await client.post(
            "/eval-runs",
            json={
                "eval_type": "accuracy",
                "input": "12*7?",
                "expected_output": "84",
                "model_provider": "OpenAI",
                "model_id": "gpt-test",
            },
        )
    assert response.status_code == 200, response.text
    run = response.json()
    assert (
        run["model_id"] == "gpt-test"
        and run["model_provider"] == "OpenAI"
        and run["agent_id"] is None
    )
    assert agent_requests(fake_llm)[0]["model"] == "gpt-test"


async def test_provider_outages_are_retried_then_reported_apart_from_scores(
    assay: RunningAssay, fake_llm: FakeLLM
):
    script_agent_and_judge(fake_llm, agent_status=503)
    async with assay.client(await assay.key()) as client:
        await register_chat_agent(client, fake_llm)
        response = await client.post(
            "/eval-runs",
            json={
                "eval_type": "accuracy",
                "input": "12*7?",
                "expected_output": "84",
                "agent_id": "calc-agent",
                "num_iterations": 2,
            },
        )
    assert response.status_code == 200, response.text
    data = response.json()["eval_data"]
    assert data["counts"]["infra_error"] == 2 and data["counts"]["scored"] == 0
    assert data["results"] == []
    # The default policy retries an outage three times: four calls per iteration.
    assert len(agent_requests(fake_llm)) == 8


async def test_a_rate_limited_call_is_retried_and_the_iteration_still_counts(
    assay: RunningAssay, fake_llm: FakeLLM
):
    from tests.fakes.openai_server import FakeReply

    script_agent_and_judge(fake_llm)
    fake_llm.push(FakeReply(status=429, retry_after=0.05))
    async with assay.client(await assay.key()) as client:
        await register_chat_agent(client, fake_llm)
        response = await client.post(
            "/eval-runs",
            json={
                "eval_type": "accuracy",
                "input": "12*7?",
                "expected_output": "84",
                "agent_id": "calc-agent",
            },
        )
    data = response.json()["eval_data"]
    assert data["counts"]["scored"] == 1 and data["counts"]["infra_error"] == 0
    assert data["avg_score"] == 9


async def test_an_agent_that_crashes_counts_as_the_agents_failure(
    assay: RunningAssay, fake_llm: FakeLLM
):
    script_agent_and_judge(fake_llm, agent_status=500)
    async with assay.client(await assay.key()) as client:
        await register_chat_agent(client, fake_llm)
        response = await client.post(
            "/eval-runs",
            json={
                "eval_type": "accuracy",
                "input": "12*7?",
                "expected_output": "84",
                "agent_id": "calc-agent",
            },
        )
    data = response.json()["eval_data"]
    assert data["counts"]["errored"] == 1 and data["counts"]["infra_error"] == 0
    assert data["results"][0]["score"] == 1
    assert len(agent_requests(fake_llm)) == 1  # the agent's own failure is not retried


async def test_an_agents_own_headers_reach_it_during_a_run(assay: RunningAssay, fake_llm: FakeLLM):
    script_agent_and_judge(fake_llm)
    async with assay.client(await assay.key()) as client:
        created = await client.post(
            "/v1/agents",
            json={
                "id": "tagged",
                "kind": "openai-chat",
                "config": {
                    "base_url": fake_llm.url,
                    "model": "agent-model",
                    "headers": {"X-Team": "blue"},
                },
                "secrets": {"api_key": "sk-agent-secret"},
            },
        )
        assert created.status_code == 201, created.text
        await client.post(
            "/eval-runs", json={"eval_type": "performance", "input": "q", "agent_id": "tagged"}
        )
    assert fake_llm.headers[0]["x-team"] == "blue"
    assert fake_llm.headers[0]["authorization"] == "Bearer sk-agent-secret"


async def test_a_python_agent_runs_in_process_and_its_memory_is_measured(assay: RunningAssay):
    async with assay.client(await assay.key()) as client:
        created = await client.post(
            "/v1/agents",
            json={
                "id": "calculator",
                "kind": "python",
                "config": {"callable": "assay.examples.calculator:agent"},
            },
        )
        assert created.status_code == 201, created.text
        response = await client.post(
            "/eval-runs",
            json={
                "eval_type": "performance",
                "input": "What is 12 times 7?",
                "agent_id": "calculator",
                "num_iterations": 3,
            },
        )
    data = response.json()["eval_data"]
    assert data["memory_measured"] is True and len(data["memory_usages"]) == 3
    assert all(m > 0 for m in data["memory_usages"])


async def test_python_agents_outside_the_allowed_modules_are_refused(assay: RunningAssay):
    async with assay.client(await assay.key()) as client:
        response = await client.post(
            "/v1/agents",
            json={"id": "shell", "kind": "python", "config": {"callable": "os:system"}},
        )
        listed = (await client.get("/v1/agents")).json()
    assert response.status_code == 403 and "ASSAY_PYTHON_AGENT_MODULES" in response.json()["detail"]
    assert listed["total"] == 0


async def test_an_iteration_past_its_deadline_is_timed_out_and_counts_against_the_agent(
    tmp_path, fake_llm: FakeLLM
):
    from tests.factories import make_settings, serve_assay
    from tests.fakes.openai_server import FakeReply

    script_agent_and_judge(fake_llm)
    fake_llm.push(FakeReply(content="slow", latency=2.0))
    with serve_assay(make_settings(tmp_path, fake_llm=fake_llm, item_timeout=0.5)) as assay:
        async with assay.client(await assay.key()) as client:
            await register_chat_agent(client, fake_llm)
            response = await client.post(
                "/eval-runs",
                json={
                    "eval_type": "accuracy",
                    "input": "q",
                    "expected_output": "84",
                    "agent_id": "calc-agent",
                },
            )
    data = response.json()["eval_data"]
    assert data["counts"]["timed_out"] == 1 and data["counts"]["scored"] == 1
    assert data["results"][0]["score"] == 1 and "deadline" in data["results"][0]["reason"]


async def test_tokens_and_cost_are_summed_from_the_price_table(tmp_path, fake_llm: FakeLLM):
    from tests.factories import make_settings, serve_assay

    script_agent_and_judge(fake_llm)
    prices = {"openai/agent-model": (1000.0, 2000.0), "openai/judge": (1.0, 1.0)}
    with serve_assay(make_settings(tmp_path, fake_llm=fake_llm, price_overrides=prices)) as assay:
        async with assay.client(await assay.key()) as client:
            await register_chat_agent(client, fake_llm)
            response = await client.post(
                "/eval-runs",
                json={
                    "eval_type": "accuracy",
                    "input": "q",
                    "expected_output": "84",
                    "agent_id": "calc-agent",
                    "num_iterations": 2,
                },
            )
    usage = response.json()["eval_data"]["usage"]
    # Per iteration: the agent 20 in / 8 out, the judge 200 in / 30 out (see the script).
    agent_cost = (20 * 1000.0 + 8 * 2000.0) / 1e6
    judge_cost = (200 * 1.0 + 30 * 1.0) / 1e6
    assert usage["input_tokens"] == 2 * 220 and usage["output_tokens"] == 2 * 38
    assert usage["cost_usd"] == pytest.approx(2 * (agent_cost + judge_cost))
