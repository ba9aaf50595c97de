import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from assay.core.errors import TargetError, ValidationFailed
from assay.core.spec import ItemPlan
from assay.core.states import ItemState
from assay.kinds.agent_as_judge import AgentAsJudgeKind
from assay.providers.base import ProviderConfig
from assay.providers.openai import OpenAIProvider
from assay.scoring import stats
from tests.fakes.openai_server import FakeLLM
from tests.kinds.support import (
    CalculatorTarget,
    LabelledLLM,
    make_ctx,
    make_spec,
    outcome_with,
    record,
)

KIND = AgentAsJudgeKind()
PARAMS = {"input": "What is 12 times 7?", "criteria": "States the product as a number"}


@pytest.fixture
async def openai_judge(fake_llm: FakeLLM) -> AsyncIterator[LabelledLLM]:
    provider = OpenAIProvider("judge-model", ProviderConfig(api_key="test", base_url=fake_llm.url))
    yield LabelledLLM(provider)
    await provider.aclose()


def test_defaults_are_binary_with_threshold_seven():
    params = KIND.validate_params({**PARAMS, "scoring_strategy": None, "threshold": None})

    assert (params.scoring_strategy, params.threshold, params.num_iterations) == ("binary", 7, 1)


def test_criteria_are_required():
    with pytest.raises(ValidationFailed) as caught:
        KIND.validate_params({"input": "q"})

    assert caught.value.errors == [
        {
            "loc": ["criteria"],
            "msg": "criteria is required for agent_as_judge evaluations",
            "type": "missing",
        }
    ]


@pytest.mark.parametrize("threshold", [0, 11])
def test_threshold_must_be_between_one_and_ten(threshold):
    with pytest.raises(ValidationFailed) as caught:
        KIND.validate_params({**PARAMS, "threshold": threshold})

    assert caught.value.errors[0]["msg"] == "threshold must be between 1 and 10"


def test_scoring_strategy_must_be_binary_or_numeric():
    with pytest.raises(ValidationFailed) as caught:
        KIND.validate_params({**PARAMS, "scoring_strategy": "fuzzy"})

    assert caught.value.errors[0]["loc"] == ["scoring_strategy"]
    assert caught.value.errors[0]["msg"] == "scoring_strategy must be 'binary' or 'numeric'"


def test_several_broken_fields_are_reported_together():
    with pytest.raises(ValidationFailed) as caught:
        KIND.validate_params({"input": "q", "num_iterations": 500, "threshold": 0})

    assert [e["loc"] for e in caught.value.errors] == [
        ["num_iterations"],
        ["criteria"],
        ["threshold"],
    ]


async def test_binary_item_passes_on_the_judges_word(openai_judge, fake_llm):
    fake_llm.push(json.dumps({"score": None, "passed": True, "reason": "says 84"}))
    spec = make_spec("agent_as_judge", PARAMS)

    outcome = await KIND.run_item(
        ItemPlan(input={}), make_ctx(spec, CalculatorTarget(), openai_judge)
    )

    assert outcome.passed is True
    assert outcome.scores[0].scale == "binary" and outcome.scores[0].value == 1.0
    assert outcome.data == {
        "input": "What is 12 times 7?",
        "output": "12 times 7 is 84.",
        "criteria": "States the product as a number",
        "score": None,
        "reason": "says 84",
        "passed": True,
    }
    assert (
        "<criteria>\nStates the product as a number\n</criteria>"
        in outcome.trace["judge"]["messages"][-1]["content"]
    )


async def test_numeric_item_passes_at_the_threshold(openai_judge, fake_llm):
    fake_llm.push(json.dumps({"score": 5, "passed": False, "reason": "meh"}))
    spec = make_spec("agent_as_judge", {**PARAMS, "scoring_strategy": "numeric", "threshold": 5})

    outcome = await KIND.run_item(
        ItemPlan(input={}), make_ctx(spec, CalculatorTarget(), openai_judge)
    )

    assert outcome.passed is True
    assert outcome.scores[0].scale == "1-10" and outcome.scores[0].value == 5
    assert outcome.data["score"] == 5


def judged(passed: bool, score: int | None = None) -> dict[str, Any]:
    return {
        "input": "q",
        "output": "o",
        "criteria": "c",
        "score": score,
        "reason": "r",
        "passed": passed,
    }


def test_binary_summary_reports_pass_rate_with_a_wilson_interval_and_no_scores():
    spec = make_spec("agent_as_judge", {**PARAMS, "num_iterations": 5})
    items = [
        record(1, ItemState.PASSED, outcome=outcome_with(judged(True))),
        record(2, ItemState.PASSED, outcome=outcome_with(judged(True))),
        record(3, ItemState.FAILED, outcome=outcome_with(judged(False), passed=False)),
        record(4, ItemState.ERRORED, error=TargetError("agent crashed")),
        record(5, ItemState.INFRA_ERROR, error="judge down"),
    ]

    summary = KIND.summarise(spec, items)

    assert summary["run_id"] is None
    assert [r["passed"] for r in summary["results"]] == [True, True, False, False]
    assert summary["results"][3] == {
        "input": "What is 12 times 7?",
        "output": "",
        "criteria": "States the product as a number",
        "score": None,
        "reason": "agent crashed",
        "passed": False,
    }
    assert summary["pass_rate"] == 50.0
    interval = stats.wilson_ci95(2, 4)
    assert interval is not None
    assert summary["pass_rate_ci95"] == pytest.approx(
        {"lower": interval.lower * 100, "upper": interval.upper * 100}
    )
    assert summary["avg_score"] is None and summary["std_dev_score"] is None
    assert summary["counts"]["scored"] == 4 and summary["counts"]["infra_error"] == 1


def test_numeric_summary_scores_agent_failures_as_one():
    spec = make_spec("agent_as_judge", {**PARAMS, "scoring_strategy": "numeric"})
    items = [
        record(1, ItemState.PASSED, outcome=outcome_with(judged(True, 8))),
        record(2, ItemState.TIMED_OUT, error="the item's deadline passed"),
    ]

    summary = KIND.summarise(spec, items)

    assert [r["score"] for r in summary["results"]] == [8, 1]
    assert summary["avg_score"] == 4.5
    assert (summary["min_score"], summary["max_score"]) == (1, 8)
    assert summary["std_dev_score"] == pytest.approx(stats.stdev([8, 1]))
    assert summary["pass_rate"] == 50.0


def test_summary_with_nothing_scored_has_no_pass_rate():
    summary = KIND.summarise(make_spec("agent_as_judge", PARAMS), [record(1, ItemState.CANCELLED)])

    assert summary["results"] == []
    assert summary["pass_rate"] is None and summary["pass_rate_ci95"] is None
    assert summary["counts"]["cancelled"] == 1
    assert summary["usage"]["latency_ms_mean"] is None
