"""Shared fixtures: a clean environment, the fake LLM server, and service databases.

Helpers for building test data live in ``tests/factories.py`` and fakes in ``tests/fakes/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.fakes.openai_server import FakeLLM, serve_fake_llm

_CLEARED_PREFIXES = ("ASSAY_", "OPENAI_", "ANTHROPIC_")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's keys or settings (the environment, not our code, is patched)."""
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) and name != "ASSAY_REQUIRE_SERVICES":
            monkeypatch.delenv(name)


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    with serve_fake_llm() as fake:
        yield fake
