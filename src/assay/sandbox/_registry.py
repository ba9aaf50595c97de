"""The sandbox provider registry: built-ins by name, third-party providers by entry point.

A name that is not built in is looked up in the ``assay.sandboxes`` entry-point group
(name = provider name, value = ``pkg.module:factory`` with ``factory(policy) ->
SandboxProvider``), read only on such a miss. Built-in modules are imported on first use.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from assay.core.errors import ConfigurationError, ValidationFailed
from assay.sandbox.base import SandboxPolicy, SandboxProvider

ENTRY_POINT_GROUP = "assay.sandboxes"

_BUILTINS: dict[str, str] = {
    "bwrap": "assay.sandbox.bwrap:BwrapProvider",
    "local": "assay.sandbox.local:LocalProvider",
}


def known_providers() -> list[str]:
    """Names of every sandbox provider, built-in and installed; imports nothing."""
    return sorted(set(_BUILTINS) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def get_provider(name: str, policy: SandboxPolicy) -> SandboxProvider:
    """A provider for ``name`` under ``policy``.

    Raises:
        ValidationFailed: no such provider (loc ``("sandbox_provider",)``).
        ConfigurationError: the provider is refused by the policy (``local`` when off), or a
            plugin fails to load or gives no ``SandboxProvider``.
        SandboxError: the provider's own tooling is missing (no bwrap binary).
    """
    factory: Any
    if name in _BUILTINS:
        module_name, _, attribute = _BUILTINS[name].partition(":")
        factory = getattr(importlib.import_module(module_name), attribute)
    else:
        matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
        if not matches:
            raise ValidationFailed.for_field(
                ("sandbox_provider",),
                f"unknown sandbox provider {name!r}; known: {', '.join(known_providers())}",
            )
        if len({ep.value for ep in matches}) > 1:
            sources = " and ".join(sorted({ep.value for ep in matches}))
            raise ConfigurationError(f"sandbox provider {name!r} is registered twice: {sources}")
        try:
            factory = matches[0].load()
        except Exception as exc:
            raise ConfigurationError(f"sandbox provider {name!r} failed to load: {exc}") from exc
    provider = factory(policy)
    if not isinstance(provider, SandboxProvider):
        raise ConfigurationError(f"sandbox provider {name!r} did not give a SandboxProvider")
    return provider
