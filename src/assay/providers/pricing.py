"""What a model call cost, in USD, from its token usage.

Prices are keyed by ``provider/model`` and matched by the longest prefix, so dated and
versioned ids (``gpt-4o-mini-2024-07-18``) take their family's price while a more specific
family (``gpt-4o-mini``) is never priced as a broader one (``gpt-4o``). A model that is not
listed costs 0.0: an unknown price is reported as nothing rather than guessed. Operators
correct or extend the table with ``Settings.price_overrides``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from assay.core.outcome import Usage


class Price(NamedTuple):
    """USD per million tokens."""

    input: float
    output: float


# Standard (non-batch, non-cached) prices as published by the vendors, late 2025.
PRICES: dict[str, Price] = {
    "openai/gpt-4o": Price(2.50, 10.00),
    "openai/gpt-4o-mini": Price(0.15, 0.60),
    "openai/gpt-4.1": Price(2.00, 8.00),
    "openai/gpt-4.1-mini": Price(0.40, 1.60),
    "openai/gpt-4.1-nano": Price(0.10, 0.40),
    "openai/o3": Price(2.00, 8.00),
    "openai/o3-mini": Price(1.10, 4.40),
    "openai/o4-mini": Price(1.10, 4.40),
    "openai/gpt-5": Price(1.25, 10.00),
    "openai/gpt-5-mini": Price(0.25, 2.00),
    "openai/gpt-5-nano": Price(0.05, 0.40),
    "anthropic/claude-3-haiku": Price(0.25, 1.25),
    "anthropic/claude-3-5-haiku": Price(0.80, 4.00),
    "anthropic/claude-3-5-sonnet": Price(3.00, 15.00),
    "anthropic/claude-3-7-sonnet": Price(3.00, 15.00),
    "anthropic/claude-sonnet-4": Price(3.00, 15.00),
    "anthropic/claude-opus-4": Price(15.00, 75.00),
    "anthropic/claude-opus-4-5": Price(5.00, 25.00),
    "anthropic/claude-haiku-4-5": Price(1.00, 5.00),
}


def cost_usd(
    label: str | None,
    usage: Usage,
    overrides: Mapping[str, tuple[float, float]] | None = None,
) -> float:
    """The cost of ``usage`` on the model ``label`` (``provider/model``); 0.0 when unpriced.

    An override replaces the built-in price of the same key and, like any entry, also prices
    the dated versions of that model.
    """
    if not label:
        return 0.0
    price = price_of(label, overrides or {})
    if price is None:
        return 0.0
    return (usage.input_tokens * price.input + usage.output_tokens * price.output) / 1_000_000


def price_of(label: str, overrides: Mapping[str, tuple[float, float]]) -> Price | None:
    """The entry with the longest key that ``label`` starts with; overrides win ties."""
    label = label.lower()
    best: tuple[str, Price] | None = None
    for table in (PRICES, overrides):
        for key, price in table.items():
            prefix = key.lower()
            if label.startswith(prefix) and (best is None or len(prefix) >= len(best[0])):
                best = (prefix, Price(*price))
    return best[1] if best else None
