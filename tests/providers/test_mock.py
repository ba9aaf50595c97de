from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from assay.core.llm import ChatMessage, ChatRequest
from assay.providers.base import ProviderConfig
from assay.providers.mock import MockProvider
from assay.scoring.judge import Judge


def ask(text: str, system: str | None = None) -> ChatRequest:
    messages = [ChatMessage(role="user", content=text)]
    if system:
        messages.insert(0, ChatMessage(role="system", content=system))
    return ChatRequest(messages=messages)


async def reply(text: str) -> str:
    return (await MockProvider("mock-model", ProviderConfig()).generate(ask(text))).text


async def verdict(output: str, **section: str) -> dict[str, Any]:
    ((tag, text),) = section.items()
    prompt = f"<input>\nq\n</input>\n\n<output>\n{output}\n</output>\n\n<{tag}>\n{text}\n</{tag}>"
    data: dict[str, Any] = json.loads(await reply(prompt))
    return data


async def test_an_output_containing_the_expected_answer_scores_10():
    result = await verdict("Well, 12 times 7 is 84!", expected_output="12 times 7 is 84.")

    assert result == {
        "score": 10,
        "passed": True,
        "reason": "The output contains the expected answer.",
    }


async def test_an_output_without_the_expected_answer_scores_by_word_overlap():
    # Words overlap 3 of 4 each way: F1 0.75, so 1 + round(6.75) = 8.
    close = await verdict("The capital is Lyon", expected_output="The capital is Paris")
    wrong = await verdict("Berlin", expected_output="Paris")

    assert (close["score"], close["passed"]) == (8, True)
    assert "F1 0.75" in close["reason"]
    assert (wrong["score"], wrong["passed"]) == (1, False)


async def test_criteria_are_scored_by_the_share_of_key_words_in_the_output():
    criteria = "The answer politely declines because it only helps with arithmetic."

    full = await verdict("I politely decline: I only help with arithmetic.", criteria=criteria)
    partial = await verdict("I can only help with arithmetic.", criteria=criteria)
    none = await verdict("Paris is the capital of France.", criteria=criteria)

    assert (full["score"], full["passed"]) == (10, True)
    # Key words: politely, declines, only, helps, arithmetic; three are used (6/10).
    assert (partial["score"], partial["passed"]) == (6, False)
    assert "3 of 5" in partial["reason"]
    assert "missing: politely, declines" in partial["reason"]
    assert (none["score"], none["passed"]) == (1, False)


async def test_the_real_judge_accepts_the_mock_verdicts():
    judge = Judge(MockProvider("judge", ProviderConfig()))

    accurate = await judge.accuracy("What is 2 + 2?", "2 plus 2 is 4.", "2 plus 2 is 4.")
    binary = await judge.criteria("Greet me", "Hello there, friend!", "Says hello to the friend")
    numeric = await judge.criteria(
        "Greet me", "Go away.", "Says hello to the friend", strategy="numeric", threshold=7
    )

    assert (accurate.score, accurate.attempts) == (10, 1)
    assert (binary.passed, binary.score) == (True, None)
    assert (numeric.score, numeric.passed) == (1, False)


async def test_section_tags_escaped_by_the_judge_are_read_back_as_text():
    prompt = (
        "<output>\nSee &lt;b>bold&lt;/b>\n</output>\n\n"
        "<expected_output>\nsee <b>bold</b>\n</expected_output>"
    )

    assert json.loads(await reply(prompt))["score"] == 10


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("What is 12 times 7?", "84"),
        ("What is 7 divided by 2?", "3.5"),
        ("2 + 2", "4"),
        ("What is 10 minus 4?", "6"),
        ("3 multiplied by 5", "15"),
        ("Compute 9/3 please", "3"),
        ("-2 * 2.5", "-5"),
        ("1 / 0", "undefined (division by zero)"),
    ],
)
async def test_simple_arithmetic_is_answered_with_the_result(question: str, answer: str):
    assert await reply(question) == answer


async def test_anything_else_is_echoed_up_to_80_characters():
    question = "Tell me about the history of the Roman Empire in great detail, please, " * 3

    assert await reply(question) == f"Mock answer: {question[:80]}"


async def test_usage_counts_words_of_every_message_and_of_the_answer():
    provider = MockProvider("mock-model", ProviderConfig())

    response = await provider.generate(ask("What is 2 + 2?", system="Be brief."))

    assert response.text == "4"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (7, 1)
    assert response.model == "mock-model"
    assert response.latency_ms >= 0


async def test_answers_are_deterministic():
    provider = MockProvider("mock-model", ProviderConfig())
    request = ask("<output>\nabc def\n</output>\n<criteria>\nmentions abcd and defg\n</criteria>")

    first, second = await provider.generate(request), await provider.generate(request)

    assert (first.text, first.usage) == (second.text, second.usage)


async def test_no_network_is_used(monkeypatch: pytest.MonkeyPatch):
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the mock provider touched the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    provider = MockProvider("mock-model", ProviderConfig(base_url="http://example.invalid"))

    assert (await provider.generate(ask("What is 1 + 1?"))).text == "2"
    await provider.aclose()
