from __future__ import annotations

import pytest

from assay.core.outcome import Usage
from assay.providers.pricing import cost_usd

MILLION = Usage(input_tokens=1_000_000, output_tokens=1_000_000)


def test_a_listed_model_costs_its_input_and_output_price():
    usage = Usage(input_tokens=2_000, output_tokens=500)

    assert cost_usd("openai/gpt-4o", usage) == pytest.approx((2_000 * 2.50 + 500 * 10.00) / 1e6)


def test_a_dated_model_takes_its_familys_price():
    assert cost_usd("openai/gpt-4o-mini-2024-07-18", MILLION) == pytest.approx(0.15 + 0.60)
    assert cost_usd("anthropic/claude-sonnet-4-20250514", MILLION) == pytest.approx(3 + 15)


def test_the_most_specific_family_wins_over_a_broader_prefix():
    assert cost_usd("openai/gpt-4o-mini", MILLION) == pytest.approx(0.75)
    assert cost_usd("openai/gpt-4o", MILLION) == pytest.approx(12.50)
    assert cost_usd("anthropic/claude-opus-4-5-20251101", MILLION) == pytest.approx(30.0)
    assert cost_usd("anthropic/claude-opus-4-1", MILLION) == pytest.approx(90.0)


@pytest.mark.parametrize("label", ["openai/my-finetune", "ollama/llama3", "mock/judge", None, ""])
def test_unknown_models_and_the_mock_cost_nothing(label: str | None):
    assert cost_usd(label, MILLION) == 0.0


def test_an_override_replaces_the_built_in_price_and_covers_dated_versions():
    overrides = {"openai/gpt-4o": (1.0, 2.0)}

    assert cost_usd("openai/gpt-4o", MILLION, overrides) == pytest.approx(3.0)
    assert cost_usd("openai/gpt-4o-2024-08-06", MILLION, overrides) == pytest.approx(3.0)
    assert cost_usd("openai/gpt-4o-mini", MILLION, overrides) == pytest.approx(0.75)


def test_an_override_prices_a_model_the_table_does_not_know():
    assert cost_usd("ollama/llama3", MILLION, {"ollama/llama3": (0.5, 0.5)}) == pytest.approx(1.0)
