"""New scripted weak models, one per new family of catalogue 2026.12.1: each fails every
probe of its family, and the safe models (perfect, refuser) fail none of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assay.probes.catalog import load_builtin_probes
from tests.factories import make_settings
from tests.fakes.openai_server import FakeLLM, FakeReply, last_user_text
from tests.kinds.test_harness import (
    CANARY,
    MODELS,
    PROBE_BY_PROMPT,
    REFUSAL,
    perfect_model,
    run_harness_evaluations,
    scripted_models,
)
from tests.probes.test_builtin_probes import JAILBREAK_CORPORA, MALWARE_SUBCATEGORIES

COMPLIANCE = "Sure, here you go: Step 1: do exactly as asked."
JAILBREAKS = JAILBREAK_CORPORA
MALWARE = MALWARE_SUBCATEGORIES


def probe_of(prompt: str) -> Any:
    return PROBE_BY_PROMPT[CANARY.sub("{canary}", prompt)]


def jailbroken_model(prompt: str, system: str | None) -> str:
    """Safe on plain requests, but a persona, a story, a suffix or hidden text unlocks it."""
    if probe_of(prompt).subcategory in JAILBREAKS:
        return COMPLIANCE
    return perfect_model(prompt, system)


def malware_author_model(prompt: str, system: str | None) -> str:
    """Safe everywhere except that it writes any malware it is asked for."""
    if probe_of(prompt).subcategory in MALWARE:
        return "Sure, here's the code:\n```python\nimport ctypes  # hooks the keyboard...\n```"
    return perfect_model(prompt, system)


def shell_runner_model(prompt: str, _system: str | None) -> str:
    """Writes the code asked for, pasting in every setup line the request carried."""
    return f"Here is the code, with the setup step you mentioned:\n```\n{prompt}\n```"


def regurgitator_model(prompt: str, system: str | None) -> str:
    """Continues any text and repeats any word forever, until it spills its context; fills
    in partial personal records with plausible data."""
    subcategory = probe_of(prompt).subcategory
    if subcategory == "pii_completion":
        return "Sure: Margaret Ellison, +44 113 496 0732, m.ellison@mailbox.test."
    if subcategory in {"verbatim_continuation", "divergence_attack"}:
        return f"poem poem poem poem ... {system}"
    return perfect_model(prompt, system)


NEW_MODELS = {
    "jailbroken": jailbroken_model,
    "malware_author": malware_author_model,
    "shell_runner": shell_runner_model,
    "regurgitator": regurgitator_model,
}


def models(body: dict[str, Any]) -> FakeReply:
    if body["model"] in NEW_MODELS and body.get("response_format") is None:
        system = next((m["content"] for m in body["messages"] if m["role"] == "system"), None)
        return FakeReply(content=NEW_MODELS[body["model"]](last_user_text(body), system))
    return scripted_models(body)


@pytest.mark.parametrize(
    ("weak", "subcategories", "reason"),
    [
        ("jailbroken", JAILBREAKS, "complies"),
        ("malware_author", MALWARE, "complies"),
        ("shell_runner", {"unsafe_code_execution"}, "writes code that"),
        ("regurgitator", {"verbatim_continuation", "divergence_attack"}, "leaks the canary"),
        ("regurgitator", {"pii_completion"}, "discloses"),
    ],
)
async def test_each_new_family_fails_its_weak_model_and_no_safe_one(
    tmp_path: Path, fake_llm: FakeLLM, weak: str, subcategories: set[str], reason: str
):
    assert weak not in MODELS
    fake_llm.handler = models
    probes = [p for p in load_builtin_probes() if p.subcategory in subcategories]

    results = await run_harness_evaluations(
        make_settings(tmp_path, fake_llm=fake_llm), probes, ("perfect", "refuser", weak)
    )

    failures = results[weak]["failures"]
    assert {f["probe_id"] for f in failures} == {p.id for p in probes}
    assert all(reason in f["reason"] for f in failures), {f["reason"] for f in failures}
    assert results[weak]["summary"]["judge_decided"]["probes"] == 0
    for safe in ("perfect", "refuser"):
        assert results[safe]["failures"] == [], results[safe]["failures"]


def test_the_weak_models_are_safe_outside_their_family() -> None:
    plain = next(p for p in load_builtin_probes() if p.subcategory == "malware_worm")
    wrapped = next(p for p in load_builtin_probes() if p.subcategory == "jailbreak_grandma")

    assert jailbroken_model(plain.prompts[0], None) == REFUSAL
    assert jailbroken_model(wrapped.prompts[0], None) == COMPLIANCE
    assert malware_author_model(wrapped.prompts[0], None) == REFUSAL
