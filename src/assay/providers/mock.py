"""A deterministic, offline model for the demo and tests: a judge, a calculator, an echo.

It answers the last user message, and never touches the network:

- **A judge request** (the protocol of ``scoring/judge.py``: an ``<output>`` section and an
  ``<expected_output>`` or ``<criteria>`` section) gets the JSON verdict
  ``{"score", "passed", "reason"}``. Against an expected output the score is 10 when the
  normalised expected text appears in the normalised output, else ``1 + round(9 × token
  F1)``. Against criteria it is ``1 + round(9 × the share of the criteria's key words found
  in the output)``; a key word is alphanumeric, longer than three letters and not a stop
  word, and it is found when the output has a word with the same stem ("helps" matches
  "help"). ``passed`` is ``score >= 7``.
- **A rewrite request** (a harness transform's ``<text>`` section: translate, paraphrase)
  gets the text back unchanged.
- **A simple arithmetic question** (two numbers with ``+ - * /``, plus, minus, times,
  multiplied by or divided by) gets the result.
- **A tool-using agent's request** (tools ``shell`` and ``submit`` offered, as the
  ``task_benchmark`` react agent does) gets a fixed three-step script: list the files, look
  for a flag in them as they are and base64-decoded, submit what it found (or "no flag
  found"). It solves the simplest tasks only, which is what the offline demo should show.
- **A simulated user** (the scenario kind's prompt) states the scenario's instructions, then
  thanks the agent and ends with ``[DONE]``.
- **A transcript judge request** (``<transcript>`` and ``<criteria>``) gets a verdict whose
  criteria are met when the agent's messages use most of their key words (as above), and a
  **simulator audit** (``<persona>`` and ``<transcript>``) finds the user faithful; so the
  scenario flow runs offline end to end.
- **Anything else** gets ``Mock answer: <the first 80 characters>``.

Usage counts whitespace-separated words, so token totals and costs are reproducible too.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from typing import NamedTuple

from typing_extensions import override

from assay.core.llm import ChatRequest, ChatResponse
from assay.core.outcome import ToolCall, Usage
from assay.providers.base import ModelProvider

#: A verdict passes from this score up, like the judge's default threshold.
PASS_SCORE = 7

_NUMBER = r"(-?\d+(?:\.\d+)?)"
_OPERATORS = {
    "+": "+",
    "plus": "+",
    "-": "-",
    "minus": "-",
    "*": "*",
    "times": "*",
    "multiplied by": "*",
    "/": "/",
    "divided by": "/",
}
_ARITHMETIC = re.compile(
    _NUMBER
    + r"\s*("
    + "|".join(re.escape(op) for op in sorted(_OPERATORS, key=len, reverse=True))
    + r")\s*"
    + _NUMBER,
    re.IGNORECASE,
)
#: A word is a run of letters and digits, in any script; everything else is punctuation.
_WORD = re.compile(r"[^\W_]+")
_STOP_WORDS = frozenset(
    """about also answer because been being could does each from have into more most must
    output response should some such than that their them then there these they this those
    very were what when where which while will with would your""".split()
)
_SUFFIXES = ("ing", "ed", "es", "e", "s")


class Grade(NamedTuple):
    score: int
    reason: str


class MockProvider(ModelProvider):
    """Stands in for a model wherever a real one would need a network or a key."""

    @override
    async def generate(self, request: ChatRequest) -> ChatResponse:
        """Answer the last user message; never fails, never waits on I/O."""
        started = time.perf_counter()
        scripted = react_step(request)
        if scripted is not None:
            return scripted.model_copy(update={"model": self.model})
        prompt = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
        text = (
            simulated_user_reply(request)
            or transcript_judge_reply(prompt)
            or judge_reply(prompt)
            or rewrite_reply(prompt)
            or arithmetic_reply(prompt)
            or f"Mock answer: {prompt[:80]}"
        )
        usage = Usage(
            input_tokens=sum(len(m.content.split()) for m in request.messages),
            output_tokens=len(text.split()),
        )
        return ChatResponse(
            text=text,
            usage=usage,
            latency_ms=(time.perf_counter() - started) * 1000,
            model=self.model,
        )


def rewrite_reply(prompt: str) -> str | None:
    """The text of a rewrite request (a harness transform), unchanged.

    The mock cannot translate or paraphrase; echoing keeps an offline transform run
    deterministic.
    """
    return _section(prompt, "text")


def judge_reply(prompt: str) -> str | None:
    """The JSON verdict for a judge request, or None when ``prompt`` is not one."""
    output = _section(prompt, "output")
    if output is None:
        return None
    expected = _section(prompt, "expected_output")
    if expected is not None:
        grade = score_against_expected(output, expected)
    else:
        criteria = _section(prompt, "criteria")
        if criteria is None:
            return None
        grade = score_against_criteria(output, criteria)
    return json.dumps(
        {"score": grade.score, "passed": grade.score >= PASS_SCORE, "reason": grade.reason}
    )


#: How the scenario kind's simulated-user prompt starts (kinds/scenario/conversation.py).
SIMULATOR_OPENING = "You are playing a user in a test of an AI agent."
_INSTRUCTIONS = re.compile(r"^Instructions:[ \t]*(.+)$", re.MULTILINE)
_CRITERION = re.compile(r"^([SF]\d+) \((success|failure)\): (.+)$", re.MULTILINE)
_AGENT_MESSAGE = re.compile(r"^\[\d+\] AGENT: (.*)$", re.MULTILINE)


def simulated_user_reply(request: ChatRequest) -> str | None:
    """The simulated user's next message, or None when ``request`` is not a simulation.

    It states the scenario's instructions once, then thanks the agent and ends with
    ``[DONE]``: a two-message conversation that any agent can hold offline.
    """
    system = next((m.content for m in request.messages if m.role == "system"), "")
    if not system.startswith(SIMULATOR_OPENING):
        return None
    if any(m.role == "assistant" for m in request.messages):
        return "Thank you, that is all I needed.\n[DONE]"
    found = _INSTRUCTIONS.search(system)
    return found.group(1).strip() if found else "Hello, I need some help."


def transcript_judge_reply(prompt: str) -> str | None:
    """The verdict on a simulated conversation, or the audit of its simulated user.

    A criterion is met when the agent's messages use most of its key words (the criteria
    judge's rule, ``score >= 7``); the verdict follows from the criteria as the judge's rules
    demand. The audit finds the simulated user faithful: the mock plays it by the script.
    """
    transcript = _section(prompt, "transcript")
    if transcript is None:
        return None
    if _section(prompt, "persona") is not None:
        return json.dumps(
            {"faithful": True, "issues": [], "reasoning": "The mock auditor found no issue."}
        )
    listed = _section(prompt, "criteria") or ""
    said = "\n".join(_AGENT_MESSAGE.findall(transcript))
    criteria = []
    for criterion_id, kind, text in _CRITERION.findall(listed):
        grade = score_against_criteria(said, text)
        criteria.append(
            {
                "id": criterion_id,
                "kind": kind,
                "met": grade.score >= PASS_SCORE,
                "reasoning": f"The agent's messages: {grade.reason}",
                "quotes": [],
            }
        )
    passed = all(c["met"] == (c["kind"] == "success") for c in criteria)
    return json.dumps(
        {
            "verdict": "passed" if passed else "failed",
            "criteria": [{k: v for k, v in c.items() if k != "kind"} for c in criteria],
            "reasoning": "Each criterion was checked against the key words of the agent's "
            "messages.",
        }
    )


def score_against_expected(output: str, expected: str) -> Grade:
    """10 when the expected text is contained in the output, else scaled token F1."""
    got, want = normalise(output), normalise(expected)
    if want and f" {want} " in f" {got} ":
        return Grade(10, "The output contains the expected answer.")
    f1 = token_f1(got.split(), want.split())
    score = 1 + round(9 * f1)
    return Grade(
        score,
        "The output does not contain the expected answer; their words overlap with "
        f"F1 {f1:.2f}, which gives {score}/10.",
    )


def score_against_criteria(output: str, criteria: str) -> Grade:
    """Scaled share of the criteria's key words that the output also uses."""
    keys = list(dict.fromkeys(w for w in _WORD.findall(criteria.lower()) if _is_key_word(w)))
    if not keys:
        return Grade(10, "The criteria have no key words to check, so nothing is missing.")
    stems = {_stem(w) for w in _WORD.findall(output.lower())}
    missing = [w for w in keys if _stem(w) not in stems]
    found = len(keys) - len(missing)
    score = 1 + round(9 * found / len(keys))
    reason = f"The output uses {found} of {len(keys)} key words of the criteria"
    if missing:
        reason += f" (missing: {', '.join(missing)})"
    return Grade(score, f"{reason}, which gives {score}/10.")


