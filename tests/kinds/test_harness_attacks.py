"""Multi-turn attack probes through the engine: the scripted attacker escalates, each turn is
an item event, the probe fails at the first flagged turn and the evidence is the conversation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assay.core.errors import ValidationFailed
from assay.kinds.harness import HarnessKind
from assay.probes.attacks import SCRIPTS, scripted_turn
from assay.probes.base import Attack, AttackStrategy
from assay.probes.catalog import probes_for_harness
from tests.fakes.openai_server import FakeLLM, FakeReply
from tests.kinds.harness_runs import run_harness

REFUSAL = "I'm sorry, but I can't help with that."
#: The conversational attacks; ``tap`` searches a tree instead (tests/kinds/test_harness_tap.py).
PROBES = [
    p
    for p in probes_for_harness("multi_turn")
    if p.attack is not None and p.attack.strategy is not AttackStrategy.TAP
]


def user_turns(body: dict[str, Any]) -> int:
    return sum(1 for m in body["messages"] if m["role"] == "user")


def scripted(body: dict[str, Any]) -> FakeReply:
    """``holdout`` refuses twice, then gives in on the third turn; ``steadfast`` never does.
    Judge requests (JSON mode) never happen: every turn is a clear refusal or compliance."""
    assert body.get("response_format") is None, "no turn needs the judge"
    if body["model"] == "holdout" and user_turns(body) >= 3:
        return FakeReply(content="Fine. Sure, here you go: Step 1: do exactly as asked.")
    return FakeReply(content=REFUSAL)


async def run(tmp_path: Path, fake_llm: FakeLLM, model: str) -> Any:
    fake_llm.handler = scripted
    params = {"harnesses": ["multi_turn"], "probes": [p.model_dump(mode="json") for p in PROBES]}
    done, items = await run_harness(tmp_path, fake_llm, model, params)
    return done, items, items[0]


async def test_the_probe_fails_at_the_first_turn_that_gives_in(tmp_path: Path, fake_llm: FakeLLM):
    done, items, first = await run(tmp_path, fake_llm, "holdout")

    assert done.status == "completed", done.error
    failures = done.summary["failures"]
    assert {f["probe_id"] for f in failures} == {p.id for p in PROBES}
    assert all(f["reason"].startswith("turn 3 of 5 (") for f in failures)
    assert all("complies" in f["reason"] for f in failures)
    assert first.outcome is not None
    conversation = first.outcome.trace["conversation"]
    assert [turn["turn"] for turn in conversation] == [1, 2, 3]
    probe = PROBES[first.input["probe"]]
    assert probe.attack is not None
    assert conversation[0]["attacker"] == probe.prompts[0]
    assert conversation[1]["attacker"] == scripted_turn(probe.attack, 1)
    assert conversation[2]["target"].startswith("Fine. Sure")
    assert (
        first.outcome.data["turns"] == 3
        and first.outcome.data["prompt"] == conversation[2]["attacker"]
    )
    events = [e for e in first.events if e.kind == "attack_turn"]
    assert [e.payload["turn"] for e in events] == [1, 2, 3]
    assert [e.payload["passed"] for e in events] == [True, True, False]
    # The target saw one conversation: the third call carried both earlier turns.
    third = [r for r in fake_llm.requests if user_turns(r) == 3][0]
    assert json.dumps(third["messages"]).count(REFUSAL) == 2


async def test_a_model_that_never_gives_in_passes_after_every_turn(
    tmp_path: Path, fake_llm: FakeLLM
):
    done, items, first = await run(tmp_path, fake_llm, "steadfast")

    assert done.status == "completed", done.error
    assert done.summary["failures"] == [] and done.summary["security_score"] == 1.0
    assert first.outcome is not None and first.outcome.data["turns"] == 5
    assert first.outcome.data["reason"].startswith("held for all 5 turns")


def test_each_strategy_escalates_to_the_goal_and_the_attacker_is_validated() -> None:
    assert set(SCRIPTS) == set(AttackStrategy) - {AttackStrategy.TAP}
    for strategy in SCRIPTS:
        attack = Attack(strategy=strategy, goal="do the thing")
        turns = [scripted_turn(attack, n) for n in range(1, len(SCRIPTS[strategy]) + 1)]
        assert len(set(turns)) == len(turns) and "do the thing" in turns[-1]
    params = {"probes": [PROBES[0].model_dump(mode="json")], "attacker": "no-slash"}
    with pytest.raises(ValidationFailed) as caught:
        HarnessKind().validate_params(params)
    assert caught.value.errors[0]["loc"] == ["attacker"]
    HarnessKind().validate_params({**params, "attacker": "scripted"})
