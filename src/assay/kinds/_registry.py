"""The kind registry: built-in kinds by name, third-party kinds through entry points.

Built-ins are imported on first use. A name that is not built in is looked up in the
``assay.kinds`` entry-point group (name = kind name, value = ``pkg.module:factory``, where the
factory is a ``Kind`` subclass or a callable returning a ``Kind``); the group is read only on
such a miss. Built-in names win over entry points; two entry points with one name are an
error naming both. Instances are cached: kinds are stateless, so one serves every evaluation.
"""

from __future__ import annotations

import importlib
import threading
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from assay.core.errors import ConfigurationError, ValidationFailed
from assay.kinds.base import Kind

ENTRY_POINT_GROUP = "assay.kinds"

_BUILTINS: dict[str, str] = {
    "accuracy": "assay.kinds.accuracy:AccuracyKind",
    "agent_as_judge": "assay.kinds.agent_as_judge:AgentAsJudgeKind",
    "performance": "assay.kinds.performance:PerformanceKind",
    "reliability": "assay.kinds.reliability:ReliabilityKind",
    "match": "assay.kinds.match:MatchKind",
    "harness": "assay.kinds.harness:HarnessKind",
    "scenario": "assay.kinds.scenario:ScenarioKind",
    "task_benchmark": "assay.kinds.task_benchmark:TaskBenchmarkKind",
}

_instances: dict[str, Kind[Any]] = {}
_lock = threading.Lock()


def get_kind(name: str) -> Kind[Any]:
    """The kind registered as ``name``.

    Raises:
        ValidationFailed: no built-in kind or entry point has that name (loc ``("kind",)``,
            the message lists the known kinds).
        ConfigurationError: an entry point is duplicated, fails to load, or does not give a
            ``Kind``.
    """
    with _lock:
        kind = _instances.get(name)
        if kind is None:
            kind = _create(name)
            _instances[name] = kind
        return kind


def known_kinds() -> list[str]:
    """Names of every available kind, built-in and installed, sorted; imports nothing."""
    return sorted(set(_BUILTINS) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def _create(name: str) -> Kind[Any]:
    if name in _BUILTINS:
        module_name, _, attribute = _BUILTINS[name].partition(":")
        factory: Any = getattr(importlib.import_module(module_name), attribute)
        source = _BUILTINS[name]
    else:
        entry_point = _entry_point(name)
        source = entry_point.value
        try:
            factory = entry_point.load()
        except Exception as exc:
            raise ConfigurationError(f"kind {name!r} ({source}) failed to load: {exc}") from exc
    kind = factory if isinstance(factory, Kind) else factory()
    if not isinstance(kind, Kind):
        raise ConfigurationError(f"kind {name!r} ({source}) did not give a Kind")
    return kind


def _entry_point(name: str) -> EntryPoint:
    matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not matches:
        raise ValidationFailed.for_field(
            ("kind",), f"unknown kind {name!r}; known kinds: {', '.join(known_kinds())}"
        )
    sources = sorted({ep.value for ep in matches})
    if len(sources) > 1:
        raise ConfigurationError(f"kind {name!r} is registered twice: {' and '.join(sources)}")
    return matches[0]