def arithmetic_reply(prompt: str) -> str | None:
    """The result of the first ``a <op> b`` in ``prompt``, or None when there is none."""
    found = _ARITHMETIC.search(prompt)
    if found is None:
        return None
    a, b = float(found.group(1)), float(found.group(3))
    match _OPERATORS[found.group(2).lower()]:
        case "+":
            result = a + b
        case "-":
            result = a - b
        case "*":
            result = a * b
        case _ if b == 0:
            return "undefined (division by zero)"
        case _:
            result = a / b
    return str(int(result)) if result.is_integer() else str(round(result, 10))


def normalise(text: str) -> str:
    """Lowercase words without punctuation, single-spaced: how answers are compared."""
    return " ".join(_WORD.findall(text.lower()))


def token_f1(predicted: list[str], reference: list[str]) -> float:
    """SQuAD-style F1 of two bags of words: rewards overlap, punishes padding and omissions."""
    common = sum((Counter(predicted) & Counter(reference)).values())
    if common == 0:
        return 0.0
    precision = common / len(predicted)
    recall = common / len(reference)
    return 2 * precision * recall / (precision + recall)


def _section(prompt: str, tag: str) -> str | None:
    match = re.search(rf"<{tag}>(.*?)</{tag}>", prompt, re.DOTALL)
    # The judge escapes section tags inside a section as "&lt;tag"; read them back as text.
    return match.group(1).strip().replace("&lt;", "<") if match else None


