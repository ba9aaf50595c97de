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

from assay.core.errors import ConfigurationError
from assay.core.registry import Builtin, Registry
from assay.core.spec import ModelRef
from assay.providers.base import ModelProvider, ProviderConfig

ENTRY_POINT_GROUP = "assay.providers"

ProviderFactory = Callable[[str, ProviderConfig], ModelProvider]
"""Builds a provider for one model; raises ConfigurationError when the config cannot work."""


def _accept(loaded: object, name: str, source: str) -> ProviderFactory:
    if not callable(loaded):
        raise ConfigurationError(
            f"provider {name!r} ({source}) is a {type(loaded).__name__}, not a factory"
        )
    factory: ProviderFactory = loaded
    return factory


PROVIDERS: Registry[ProviderFactory] = Registry(
    "provider",
    ENTRY_POINT_GROUP,
    {
        "openai": Builtin.at("assay.providers.openai:OpenAIProvider", "openai[aiohttp]"),
        "anthropic": Builtin.at(
            "assay.providers.anthropic:AnthropicProvider", "anthropic[aiohttp]"
        ),
        # The cloud hubs' SDKs are optional extras of Assay itself.
        "bedrock": Builtin.at("assay.providers.bedrock:BedrockProvider", "assay[bedrock]"),
        "vertex": Builtin.at("assay.providers.vertex:VertexProvider", "assay[vertex]"),
        "mock": Builtin.at("assay.providers.mock:MockProvider"),
    },
    _accept,
    cache_builtins=False,
)


def is_known_provider(name: str) -> bool:
    """Whether a ``ModelRef`` may name ``name``; imports nothing."""
    return PROVIDERS.knows(name)


def known_providers() -> list[str]:
    """Every provider name a ``ModelRef`` may use, sorted; imports nothing."""
    return PROVIDERS.names()


def get_provider(ref: ModelRef, config: ProviderConfig) -> ModelProvider:
    """Build the provider ``ref`` names; ``config`` is final (key and base URL resolved).

    The caller owns the result and closes it with ``aclose``.

    Raises:
        ConfigurationError: the provider is unknown (the message lists the known ones), its
            SDK is not installed (the message gives the pip command), its plugin fails to
            load or builds something that is not a ModelProvider, or the config cannot work
            (e.g. no API key for a hosted API).
    """
    provider = PROVIDERS.get(ref.provider)(ref.model, config)
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
    if PROVIDERS.is_builtin(name):
        PROVIDERS.get(name)
