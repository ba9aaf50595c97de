import json
import math
from collections.abc import AsyncIterator
from typing import Any

import pytest

from assay.core.errors import ConfigurationError, ProviderRejected, TargetError, ValidationFailed
from assay.core.outcome import NormalizedResponse
from assay.core.spec import ItemPlan
from assay.core.states import ItemState
from assay.kinds.accuracy import AccuracyKind
from assay.providers.base import ProviderConfig
from assay.providers.mock import MockProvider
from assay.providers.openai import OpenAIProvider
from assay.scoring import stats
from tests.fakes.openai_server import FakeLLM, FakeReply
from tests.kinds.support import (
    JUDGE_LABEL,
    PRICES,
    TARGET_LABEL,
    CalculatorTarget,
    CannedTarget,
    LabelledLLM,
    make_ctx,
    make_spec,
    outcome_with,
    record,
    run_evaluation,
)

KIND = AccuracyKind()
PARAMS = {"input": "What is 12 times 7?", "expected_output": "84"}


@pytest.fixture
async def openai_judge(fake_llm: FakeLLM) -> AsyncIterator[LabelledLLM]:
    provider = OpenAIProvider("judge-model", ProviderConfig(api_key="test", base_url=fake_llm.url))
    yield LabelledLLM(provider)
    await provider.aclose()


def verdict(score: int, reason: str = "r") -> str:
    return json.dumps({"score": score, "passed": None, "reason": reason})


def test_plan_makes_one_item_per_iteration():
    plans = KIND.plan(make_spec("accuracy", {**PARAMS, "num_iterations": 3}))

    assert [p.input for p in plans] == [{"iteration": 1}, {"iteration": 2}, {"iteration": 3}]
    assert KIND.needs_judge is True


@pytest.mark.parametrize("missing", [{}, {"expected_output": None}])
def test_expected_output_is_required(missing):
    params = {"input": "q", **missing}

    with pytest.raises(ValidationFailed) as caught:
        KIND.validate_params(params)

    assert caught.value.errors == [
        {
            "loc": ["expected_output"],
            "msg": "expected_output is required for accuracy evaluations",
            "type": "missing",
        }
    ]


@pytest.mark.parametrize("value", [0, 101])
def test_num_iterations_must_be_between_one_and_a_hundred(value):
    with pytest.raises(ValidationFailed) as caught:
        KIND.validate_params({**PARAMS, "num_iterations": value})

    assert caught.value.errors[0]["loc"] == ["num_iterations"]
    assert caught.value.errors[0]["msg"] == "num_iterations must be between 1 and 100"
    assert "num_iterations must be between 1 and 100" in str(caught.value)


def test_empty_input_is_rejected_and_defaults_fill_the_rest():
    with pytest.raises(ValidationFailed) as caught:
        KIND.validate_params({**PARAMS, "input": ""})
    assert caught.value.errors[0]["msg"] == "input must not be empty"

    params = KIND.validate_params({**PARAMS, "additional_guidelines": None})
    assert params.num_iterations == 1
    assert params.additional_guidelines is None


def test_a_misspelt_param_is_refused_with_the_closest_name():
    with pytest.raises(ValidationFailed) as caught:
        KIND.validate_params({**PARAMS, "num_iteratons": 3})
    assert caught.value.errors == [
        {
            "loc": ["num_iteratons"],
            "msg": "num_iteratons: unknown key (did you mean 'num_iterations'?)",
            "type": "extra_forbidden",
        }
    ]


async def test_run_item_invokes_a_fresh_session_and_records_the_judges_score(
    openai_judge, fake_llm
):
    fake_llm.push(
        FakeReply(content=verdict(9, "correct product"), prompt_tokens=40, completion_tokens=8)
    )
    target = CalculatorTarget()
    spec = make_spec("accuracy", PARAMS, model_target=True)

    outcome = await KIND.run_item(
        ItemPlan(input={"iteration": 1}), make_ctx(spec, target, openai_judge, seq=4)
    )

    assert target.sessions == ["item-4"]
    assert outcome.passed is True
    assert outcome.scores[0].model_dump() == {
        "name": "accuracy",
        "value": 9.0,
        "scale": "1-10",
        "passed": True,
        "reason": "correct product",
    }
    assert outcome.metrics.latency_ms == 12.5
    assert (outcome.metrics.input_tokens, outcome.metrics.output_tokens) == (3 + 40, 2 + 8)
    assert outcome.metrics.cost_usd == pytest.approx(
        5 * PRICES[TARGET_LABEL] + 48 * PRICES[JUDGE_LABEL]
    )
    assert outcome.data == {
        "input": "What is 12 times 7?",
        "output": "12 times 7 is 84.",
        "expected_output": "84",
        "score": 9,
        "reason": "correct product",
    }
    assert outcome.trace["output"] == "12 times 7 is 84."
    assert outcome.trace["tool_calls"][0]["name"] == "multiply"
    assert outcome.trace["messages"][0] == {"role": "user", "content": "What is 12 times 7?"}
    judge_trace = outcome.trace["judge"]
    assert judge_trace["model"] == JUDGE_LABEL
    assert judge_trace["raw"] == verdict(9, "correct product")
    assert "<expected_output>\n84\n</expected_output>" in judge_trace["messages"][-1]["content"]