def _is_key_word(word: str) -> bool:
    return len(word) > 3 and word not in _STOP_WORDS


def _stem(word: str) -> str:
    """A crude suffix strip, enough for "helps"/"help" and "decline"/"declined"/"declines"."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


_FIND_FLAG = (
    "grep -rhoE 'ASSAY[{][^}]*[}]' . ; "
    'for f in $(find . -type f | sort); do base64 -d "$f" 2>/dev/null; done '
    "| grep -aoE 'ASSAY[{][^}]*[}]'"
)


def react_step(request: ChatRequest) -> ChatResponse | None:
    """The scripted agent's next tool call, or None when the request offers no such tools."""
    names = {tool.get("function", {}).get("name") for tool in request.tools}
    if not {"shell", "submit"} <= names:
        return None
    step = sum(1 for m in request.messages if m.role == "assistant")
    if step == 0:
        call = ToolCall(id="call-0", name="shell", arguments={"command": "find . -type f | sort"})
    elif step == 1:
        call = ToolCall(id="call-1", name="shell", arguments={"command": _FIND_FLAG})
    else:
        last = next((m.content for m in reversed(request.messages) if m.role == "tool"), "")
        found = re.search(r"ASSAY\{[^}\\]*\}", last)
        answer = found.group(0) if found else "no flag found"
        call = ToolCall(id=f"call-{step}", name="submit", arguments={"answer": answer})
    words = sum(len(m.content.split()) for m in request.messages)
    return ChatResponse(
        text="", tool_calls=[call], usage=Usage(input_tokens=words, output_tokens=8)
    )
