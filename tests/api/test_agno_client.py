"""Agno's own client and models against a live Assay: ``AgentOSClient`` (agno, pinned in the
test extras) drives ``/eval-runs`` as it would drive an AgentOS, and every answer must parse
into Agno's ``EvalSchema``, ``PaginatedResponse`` and result classes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import fields
from typing import Any

import httpx
import pytest
from agno.client import AgentOSClient
from agno.db.schemas.evals import EvalType
from agno.eval import AccuracyResult, ReliabilityResult
from agno.eval.accuracy import AccuracyEvaluation
from agno.os.routers.evals.schemas import EvalSchema
from agno.utils.http import aclose_default_clients

from tests.api.eval_runs_helpers import register_chat_agent, script_agent_and_judge
from tests.factories import RunningAssay
from tests.fakes.openai_server import FakeLLM

MULTIPLY = [{"name": "multiply", "arguments": {"a": 10, "b": 5}}]


@pytest.fixture
async def agno(assay: RunningAssay) -> AsyncIterator[AgentOSClient]:
    """Agno's client of the live server; its shared HTTP client is closed as Agno says to."""
    yield AgentOSClient(assay.url)
    await aclose_default_clients()


def result_of(cls: type[Any], eval_data: dict[str, Any]) -> Any:
    """Agno's result dataclass built from ``eval_data``: every field it has must be there."""
    assert {f.name for f in fields(cls)} <= set(eval_data), cls
    return cls(**{f.name: eval_data[f.name] for f in fields(cls) if f.init})


async def test_agnos_client_runs_reliability_with_argument_checks_and_extra_calls(
    assay: RunningAssay, fake_llm: FakeLLM, agno: AgentOSClient
):
    script_agent_and_judge(fake_llm, answer="", tool_calls=[*MULTIPLY, {"name": "log"}])
    key = await assay.key()
    auth = {"Authorization": f"Bearer {key}"}
    async with assay.client(key) as client:
        await register_chat_agent(client, fake_llm)

    async def reliability(**fields: Any) -> EvalSchema | None:
        return await agno.run_eval(
            EvalType.RELIABILITY,
            "What is 10 times 5?",
            agent_id="calc-agent",
            expected_tool_calls=["multiply"],
            headers=auth,
            **fields,
        )

    wrong = await reliability(
        allow_additional_tool_calls=True,
        expected_tool_call_arguments={"multiply": {"a": 999, "b": 999}},
    )
    right = await reliability(
        allow_additional_tool_calls=True,
        expected_tool_call_arguments={"multiply": [{"a": 10}, {"b": 5}]},
    )
    strict = await reliability()

    assert isinstance(wrong, EvalSchema) and isinstance(right, EvalSchema)
    assert strict is not None
    failed = result_of(ReliabilityResult, wrong.eval_data)
    assert failed.eval_status == "FAILED" and failed.run_id == wrong.id
    assert failed.failed_argument_checks == ["multiply"]
    assert failed.additional_tool_calls == ["log"] and failed.failed_tool_calls == []
    passed = result_of(ReliabilityResult, right.eval_data)
    assert passed.eval_status == "PASSED" and passed.passed_argument_checks == ["multiply"]
    assert right.eval_input == {
        "expected_tool_calls": ["multiply"],
        "allow_additional_tool_calls": True,
        "expected_tool_call_arguments": {"multiply": [{"a": 10}, {"b": 5}]},
    }
    assert result_of(ReliabilityResult, strict.eval_data).failed_tool_calls == ["log"]


async def test_agnos_client_lists_reads_renames_and_deletes_runs(
    assay: RunningAssay, fake_llm: FakeLLM, agno: AgentOSClient
):
    script_agent_and_judge(fake_llm, answer="12 times 7 is 84.")
    key = await assay.key()
    auth = {"Authorization": f"Bearer {key}"}
    async with assay.client(key) as client:
        await register_chat_agent(client, fake_llm)

    created = await agno.run_eval(
        EvalType.ACCURACY, "12*7?", agent_id="calc-agent", expected_output="84", headers=auth
    )
    assert created is not None
    page = await agno.list_eval_runs(eval_types=[EvalType.ACCURACY], sort_by="name", headers=auth)
    one = await agno.get_eval_run(created.id, headers=auth)
    renamed = await agno.update_eval_run(created.id, "times table", headers=auth)
    await agno.delete_eval_runs([created.id], headers=auth)
    after = await agno.list_eval_runs(headers=auth)

    assert [run.id for run in page.data] == [created.id] and page.meta.total_count == 1
    accuracy = one.eval_data
    result = result_of(
        AccuracyResult,
        accuracy | {"results": [AccuracyEvaluation(**r) for r in accuracy["results"]]},
    )
    assert result.run_id == created.id and result.avg_score == accuracy["avg_score"]
    assert renamed is not None and renamed.name == "times table"
    assert after.meta.total_count == 0


async def test_agnos_client_sees_agnos_status_codes_and_details(
    assay: RunningAssay, agno: AgentOSClient
):
    auth = {"Authorization": f"Bearer {await assay.key()}"}

    with pytest.raises(httpx.HTTPStatusError) as both:
        await agno.run_eval(
            EvalType.ACCURACY,
            "q",
            agent_id="a",
            team_id="t",
            expected_output="x",
            headers=auth,
        )
    with pytest.raises(httpx.HTTPStatusError) as no_db:
        await agno.list_eval_runs(table="eval_runs", headers=auth)

    assert both.value.response.status_code == 400
    assert both.value.response.json() == {
        "detail": "Only one of agent_id or team_id must be provided"
    }
    assert no_db.value.response.status_code == 400
    assert "db_id" in no_db.value.response.json()["detail"]
