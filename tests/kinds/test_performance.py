import tracemalloc
from typing import Any

import pytest

from assay.core.errors import TargetError, ValidationFailed
from assay.core.outcome import NormalizedResponse
from assay.core.spec import ItemPlan
from assay.core.states import ItemState
from assay.kinds.performance import PerformanceKind
from tests.kinds.support import (
    CalculatorTarget,
    CannedTarget,
    make_ctx,
    make_spec,
    outcome_with,
    record,
    run_evaluation,
)

KIND = PerformanceKind()
PARAMS = {"input": "What is 12 times 7?"}
MIB = 1024 * 1024


class AllocatingTarget:
    """An in-process agent that holds about 4 MiB while it answers."""

    in_process = True

    async def invoke(self, input: str, *, session_id: str) -> NormalizedResponse:
        buffers = [bytearray(MIB) for _ in range(4)]
        size = sum(len(b) for b in buffers)
        del buffers
        return NormalizedResponse(output=f"{size} bytes")


def test_plan_puts_warmups_first_and_runs_one_at_a_time():
    plans = KIND.plan(make_spec("performance", {**PARAMS, "warmup_runs": 2, "num_iterations": 3}))

    assert [p.input for p in plans] == [
        {"warmup": True, "iteration": 1},
        {"warmup": True, "iteration": 2},
        {"warmup": False, "iteration": 1},
        {"warmup": False, "iteration": 2},
        {"warmup": False, "iteration": 3},
    ]
    assert KIND.max_concurrency == 1
    assert KIND.needs_judge is False


@pytest.mark.parametrize("value", [-1, 11])
def test_warmup_runs_must_be_between_zero_and_ten(value):
    with pytest.raises(ValidationFailed) as caught:
        KIND.validate_params({**PARAMS, "warmup_runs": value})

    assert caught.value.errors[0]["msg"] == "warmup_runs must be between 0 and 10"


def test_input_is_required():
    with pytest.raises(ValidationFailed) as caught:
        KIND.validate_params({})

    assert caught.value.errors[0]["msg"] == "input is required for performance evaluations"


async def test_in_process_target_has_its_peak_memory_measured():
    assert not tracemalloc.is_tracing()
    spec = make_spec("performance", PARAMS)

    outcome = await KIND.run_item(
        ItemPlan(input={"warmup": False}), make_ctx(spec, AllocatingTarget())
    )

    assert 3.9 <= outcome.data["memory"] <= 6
    assert outcome.data["memory_measured"] is True
    assert outcome.data["runtime"] > 0
    assert outcome.metrics.memory_peak_bytes == pytest.approx(outcome.data["memory"] * MIB)
    assert outcome.metrics.latency_ms == pytest.approx(outcome.data["runtime"] * 1000)
    assert [s.name for s in outcome.scores] == ["run_time", "memory"]
    assert outcome.passed is True
    assert not tracemalloc.is_tracing()


async def test_tracing_started_by_someone_else_is_left_running():
    tracemalloc.start()
    try:
        outcome = await KIND.run_item(
            ItemPlan(input={}), make_ctx(make_spec("performance", PARAMS), AllocatingTarget())
        )
        assert tracemalloc.is_tracing()
    finally:
        tracemalloc.stop()
    assert 3.9 <= outcome.data["memory"] <= 6


async def test_remote_target_has_only_its_run_time_measured():
    target = CannedTarget(NormalizedResponse(output="84", latency_ms=3.0))

    outcome = await KIND.run_item(
        ItemPlan(input={"warmup": False}), make_ctx(make_spec("performance", PARAMS), target, seq=2)
    )

    assert target.sessions == ["item-2"]
    assert outcome.data["memory"] is None and outcome.data["memory_measured"] is False
    assert outcome.metrics.memory_peak_bytes is None
    assert [s.name for s in outcome.scores] == ["run_time"]


def run(seconds: float, memory: float | None, warmup: bool = False) -> dict[str, Any]:
    return {
        "warmup": warmup,
        "runtime": seconds,
        "memory": memory,
        "memory_measured": memory is not None,
    }


