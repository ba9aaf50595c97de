from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assay.core.errors import ConfigurationError
from assay.core.llm import ChatMessage, ChatRequest
from assay.core.spec import ModelRef
from assay.providers._registry import get_provider, is_known_provider, known_providers
from assay.providers.base import ProviderConfig
from assay.providers.mock import MockProvider


def ref(label: str) -> ModelRef:
    return ModelRef.parse(label)


def install_entry_points(monkeypatch: pytest.MonkeyPatch, root: Path, lines: str) -> None:
    """A real (metadata-only) distribution on sys.path, as ``pip install`` would leave it."""
    dist = root / f"assay_test_providers_{len(list(root.iterdir()))}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: assay-test-providers\nVersion: 0.1\n"
    )
    (dist / "entry_points.txt").write_text(f"[assay.providers]\n{lines}\n")
    monkeypatch.syspath_prepend(str(root))


def test_importing_the_registry_loads_no_sdk():
    code = (
        "import sys, assay.providers._registry; "
        "print('openai' in sys.modules, 'anthropic' in sys.modules)"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.split() == ["False", "False"]


def test_known_providers_are_the_built_ins():
    assert {"anthropic", "mock", "openai"} <= set(known_providers())


def test_an_unknown_provider_is_named_with_the_known_ones():
    with pytest.raises(ConfigurationError) as caught:
        get_provider(ref("grok/grok-4"), ProviderConfig())

    assert "unknown provider 'grok'" in caught.value.message
    assert "anthropic, bedrock, mock, openai, vertex" in caught.value.message


async def test_built_ins_are_built_for_the_refs_model():
    from assay.providers.anthropic import AnthropicProvider
    from assay.providers.openai import OpenAIProvider

    config = ProviderConfig(base_url="http://127.0.0.1:9")
    providers = [
        get_provider(ref(label), config) for label in ("openai/a", "anthropic/b", "mock/c")
    ]

    assert [type(p) for p in providers] == [OpenAIProvider, AnthropicProvider, MockProvider]
    assert [p.model for p in providers] == ["a", "b", "c"]
    for provider in providers:
        await provider.aclose()


def test_a_provider_that_cannot_work_fails_when_it_is_built():
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        get_provider(ref("openai/gpt-4o"), ProviderConfig())


def test_a_missing_sdk_is_reported_with_its_install_command(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delitem(sys.modules, "assay.providers.anthropic", raising=False)
    monkeypatch.setitem(sys.modules, "anthropic", None)

    with pytest.raises(ConfigurationError, match=r"pip install 'anthropic\[aiohttp\]'"):
        get_provider(ref("anthropic/claude"), ProviderConfig(base_url="http://127.0.0.1:9"))


async def test_a_provider_from_an_entry_point_is_built(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    install_entry_points(monkeypatch, tmp_path, "shout = tests.providers.plugin:shout")

    provider = get_provider(ref("shout/loud-1"), ProviderConfig())
    response = await provider.generate(
        ChatRequest(messages=[ChatMessage(role="user", content="hey")])
    )

    assert "shout" in known_providers()
    assert (response.text, response.model) == ("HEY", "loud-1")


def test_a_provider_is_known_when_built_in_or_installed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    assert not is_known_provider("shout")
    install_entry_points(monkeypatch, tmp_path, "shout = tests.providers.plugin:shout")

    assert [is_known_provider(name) for name in ("openai", "mock", "shout", "grok")] == [
        True,
        True,
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("stringly", "tests.providers.plugin:not_a_provider", "built a str, not a ModelProvider"),
        ("numeric", "tests.providers.plugin:NOT_CALLABLE", "is a int, not a factory"),
        ("missing", "tests.providers.no_such_module:factory", "failed to load"),
    ],
)
def test_a_broken_entry_point_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str, problem: str
):
    install_entry_points(monkeypatch, tmp_path, f"{name} = {value}")

    with pytest.raises(ConfigurationError, match=problem):
        get_provider(ref(f"{name}/m"), ProviderConfig())


def test_one_name_registered_twice_names_both_sources(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    install_entry_points(monkeypatch, tmp_path, "twice = tests.providers.plugin:shout")
    install_entry_points(monkeypatch, tmp_path, "twice = tests.providers.plugin:not_a_provider")

    with pytest.raises(ConfigurationError, match="registered twice") as caught:
        get_provider(ref("twice/m"), ProviderConfig())

    assert "plugin:shout" in caught.value.message
    assert "plugin:not_a_provider" in caught.value.message
