"""The catalogue of model providers: built-ins loaded lazily, plugins through entry points.

Importing this module imports no SDK: each built-in is a loader that imports its module on
first use, so a worker that only runs ``mock`` never loads ``openai`` or ``anthropic`` (nor
``boto3`` or ``google.auth``, the optional ``bedrock`` and ``vertex`` extras), and a missing
SDK is reported with its install command when a spec names that provider.

A name that is not built in is looked up in the ``assay.providers`` entry-point group (name
= provider name, value = ``pkg.module:factory``, where ``factory(model, config)`` returns a
``ModelProvider``); the group is read only on such a miss. Built-in names win; two entry
points with one name are an error naming both.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

from assay.core.errors import ConfigurationError
from assay.core.spec import ModelRef
from assay.providers.base import ModelProvider, ProviderConfig

ENTRY_POINT_GROUP = "assay.providers"

ProviderFactory = Callable[[str, ProviderConfig], ModelProvider]
"""Builds a provider for one model; raises ConfigurationError when the config cannot work."""


def _openai() -> ProviderFactory:
    from assay.providers.openai import OpenAIProvider

    return OpenAIProvider


def _anthropic() -> ProviderFactory:
    from assay.providers.anthropic import AnthropicProvider

    return AnthropicProvider


def _bedrock() -> ProviderFactory:
    from assay.providers.bedrock import BedrockProvider

    return BedrockProvider


def _vertex() -> ProviderFactory:
    from assay.providers.vertex import VertexProvider

    return VertexProvider


def _mock() -> ProviderFactory:
    from assay.providers.mock import MockProvider

    return MockProvider


#: name -> (loader, the pip requirement its import needs, or None for no SDK).
_BUILTINS: dict[str, tuple[Callable[[], ProviderFactory], str | None]] = {
    "openai": (_openai, "openai[aiohttp]"),
    "anthropic": (_anthropic, "anthropic[aiohttp]"),
    # The cloud hubs' SDKs are optional extras of Assay itself.
    "bedrock": (_bedrock, "assay[bedrock]"),
    "vertex": (_vertex, "assay[vertex]"),
    "mock": (_mock, None),
}
#: Plugin factories already loaded. Two threads may load one at once; both get the same.
_loaded: dict[str, ProviderFactory] = {}


def known_providers() -> list[str]:
    """Every provider name a ``ModelRef`` may use, sorted; imports nothing."""
    return sorted(set(_BUILTINS) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def get_provider(ref: ModelRef, config: ProviderConfig) -> ModelProvider:
    """Build the provider ``ref`` names; ``config`` is final (key and base URL resolved).

    The caller owns the result and closes it with ``aclose``.

    Raises:
        ConfigurationError: the provider is unknown (the message lists the known ones), its
            SDK is not installed (the message gives the pip command), its plugin fails to
            load or builds something that is not a ModelProvider, or the config cannot work
            (e.g. no API key for a hosted API).
    """
    provider = _factory(ref.provider)(ref.model, config)
    if not isinstance(provider, ModelProvider):
        raise ConfigurationError(
            f"provider {ref.provider!r} built a {type(provider).__name__}, not a ModelProvider"
        )
    return provider


def check_installed(name: str) -> None:
    """Fail now, with the install command, if ``name`` is a built-in whose SDK is missing.

    This imports that SDK (once per process); an unknown or plugin name is checked later,
    when the provider is built.

    Raises:
        ConfigurationError: the SDK does not import; the message gives the pip command.
    """
    if name in _BUILTINS:
        _factory(name)


def _factory(name: str) -> ProviderFactory:
    if name in _BUILTINS:
        load, requirement = _BUILTINS[name]
        try:
            return load()
        except ImportError as exc:
            raise ConfigurationError(
                f"the {name} provider needs its SDK: pip install '{requirement}' ({exc})"
            ) from exc
    factory = _loaded.get(name)
    if factory is None:
        factory = _loaded[name] = _load(name)
    return factory


def _load(name: str) -> ProviderFactory:
    entry_point = _entry_point(name)
    try:
        loaded = entry_point.load()
    except Exception as exc:  # a broken plugin may fail to import in any way
        raise ConfigurationError(
            f"provider {name!r} ({entry_point.value}) failed to load: {exc}"
        ) from exc
    if not callable(loaded):
        raise ConfigurationError(
            f"provider {name!r} ({entry_point.value}) is a {type(loaded).__name__}, not a factory"
        )
    factory: ProviderFactory = loaded
    return factory


def _entry_point(name: str) -> EntryPoint:
    matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not matches:
        raise ConfigurationError(
            f"unknown provider {name!r}; known providers: {', '.join(known_providers())}"
        )
    sources = sorted({ep.value for ep in matches})
    if len(sources) > 1:
        raise ConfigurationError(f"provider {name!r} is registered twice: {' and '.join(sources)}")
    return matches[0]
