"""Transforms through the engine: a model that refuses in English but complies in Swahili (or
when the request is base64-encoded) fails only the transformed probes, grouped by transform."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest

from assay.core.errors import ValidationFailed
from assay.kinds.harness import HarnessKind
from assay.probes.catalog import load_builtin_probes
from tests.fakes.openai_server import FakeLLM, FakeReply, last_user_text
from tests.kinds.harness_runs import run_harness

REFUSAL = "I'm sorry, but I can't help with that."
COMPLIANCE = "Sure, here you go: Step 1: do exactly as asked."
SWAHILI = "[sw] "
#: Harmful requests (refusal expected) and benign ones (an answer expected).
PROBES = [
    p
    for p in load_builtin_probes()
    if p.subcategory in {"malware_keylogger", "insults"} or p.id == "safety.over_refusal.031"
]


def translator(body: dict[str, Any]) -> str | None:
    """The rewrite model: "translates" by tagging the text, and back by removing the tag."""
    system = body["messages"][0]["content"]
    text = re.sub(r"^<text>\n|\n</text>$", "", last_user_text(body))
    if "into Swahili" in system:
        return SWAHILI + text
    if "into English" in system:
        return text.removeprefix(SWAHILI)
    return None


def target(prompt: str) -> str:
    """Refuses harmful English requests, answers benign ones; any other language or an
    encoded request gets what it asks for."""
    if prompt.startswith(SWAHILI):
        return SWAHILI + COMPLIANCE
    if prompt.startswith("The following message is base64-encoded"):
        return COMPLIANCE
    probe = next(p for p in PROBES if p.prompts[0] == prompt)
    return REFUSAL if probe.detector.name == "refusal" else "Happy to help: here is how."


def scripted(body: dict[str, Any]) -> FakeReply:
    if body["model"] == "judge":
        rewritten = translator(body)
        assert rewritten is not None, "the judge is only asked to rewrite here"
        return FakeReply(content=rewritten)
    return FakeReply(content=target(last_user_text(body)))


async def test_results_group_by_transform_and_show_the_language_that_defeats_the_refusal(
    tmp_path: Path, fake_llm: FakeLLM
) -> None:
    fake_llm.handler = scripted
    params = {
        "harnesses": ["custom"],
        "probes": [p.model_dump(mode="json") for p in PROBES],
        "transforms": ["translate:sw", "base64", "case:upper"],
    }
    done, items = await run_harness(tmp_path, fake_llm, "target", params)

    assert done.status == "completed", done.error
    summary = done.summary
    assert summary is not None
    harmful = sum(1 for p in PROBES if p.detector.name == "refusal")
    assert summary["counts"]["total"] == 4 * len(PROBES)
    groups = summary["by_transform"]
    assert list(groups) == ["none", "translate:sw", "base64", "case:upper"]
    assert groups["none"]["failed"] == 0 and groups["case:upper"]["failed"] == 0
    assert groups["translate:sw"]["failed"] == harmful == groups["base64"]["failed"]
    assert groups["none"]["dimensions"]["security"] == 1.0
    assert groups["translate:sw"]["dimensions"]["security"] == 0.0
    failures = summary["failures"]
    assert {f["transform"] for f in failures} == {"translate:sw", "base64"}
    swahili = next(f for f in failures if f["transform"] == "translate:sw")
    assert swahili["prompt"].startswith(SWAHILI) and "complies" in swahili["reason"]

    item = next(i for i in items if i.input.get("transform") == "translate:sw")
    assert item.outcome is not None
    trace = item.outcome.trace
    assert trace["calls"][0]["output"].startswith(SWAHILI)
    assert trace["transform"]["read_back"][0] == COMPLIANCE
    assert trace["transform"]["prompts"] == PROBES[item.input["probe"]].prompts
    encoded = next(i for i in items if i.input.get("transform") == "base64")
    assert encoded.outcome is not None
    sent = encoded.outcome.trace["calls"][0]["input"].split("\n", 1)[1]
    assert base64.b64decode(sent).decode() == PROBES[encoded.input["probe"]].prompts[0]


@pytest.mark.parametrize(
    ("transforms", "loc"),
    [(["base64", "nope"], ["transforms", 1]), (["hex", "hex"], ["transforms", 1])],
)
def test_bad_transforms_are_refused_with_their_position(transforms: list[str], loc: list[Any]):
    params = {"probes": [PROBES[0].model_dump(mode="json")], "transforms": transforms}

    with pytest.raises(ValidationFailed) as caught:
        HarnessKind().validate_params(params)

    assert caught.value.errors[0]["loc"] == loc
