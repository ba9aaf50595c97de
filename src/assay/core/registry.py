"""Plugins of one family by name: built-ins loaded on first use, others through entry points.

Every family (evaluation kinds, model providers, agent kinds of targets) keeps one
:class:`Registry`. A built-in is a loader (importing its module only when first asked for, so
importing Assay loads no SDK); a name that is not built in is looked up in the family's
entry-point group, which is read only on such a miss (Inspect's load-on-miss). Built-in names
win over entry points; two entry points with one name are an error naming both sources.
What a name loads is checked by the family's ``accept``, which turns it into the family's
type (or raises ``ConfigurationError``), and cached.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar

from assay.core.errors import AssayError, ConfigurationError

T = TypeVar("T")


def import_object(path: str) -> object:
    """The object a ``package.module:attribute`` path names."""
    module_name, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


@dataclass(frozen=True)
class Builtin:
    """A built-in plugin: how to load it, and the requirement its import needs (if any)."""

    load: Callable[[], object]
    #: What to ``pip install`` when the import fails, e.g. ``anthropic[aiohttp]``.
    requirement: str | None = None
    #: Where it comes from, for error messages.
    source: str = "built-in"

    @classmethod
    def at(cls, path: str, requirement: str | None = None) -> Builtin:
        """The built-in at ``package.module:attribute``, imported on first use."""
        return cls(lambda: import_object(path), requirement, path)


class Registry(Generic[T]):
    def __init__(
        self,
        family: str,
        group: str,
        builtins: Mapping[str, Builtin],
        accept: Callable[[object, str, str], T],
        unknown: Callable[[str, list[str]], AssayError] | None = None,
        cache_builtins: bool = True,
    ) -> None:
        """``accept(loaded, name, source)`` checks what a name loaded and returns the plugin.

        ``unknown(name, known_names)`` builds the error for a name nobody registered (by
        default a ConfigurationError listing the known names). Without ``cache_builtins`` a
        built-in is loaded again on every lookup (cheap: Python keeps its module), so a
        requirement that went missing is reported every time.
        """
        self.family = family
        self.group = group
        self._builtins = dict(builtins)
        self._accept = accept
        self._unknown = unknown or self._unknown_name
        self._cache_builtins = cache_builtins
        self._loaded: dict[str, T] = {}
        self._lock = threading.Lock()

    def is_builtin(self, name: str) -> bool:
        return name in self._builtins

    def knows(self, name: str) -> bool:
        """Whether ``name`` is registered; the entry points are read only if it is not built in.

        Reading them scans every installed distribution (about 10 ms), which a check of a
        built-in name on every run would otherwise pay.
        """
        return name in self._builtins or any(
            ep.name == name for ep in entry_points(group=self.group)
        )

    def names(self) -> list[str]:
        """Every registered name, built-in and installed, sorted; imports nothing."""
        return sorted(set(self._builtins) | {ep.name for ep in entry_points(group=self.group)})

    def get(self, name: str) -> T:
        """The plugin ``name``, loaded once.

        Raises:
            AssayError: from ``unknown`` when no built-in or entry point has that name.
            ConfigurationError: a built-in's requirement is missing (the message gives the
                pip command), an entry point is duplicated or fails to load, or ``accept``
                refuses what it loaded.
        """
        with self._lock:
            plugin = self._loaded.get(name)
            if plugin is None:
                plugin = self._load(name)
                if self._cache_builtins or name not in self._builtins:
                    self._loaded[name] = plugin
            return plugin

    def _load(self, name: str) -> T:
        builtin = self._builtins.get(name)
        if builtin is not None:
            try:
                loaded = builtin.load()
            except ImportError as exc:
                if builtin.requirement is None:
                    raise
                raise ConfigurationError(
                    f"the {name} {self.family} needs: pip install '{builtin.requirement}' ({exc})"
                ) from exc
            return self._accept(loaded, name, builtin.source)
        entry_point = self._entry_point(name)
        try:
            loaded = entry_point.load()
        except Exception as exc:  # a broken plugin may fail to import in any way
            raise ConfigurationError(
                f"{self.family} {name!r} ({entry_point.value}) failed to load: {exc}"
            ) from exc
        return self._accept(loaded, name, entry_point.value)

    def _entry_point(self, name: str) -> EntryPoint:
        matches = [ep for ep in entry_points(group=self.group) if ep.name == name]
        if not matches:
            raise self._unknown(name, self.names())
        sources = sorted({ep.value for ep in matches})
        if len(sources) > 1:
            raise ConfigurationError(
                f"{self.family} {name!r} is registered twice: {' and '.join(sources)}"
            )
        return matches[0]

    def _unknown_name(self, name: str, known: list[str]) -> AssayError:
        return ConfigurationError(
            f"unknown {self.family} {name!r}; known {self.family}s: {', '.join(known)}"
        )
