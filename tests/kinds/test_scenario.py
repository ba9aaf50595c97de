"""The ``scenario`` kind through the real engine: a simulated user, a judge and an auditor on
the fake LLM server, and a scripted booking agent behind the ``python`` target."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from assay.core.errors import ValidationFailed
from assay.core.spec import EvaluationSpec, Limits, TargetSpec
from assay.kinds._registry import get_kind
from assay.kinds.scenario import ScenarioKind
from assay.kinds.scenario.conversation import split_marker
from assay.providers.base import ProviderConfig
from assay.providers.openai import OpenAIProvider
from assay.scoring.transcripts import (
    JUDGE_SYSTEM_PROMPT,
    Criterion,
    TranscriptJudge,
    quote_in_transcript,
)
from assay.services.container import open_container
from assay.services.evaluations import create_evaluation, wait_for_evaluation
from assay.services.runs import local_principal
from assay.store.repositories.events import item_events
from assay.store.repositories.items import item_records
from assay.store.tables import Item
from tests.factories import make_settings
from tests.fakes.openai_server import FakeLLM, FakeReply
from tests.kinds import scenario_agent
from tests.kinds.scenario_agent import CANCELLED, CARD, CONFIRM, WHICH
from tests.kinds.support import LabelledLLM

KIND = ScenarioKind()
INVENTED = "please send me your PIN as well"

SCENARIOS = [
    {
        "id": "cancel",
        "name": "Cancel booking",
        "instructions": "You booked BK-1 and want it cancelled.",
        "max_messages": 10,
        "success_criteria": "Agent confirms the cancellation",
        "failure_criteria": "Agent asks for payment card details",
    },
    {
        "id": "change",
        "name": "Change date",
        "instructions": "You want booking BK-2 moved to May 3.",
        "max_messages": 4,
        "success_criteria": "Agent confirms the new date",
    },
]
PERSONAS = [
    {
        "id": "calm",
        "name": "Calm Carla",
        "description": "Patient retiree.",
        "traits": {"patience": "high"},
    },
    {
        "id": "rushed",
        "name": "Rushed Rick",
        "description": "In a hurry.",
        "traits": {"patience": 1},
    },
    {"id": "rogue", "name": "Rogue Rita", "description": "A simulator gone wrong.", "traits": {}},
]
ALL_RUNS = [{"scenario_id": s["id"], "persona_id": p["id"]} for s in SCENARIOS for p in PERSONAS]
ROGUE_LINE = "Hello, I am the booking assistant. I have cancelled booking BK-1 for you."


def params(runs: list[dict[str, str]] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "scenarios": SCENARIOS,
        "personas": PERSONAS,
        "runs": ALL_RUNS if runs is None else runs,
        "simulator": {"provider": "openai", "model": "simulator"},
        **extra,
    }


# --------------------------------------------------------------------------- the fake models


def section(text: str, tag: str) -> str:
    match = re.search(f"<{tag}>\n(.*?)\n</{tag}>", text, re.DOTALL)
    return match.group(1) if match else ""


def simulated_user(messages: list[dict[str, Any]]) -> str:
    system = messages[0]["content"]
    persona = re.search(r"Name: (\w+ \w+)\nDescription", system).group(1)  # type: ignore[union-attr]
    scenario = "cancel" if "want it cancelled" in system else "change"
    agent_said = messages[-1]["content"] if len(messages) > 2 else ""
    if persona == "Rogue Rita":
        return f"{ROGUE_LINE}\n[DONE]"
    if persona == "Rushed Rick":
        if scenario == "change":
            return "URGENT move BK-2 to 03/05!!!"
        return "Forget it.\n[GIVE_UP]" if agent_said else "URGENT: cancel BK-1 now."
    if scenario == "change":
        return "I'd like to change the date of my booking BK-2 to May 3."
    if CANCELLED in agent_said:
        return "Thank you, that's all.\n[DONE]"
    if CONFIRM in agent_said:
        return "Yes, please go ahead."
    return "Hi, I need to cancel my booking BK-1, please."


def judge_reply(user: str) -> dict[str, Any]:
    transcript = section(user, "transcript")
    context = section(user, "context")
    ids = re.findall(r"^(S\d+|F\d+) \(", section(user, "criteria"), re.MULTILINE)

    def criteria(met: dict[str, bool], quotes: dict[str, list[str]]) -> list[dict[str, Any]]:
        return [
            {
                "id": i,
                "met": met.get(i, False),
                "reasoning": f"about {i}",
                "quotes": quotes.get(i, []),
            }
            for i in ids
        ]

    if "is cancelled" in transcript or "I have cancelled" in transcript:
        quote = (
            "your booking BK-1 is cancelled"
            if "is cancelled" in transcript
            else "I have cancelled booking BK-1"
        )
        return {
            "verdict": "passed",
            "criteria": criteria({"S1": True}, {"S1": [quote]}),
            "reasoning": "confirmed",
        }
    if "credit card number" in transcript:
        return {
            "verdict": "failed",
            "criteria": criteria(
                {"F1": True}, {"F1": ["I need your full credit card number", INVENTED]}
            ),
            "reasoning": "asked for the card",
        }
    if "cut off" in context:
        return {"verdict": "inconclusive", "criteria": criteria({}, {}), "reasoning": "cut off"}
    return {"verdict": "failed", "criteria": criteria({}, {}), "reasoning": "the agent broke"}


def audit_reply(user: str) -> dict[str, Any]:
    if "I am the booking assistant" in section(user, "transcript"):
        issue = {
            "type": "played_agent",
            "turn": 1,
            "quote": "I am the booking assistant",
            "explanation": "the user spoke as the agent",
        }
        return {"faithful": False, "issues": [issue], "reasoning": "the user played the agent"}
    return {"faithful": True, "issues": [], "reasoning": "in persona throughout"}


def scripted_models(body: dict[str, Any]) -> FakeReply:
    messages = body["messages"]
    system = messages[0]["content"]
    if system.startswith("You are playing a user"):
        return FakeReply(content=simulated_user(messages), prompt_tokens=20, completion_tokens=8)
    if system.startswith("You audit a user simulator"):
        return FakeReply(content=json.dumps(audit_reply(messages[-1]["content"])))
    if system.startswith("You are an impartial evaluator of conversational"):
        if "Crash judge" in messages[-1]["content"]:
            return FakeReply(status=400)
        return FakeReply(content=json.dumps(judge_reply(messages[-1]["content"])))
    raise AssertionError(f"unrouted request: {system[:60]}")


# --------------------------------------------------------------------------- the engine


async def run_scenarios(
    settings: Any, spec_params: dict[str, Any], limits: Limits | None = None
) -> tuple[Any, list[Any], list[str], dict[str, list[Any]]]:
    """Run one scenario evaluation; its view, items, item ids in seq order and events by item id."""
    container = await open_container(settings)
    await container.start_engine()
    try:
        principal = await local_principal(container)
        spec = EvaluationSpec(
            kind="scenario",
            target=TargetSpec(
                kind="python", config={"callable": "tests.kinds.scenario_agent:agent"}
            ),
            params=spec_params,
            limits=limits or Limits(),
        )
        view = await create_evaluation(container, principal, spec)
        done = await wait_for_evaluation(container, principal, view.id, timeout=40)
        async with container.db.connect() as conn:
            records = [record async for record in item_records(conn, view.id)]
            rows = await conn.execute(
                select(Item.id, Item.seq).where(Item.evaluation_id == view.id).order_by(Item.seq)
            )
            ids = [item_id for item_id, _ in rows.all()]
            events = await item_events(conn, ids)
        by_item: dict[str, list[Any]] = {}
        for event in events:
            by_item.setdefault(event.item_id, []).append(event)
        return done, records, ids, by_item
    finally:
        await container.aclose()


@pytest.fixture
def settings(tmp_path: Path, fake_llm: FakeLLM) -> Any:
    fake_llm.handler = scripted_models
    scenario_agent.CALLS.clear()
    return make_settings(tmp_path, fake_llm=fake_llm)


def data_of(records: list[Any], persona: str, scenario: str) -> dict[str, Any]:
    return next(
        r.outcome.data
        for r in records
        if r.outcome
        and (r.outcome.data["persona_id"], r.outcome.data["scenario_id"]) == (persona, scenario)
    )


async def test_the_matrix_of_two_scenarios_by_three_personas(settings):
    done, records, ids, events = await run_scenarios(settings, params())

    assert done.status == "completed", done.error
    summary = done.summary
    assert summary["runs"] == 6
    assert summary["verdicts"] == {
        "passed": 1,
        "failed": 2,
        "inconclusive": 1,
        "simulator_error": 2,
    }
    assert summary["pass_rate"] == round(1 / 3, 4)
    assert (
        0
        < summary["pass_rate_ci95"]["lower"]
        < summary["pass_rate"]
        < summary["pass_rate_ci95"]["upper"]
    )
    assert summary["terminations"] == {
        "user_done": 3,
        "gave_up": 1,
        "max_messages": 1,
        "agent_error": 1,
        "item_error": 0,
    }
    matrix = summary["matrix"]
    assert [s["id"] for s in matrix["scenarios"]] == ["cancel", "change"]
    assert [p["id"] for p in matrix["personas"]] == ["calm", "rushed", "rogue"]
    calm_cancel = matrix["cells"]["cancel"]["calm"]
    assert (calm_cancel["runs"], calm_cancel["passed"], calm_cancel["pass_rate"]) == (1, 1, 1.0)
    assert calm_cancel["verdicts"] == [{"run": 0, "verdict": "passed"}]
    assert matrix["cells"]["change"]["rogue"]["simulator_error"] == 1
    assert matrix["cells"]["change"]["rogue"]["pass_rate"] is None
    assert matrix["rows"]["cancel"]["pass_rate"] == 0.5
    assert matrix["rows"]["change"]["pass_rate"] == 0.0
    assert matrix["rows"]["change"]["inconclusive"] == 1
    assert matrix["columns"]["calm"]["pass_rate"] == 1.0
    assert matrix["columns"]["rushed"]["pass_rate"] == 0.0
    assert matrix["columns"]["rushed"]["pass_rate_ci95"]["upper"] < 1.0
    assert matrix["columns"]["rogue"] | {"pass_rate_ci95": None} == {
        "runs": 2,
        "passed": 0,
        "failed": 0,
        "inconclusive": 0,
        "simulator_error": 2,
        "excluded": 0,
        "pass_rate": None,
        "pass_rate_ci95": None,
    }
    assert matrix["coverage"] == {"pairs": 6, "covered": 6}
    assert {e["persona_id"] for e in summary["simulator_errors"]} == {"rogue"}
    assert summary["simulator_errors"][0]["issues"][0]["type"] == "played_agent"
    assert summary["mean_turns"] == 2.5  # (5 + 3 + 1 + 4 + 1 + 1) / 6
    assert set(summary["usage"]["by_role"]) == {"agent", "simulator", "judge", "audit"}
    assert summary["usage"]["by_role"]["simulator"]["output_tokens"] == 8 * 10
    assert summary["counts"]["total"] == 6 and summary["counts"]["infra_error"] == 0


async def test_a_conversation_that_reaches_success(settings):
    _, records, ids, events = await run_scenarios(settings, params([ALL_RUNS[0]]))

    data = records[0].outcome.data
    assert records[0].state == "passed"
    assert data["verdict"] == "passed" and data["termination"] == "user_done"
    assert [t["role"] for t in data["transcript"]] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert data["transcript"][-1]["content"] == "Thank you, that's all."
    assert data["turn_count"] == 5
    assert data["transcript"][3]["tool_calls"] == [
        {"name": "cancel_booking", "arguments": {"booking": "BK-1"}, "id": None}
    ]
    assert len(data["agent_latency_ms"]) == 2
    assert data["criteria"][0] | {"reasoning": ""} == {
        "id": "S1",
        "criterion": "Agent confirms the cancellation",
        "kind": "success",
        "met": True,
        "reasoning": "",
        "quotes": ["your booking BK-1 is cancelled"],
        "unverified_quotes": [],
    }
    assert data["criteria"][1]["kind"] == "failure" and data["criteria"][1]["met"] is False
    assert data["audit"]["performed"] is True and data["audit"]["faithful"] is True
    usage = data["usage"]
    assert usage["simulator"]["input_tokens"] == 3 * 20
    assert usage["total"]["input_tokens"] == records[0].outcome.metrics.input_tokens
    # every turn was stored as an event, in order, and the session was this item's own
    turns = [e.payload for e in events[ids[0]] if e.kind == "turn"]
    assert turns == data["transcript"]
    assert [call[0] for call in scenario_agent.CALLS] == [ids[0], ids[0]]
    assert [call[1] for call in scenario_agent.CALLS] == [0, 2]


async def test_a_failure_criterion_fails_the_run_with_verified_quotes_only(settings):
    _, records, _, _ = await run_scenarios(settings, params([ALL_RUNS[1]]))

    data = records[0].outcome.data
    assert records[0].state == "failed" and records[0].outcome.passed is False
    assert data["verdict"] == "failed" and data["termination"] == "gave_up"
    failure = next(c for c in data["criteria"] if c["kind"] == "failure")
    assert failure["met"] is True
    assert failure["quotes"] == ["I need your full credit card number"]
    assert failure["unverified_quotes"] == [INVENTED]
    assert data["transcript"][1]["content"] == CARD
    assert data["transcript"][-1]["content"] == "Forget it."


async def test_max_messages_cuts_the_conversation_off(settings):
    _, records, _, _ = await run_scenarios(settings, params([ALL_RUNS[3]]))

    data = records[0].outcome.data
    assert data["termination"] == "max_messages"
    assert data["turn_count"] == 4 == len(data["transcript"])
    assert [t["content"] for t in data["transcript"][1::2]] == [WHICH, WHICH]
    assert data["verdict"] == "inconclusive" and records[0].outcome.passed is None


async def test_an_agent_error_ends_the_conversation_and_the_transcript_is_judged(settings):
    _, records, ids, events = await run_scenarios(settings, params([ALL_RUNS[4]]))

    data = records[0].outcome.data
    assert records[0].state == "failed"
    assert data["termination"] == "agent_error"
    assert "could not parse the date" in data["agent_error"]
    assert data["turn_count"] == 1 and data["transcript"][0]["role"] == "user"
    assert data["verdict"] == "failed"
    assert [e.kind for e in events[ids[0]]] == ["turn", "agent_error"]


async def test_an_unfaithful_simulator_is_a_simulator_error_left_out_of_the_pass_rate(settings):
    done, records, ids, _ = await run_scenarios(settings, params([ALL_RUNS[2], ALL_RUNS[0]]))

    rogue = records[0].outcome.data
    assert rogue["judge_verdict"] == "passed"  # the judge was fooled by the simulated user...
    assert rogue["verdict"] == "simulator_error"  # ...the auditor was not
    assert records[0].outcome.passed is None
    assert rogue["audit"]["faithful"] is False
    assert rogue["audit"]["issues"][0]["quote_verified"] is True
    assert "played the agent" in rogue["reasoning"]
    assert {call[0] for call in scenario_agent.CALLS} == {ids[1]}  # rogue never reached it
    assert done.summary["pass_rate"] == 1.0 and done.summary["verdicts"]["simulator_error"] == 1


async def test_without_audit_the_judges_verdict_stands(settings):
    _, records, _, _ = await run_scenarios(settings, params([ALL_RUNS[2]], audit=False))

    data = records[0].outcome.data
    assert data["verdict"] == "passed" and data["audit"]["performed"] is False


async def test_turns_are_stored_as_they_happen_so_a_crash_keeps_them(settings):
    crashing = [{**SCENARIOS[0], "name": "Crash judge"}]
    done, records, ids, events = await run_scenarios(
        settings,
        params([ALL_RUNS[0]]) | {"scenarios": crashing},
        limits=Limits(max_attempts=1, max_retries=0),
    )

    assert records[0].state == "infra_error" and records[0].outcome is None
    turns = [e.payload for e in events[ids[0]] if e.kind == "turn"]
    assert [t["content"] for t in turns] == [
        "Hi, I need to cancel my booking BK-1, please.",
        CONFIRM,
        "Yes, please go ahead.",
        CANCELLED,
        "Thank you, that's all.",
    ]
    assert turns[1]["latency_ms"] >= 0 and turns[1]["tokens"] == {
        "input_tokens": 0,
        "output_tokens": 0,
    }
    assert done.summary["excluded"] == 1 and done.summary["pass_rate"] is None


async def test_each_run_is_a_fresh_conversation(settings):
    _, records, ids, _ = await run_scenarios(settings, params([ALL_RUNS[0], ALL_RUNS[0]]))

    sessions = [call[0] for call in scenario_agent.CALLS]
    assert set(sessions) == {ids[0], ids[1]}
    for session in (ids[0], ids[1]):
        assert [c[1] for c in scenario_agent.CALLS if c[0] == session] == [0, 2]
    assert all(r.outcome.data["verdict"] == "passed" for r in records)


# --------------------------------------------------------------------------- params and parts


def test_the_kind_is_registered_and_plans_one_item_per_run():
    spec = EvaluationSpec(kind="scenario", target=TargetSpec(kind="python"), params=params())

    assert isinstance(get_kind("scenario"), ScenarioKind)
    assert KIND.needs_judge is True
    assert [p.input for p in KIND.plan(spec)] == [{"run": i} for i in range(6)]
    assert KIND.validate_params(params()).scenarios[0].max_messages == 10


@pytest.mark.parametrize(
    ("given", "loc"),
    [
        (params([{"scenario_id": "nope", "persona_id": "calm"}]), ["runs", 0, "scenario_id"]),
        (
            params([ALL_RUNS[0], {"scenario_id": "cancel", "persona_id": "x"}]),
            ["runs", 1, "persona_id"],
        ),
        (params([]), ["runs"]),
        (
            params() | {"scenarios": [{**SCENARIOS[0], "max_messages": 0}]},
            ["scenarios", 0, "max_messages"],
        ),
        (
            params() | {"scenarios": [{**SCENARIOS[0], "max_messages": 101}]},
            ["scenarios", 0, "max_messages"],
        ),
        (params() | {"personas": [PERSONAS[0], PERSONAS[0]]}, ["personas", 1, "id"]),
        (
            params() | {"scenarios": [{**SCENARIOS[0], "maxMessages": 3}]},
            ["scenarios", 0, "maxMessages"],
        ),
        (params(surprise=1), ["surprise"]),
        ({k: v for k, v in params().items() if k != "simulator"}, ["simulator"]),
    ],
)
def test_validation_errors_name_the_field(given, loc):
    with pytest.raises(ValidationFailed) as caught:
        KIND.validate_params(given)

    assert loc in [error["loc"] for error in caught.value.errors]
    assert ".".join(str(p) for p in loc) in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks!\n[DONE]", ("Thanks!", "user_done")),
        ("[DONE]", ("", "user_done")),
        ("This is useless.\n[GIVE_UP]", ("This is useless.", "gave_up")),
        ("ok [give up]", ("ok", "gave_up")),
        ("Still here.", ("Still here.", None)),
    ],
)
def test_stop_markers(text, expected):
    assert split_marker(text) == expected


def test_quotes_are_matched_loosely_but_never_invented():
    turns = [
        {"index": 1, "role": "assistant", "content": "Your  booking is “cancelled”, Ref C-42."}
    ]

    assert quote_in_transcript('your booking is "cancelled"', turns)
    assert quote_in_transcript("Your booking ... Ref C-42", turns)
    assert not quote_in_transcript("Ref C-42 ... your booking", turns)
    assert not quote_in_transcript("refund issued", turns)


async def test_an_inconsistent_judge_is_asked_again_and_invented_evidence_is_inconclusive(
    fake_llm: FakeLLM,
):
    provider = OpenAIProvider("judge", ProviderConfig(api_key="test", base_url=fake_llm.url))
    judge = TranscriptJudge(LabelledLLM(provider))
    turns = [
        {"index": 1, "role": "user", "content": "Cancel BK-1."},
        {"index": 2, "role": "assistant", "content": "Cancelled."},
    ]
    criteria = [
        Criterion("S1", "success", "Agent cancels"),
        Criterion("F1", "failure", "Agent is rude"),
    ]
    inconsistent = {
        "verdict": "passed",
        "criteria": [
            {"id": "S1", "met": True, "reasoning": "r", "quotes": ["Cancelled."]},
            {"id": "F1", "met": True, "reasoning": "r", "quotes": []},
        ],
        "reasoning": "r",
    }
    invented = {
        "verdict": "failed",
        "criteria": [
            {"id": "S1", "met": True, "reasoning": "r", "quotes": ["Cancelled."]},
            {"id": "F1", "met": True, "reasoning": "r", "quotes": ["you idiot"]},
        ],
        "reasoning": "rude",
    }
    fake_llm.push(json.dumps(inconsistent), json.dumps(invented))
    try:
        verdict = await judge.judge("Cancel", "The user ended it.", turns, criteria)
    finally:
        await provider.aclose()

    assert verdict.call.attempts == 2
    assert "failure criterion" in fake_llm.requests[1]["messages"][-1]["content"]
    assert fake_llm.requests[0]["messages"][0]["content"] == JUDGE_SYSTEM_PROMPT
    assert verdict.verdict == "inconclusive"
    assert verdict.criteria[1]["unverified_quotes"] == ["you idiot"]
    assert verdict.notes and "F1" in verdict.notes[0]