def test_summary_excludes_warmups_and_failures_from_the_statistics():
    spec = make_spec("performance", {**PARAMS, "warmup_runs": 1, "num_iterations": 5})
    items = [
        record(
            1,
            ItemState.PASSED,
            {"warmup": True},
            outcome_with(run(9.0, 50.0, True), input_tokens=100),
        ),
        record(
            2,
            ItemState.PASSED,
            {"warmup": False},
            outcome_with(run(0.1, 1.0), input_tokens=1, latency_ms=100),
        ),
        record(
            3,
            ItemState.PASSED,
            {"warmup": False},
            outcome_with(run(0.4, 4.0), input_tokens=1, latency_ms=400),
        ),
        record(4, ItemState.ERRORED, {"warmup": False}, error=TargetError("boom")),
        record(
            5,
            ItemState.PASSED,
            {"warmup": False},
            outcome_with(run(0.2, 2.0), input_tokens=1, latency_ms=200),
        ),
        record(
            6,
            ItemState.PASSED,
            {"warmup": False},
            outcome_with(run(0.3, 3.0), input_tokens=1, latency_ms=300),
        ),
        record(7, ItemState.INFRA_ERROR, {"warmup": False}, error="network"),
    ]

    summary = KIND.summarise(spec, items)

    assert summary["run_times"] == [0.1, 0.4, 0.2, 0.3]
    assert summary["avg_run_time"] == pytest.approx(0.25)
    assert (summary["min_run_time"], summary["max_run_time"]) == (0.1, 0.4)
    assert summary["median_run_time"] == pytest.approx(0.25)
    # sorted [0.1, 0.2, 0.3, 0.4]; position 3 * 0.95 = 2.85 -> 0.3 + 0.85 * 0.1
    assert summary["p95_run_time"] == pytest.approx(0.385)
    assert summary["std_dev_run_time"] == pytest.approx(0.129099, abs=1e-6)
    assert summary["memory_usages"] == [1.0, 4.0, 2.0, 3.0]
    assert summary["avg_memory_usage"] == pytest.approx(2.5)
    assert summary["p95_memory_usage"] == pytest.approx(3.85)
    assert summary["memory_measured"] is True
    assert "note" not in summary
    assert summary["result"]["avg_run_time"] == summary["avg_run_time"]
    assert summary["result"]["p95_memory_usage"] == summary["p95_memory_usage"]
    assert "run_times" not in summary["result"]
    assert summary["runs"][0] == {"runtime": 0.1, "memory": 1.0}
    assert summary["warmup_runs"] == 1
    assert summary["counts"]["total"] == 7
    assert summary["counts"]["errored"] == 1 and summary["counts"]["infra_error"] == 1
    assert summary["usage"]["input_tokens"] == 4
    assert summary["usage"]["latency_ms_mean"] == pytest.approx(250.0)


def test_summary_of_a_remote_target_says_memory_was_not_measured():
    items = [record(1, ItemState.PASSED, {"warmup": False}, outcome_with(run(0.5, None)))]

    summary = KIND.summarise(make_spec("performance", PARAMS), items)

    assert summary["run_times"] == [0.5]
    assert summary["p95_run_time"] == 0.5
    assert summary["memory_usages"] == []
    assert summary["avg_memory_usage"] is None and summary["result"]["max_memory_usage"] is None
    assert summary["memory_measured"] is False
    assert summary["note"] == "remote target: run time only"
    assert summary["runs"] == [{"runtime": 0.5, "memory": None}]


async def test_full_run_of_the_calculator_measures_every_iteration():
    spec = make_spec("performance", {**PARAMS, "warmup_runs": 2, "num_iterations": 3})

    records, summary = await run_evaluation(KIND, spec, CalculatorTarget())

    assert [r.input["warmup"] for r in records] == [True, True, False, False, False]
    assert len(summary["run_times"]) == 3 and len(summary["memory_usages"]) == 3
    assert summary["memory_measured"] is True
    assert summary["warmup_runs"] == 2
    assert summary["counts"]["passed"] == 5
    assert summary["usage"]["input_tokens"] == 9
