from typing import Any

import pytest

from assay.core.errors import TargetError, ValidationFailed
from assay.core.outcome import NormalizedResponse
from assay.core.spec import ItemPlan
from assay.core.states import ItemState
from assay.kinds.reliability import ReliabilityKind
from tests.kinds.support import (
    CalculatorTarget,
    CannedTarget,
    make_ctx,
    make_spec,
    outcome_with,
    record,
    run_evaluation,
)

KIND = ReliabilityKind()
PARAMS = {"input": "What is 12 times 7?", "expected_tool_calls": ["multiply"]}


@pytest.mark.parametrize(
    ("params", "msg"),
    [
        ({"input": "q"}, "expected_tool_calls is required for reliability evaluations"),
        (
            {"input": "q", "expected_tool_calls": None},
            "expected_tool_calls is required for reliability evaluations",
        ),
    ],
)
def test_expected_tool_calls_are_required(params, msg):
    with pytest.raises(ValidationFailed) as caught:
        KIND.validate_params(params)

    assert caught.value.errors[0]["loc"] == ["expected_tool_calls"]
    assert caught.value.errors[0]["msg"] == msg


async def test_expected_tool_call_passes():
    target = CalculatorTarget()
    outcome = await KIND.run_item(
        ItemPlan(input={}), make_ctx(make_spec("reliability", PARAMS), target, seq=7)
    )

    assert target.sessions == ["item-7"]
    assert outcome.passed is True
    assert outcome.data == {
        "eval_status": "PASSED",
        "passed_tool_calls": ["multiply"],
        "failed_tool_calls": [],
        "missing_tool_calls": [],
        "additional_tool_calls": [],
        "passed_argument_checks": [],
        "failed_argument_checks": [],
        "tool_calls": ["multiply"],
        "error": None,
    }
    assert outcome.trace["tool_calls"] == [
        {"name": "multiply", "arguments": {"a": 12, "b": 7}, "id": "item-7-multiply"}
    ]
    assert outcome.metrics.input_tokens == 3


async def test_expected_tool_never_called_fails_as_missing():
    spec = make_spec("reliability", {**PARAMS, "expected_tool_calls": ["multiply", "add"]})

    outcome = await KIND.run_item(ItemPlan(input={}), make_ctx(spec, CalculatorTarget()))

    assert outcome.passed is False
    assert outcome.data["missing_tool_calls"] == ["add"]
    assert outcome.scores[0].reason == "expected tools never called: add"


async def test_no_tool_call_fails_with_the_expected_list():
    target = CannedTarget(NormalizedResponse(output="84"))

    outcome = await KIND.run_item(
        ItemPlan(input={}), make_ctx(make_spec("reliability", PARAMS), target)
    )

    assert outcome.data["eval_status"] == "FAILED"
    assert outcome.data["failed_tool_calls"] == ["multiply"]
    assert outcome.scores[0].reason == "no tool was called"


def iteration(passed: list[str], failed: list[str], missing: list[str]) -> dict[str, Any]:
    ok = not failed and not missing
    return {
        "eval_status": "PASSED" if ok else "FAILED",
        "passed_tool_calls": passed,
        "failed_tool_calls": failed,
        "missing_tool_calls": missing,
        "tool_calls": passed + failed,
        "error": None,
    }


def test_summary_unions_lists_and_fails_unless_every_scored_iteration_passed():
    spec = make_spec(
        "reliability", {**PARAMS, "expected_tool_calls": ["multiply", "add"], "num_iterations": 5}
    )
    items = [
        record(1, ItemState.PASSED, outcome=outcome_with(iteration(["multiply", "add"], [], []))),
        record(
            2,
            ItemState.FAILED,
            outcome=outcome_with(iteration(["add"], ["search"], ["multiply"]), passed=False),
        ),
        record(3, ItemState.INFRA_ERROR, error="rate limited"),
        record(4, ItemState.ERRORED, error=TargetError("agent returned garbage")),
        record(
            5,
            ItemState.FAILED,
            outcome=outcome_with(
                iteration(["multiply"], ["divide", "search"], ["add"]), passed=False
            ),
        ),
    ]

    summary = KIND.summarise(spec, items)

    assert summary["eval_status"] == "FAILED"
    assert summary["passed_tool_calls"] == ["multiply", "add"]
    assert summary["failed_tool_calls"] == ["search", "multiply", "add", "divide"]
    assert summary["missing_tool_calls"] == ["multiply", "add"]
    assert len(summary["iterations"]) == 4
    assert summary["iterations"][2] == {
        "eval_status": "FAILED",
        "passed_tool_calls": [],
        "failed_tool_calls": ["multiply", "add"],
        "missing_tool_calls": ["multiply", "add"],
        "additional_tool_calls": [],
        "passed_argument_checks": [],
        "failed_argument_checks": [],
        "tool_calls": [],
        "error": "agent returned garbage",
    }
    assert summary["pass_rate"] == 25.0
    assert summary["pass_hat_k"] is False
    assert summary["counts"]["scored"] == 4 and summary["counts"]["infra_error"] == 1


async def test_summary_passes_when_every_iteration_called_the_expected_tools():
    spec = make_spec("reliability", {**PARAMS, "num_iterations": 3})

    records, summary = await run_evaluation(KIND, spec, CalculatorTarget())

    assert summary["eval_status"] == "PASSED"
    assert summary["passed_tool_calls"] == ["multiply"]
    assert summary["failed_tool_calls"] == [] and summary["missing_tool_calls"] == []
    assert summary["pass_rate"] == 100.0
    assert summary["pass_hat_k"] is True
    assert summary["pass_rate_ci95"]["upper"] == pytest.approx(100.0)


def test_an_empty_expected_list_means_no_tool_may_be_called():
    assert KIND.validate_params({"input": "q", "expected_tool_calls": []}).expected_tool_calls == []


async def test_arguments_and_additional_calls_are_checked_per_iteration():
    params = {
        **PARAMS,
        "expected_tool_calls": [],
        "allow_additional_tool_calls": True,
        "expected_tool_call_arguments": {"multiply": {"a": 12, "b": 8}},
    }

    outcome = await KIND.run_item(
        ItemPlan(input={}), make_ctx(make_spec("reliability", params), CalculatorTarget())
    )

    assert outcome.passed is False
    assert outcome.data["additional_tool_calls"] == ["multiply"]
    assert outcome.data["failed_argument_checks"] == ["multiply"]
    assert outcome.scores[0].reason == "wrong arguments to: multiply"


def test_summary_with_only_infrastructure_failures_is_not_a_pass():
    summary = KIND.summarise(
        make_spec("reliability", PARAMS), [record(1, ItemState.INFRA_ERROR, error="down")]
    )

    assert summary["eval_status"] == "FAILED"
    assert summary["iterations"] == []
    assert summary["pass_rate"] is None
    assert summary["pass_hat_k"] is False