async def test_score_below_seven_fails_the_item(openai_judge, fake_llm):
    fake_llm.push(verdict(6))

    outcome = await KIND.run_item(
        ItemPlan(input={}),
        make_ctx(make_spec("accuracy", PARAMS), CalculatorTarget(), openai_judge),
    )

    assert outcome.passed is False
    assert outcome.data["score"] == 6


async def test_judge_without_a_valid_verdict_is_an_infrastructure_failure(openai_judge, fake_llm):
    fake_llm.push("hmm", "still hmm")
    records, summary = await run_evaluation(
        KIND, make_spec("accuracy", PARAMS), CalculatorTarget(), openai_judge
    )

    assert records[0].state == ItemState.INFRA_ERROR
    assert summary["results"] == []
    assert summary["counts"]["infra_error"] == 1
    assert summary["avg_score"] is None


async def test_judge_errors_propagate_from_run_item(openai_judge, fake_llm):
    fake_llm.push("x", "y")
    with pytest.raises(ProviderRejected):
        await KIND.run_item(
            ItemPlan(input={}),
            make_ctx(make_spec("accuracy", PARAMS), CalculatorTarget(), openai_judge),
        )


async def test_missing_judge_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="need a judge"):
        await KIND.run_item(
            ItemPlan(input={}), make_ctx(make_spec("accuracy", PARAMS), CalculatorTarget())
        )


def accuracy_data(score: int, reason: str = "r") -> dict[str, Any]:
    return {"input": "q", "output": "o", "expected_output": "84", "score": score, "reason": reason}


def test_summary_leaves_out_infra_errors_and_scores_agent_failures_as_one():
    spec = make_spec("accuracy", {**PARAMS, "num_iterations": 6})
    items = [
        record(4, ItemState.INFRA_ERROR, error="judge unavailable"),
        record(
            1,
            ItemState.PASSED,
            outcome=outcome_with(accuracy_data(9), input_tokens=10, cost_usd=0.5, latency_ms=100),
        ),
        record(
            2,
            ItemState.FAILED,
            outcome=outcome_with(
                accuracy_data(4), passed=False, input_tokens=5, cost_usd=0.25, latency_ms=300
            ),
        ),
        record(3, ItemState.ERRORED, error=TargetError("agent raised ZeroDivisionError")),
        record(5, ItemState.CANCELLED),
        record(6, ItemState.TIMED_OUT, error="the item's deadline passed"),
    ]

    summary = KIND.summarise(spec, items)

    assert [r["score"] for r in summary["results"]] == [9, 4, 1, 1]
    assert summary["results"][2] == {
        "input": "What is 12 times 7?",
        "output": "",
        "expected_output": "84",
        "score": 1,
        "reason": "agent raised ZeroDivisionError",
    }
    assert summary["results"][3]["reason"] == "the item's deadline passed"
    assert summary["avg_score"] == summary["mean_score"] == pytest.approx(15 / 4)
    assert (summary["min_score"], summary["max_score"]) == (1, 9)
    assert summary["std_dev_score"] == pytest.approx(stats.stdev([9, 4, 1, 1]))
    half = 3.182 * stats.stdev([9, 4, 1, 1]) / math.sqrt(4)
    assert summary["confidence_interval_95"] == pytest.approx(
        {"lower": 15 / 4 - half, "upper": 15 / 4 + half}
    )
    assert summary["counts"] == {
        "total": 6,
        "scored": 4,
        "passed": 1,
        "failed": 1,
        "errored": 1,
        "timed_out": 1,
        "infra_error": 1,
        "cancelled": 1,
    }
    assert summary["usage"] == {
        "input_tokens": 15,
        "output_tokens": 0,
        "cost_usd": 0.75,
        "latency_ms_mean": 200.0,
    }


def test_summary_of_one_item_has_no_confidence_interval():
    summary = KIND.summarise(
        make_spec("accuracy", PARAMS),
        [record(1, ItemState.PASSED, outcome=outcome_with(accuracy_data(8)))],
    )

    assert summary["avg_score"] == 8
    assert summary["std_dev_score"] == 0.0
    assert summary["confidence_interval_95"] is None


async def test_accuracy_end_to_end_with_the_mock_judge():
    judge = LabelledLLM(MockProvider("judge", ProviderConfig()), label="mock/judge")
    target = CalculatorTarget()
    spec = make_spec("accuracy", {**PARAMS, "num_iterations": 3})

    records, summary = await run_evaluation(KIND, spec, target, judge)

    assert target.sessions == ["item-1", "item-2", "item-3"]
    assert [r["score"] for r in summary["results"]] == [10, 10, 10]
    assert summary["results"][0]["reason"] == "The output contains the expected answer."
    assert summary["counts"]["passed"] == 3
    assert summary["confidence_interval_95"] == {"lower": 10.0, "upper": 10.0}
    assert summary["usage"]["input_tokens"] > 3 * 3


async def test_agent_error_from_the_target_counts_as_a_failure_in_the_summary(
    openai_judge, fake_llm
):
    fake_llm.push(verdict(10))
    target = CannedTarget(NormalizedResponse(output="84"), TargetError("HTTP 500 from the agent"))
    spec = make_spec("accuracy", {**PARAMS, "num_iterations": 2})

    records, summary = await run_evaluation(KIND, spec, target, openai_judge)

    assert [r.state for r in records] == ["passed", "errored"]
    assert [r["score"] for r in summary["results"]] == [10, 1]
    assert summary["results"][1]["reason"] == "HTTP 500 from the agent"
