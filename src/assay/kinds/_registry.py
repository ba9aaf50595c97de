"""The kind registry: built-in kinds by name, third-party kinds through entry points.

Built-ins are imported on first use. A name that is not built in is looked up in the
``assay.kinds`` entry-point group (name = kind name, value = ``pkg.module:factory``, where the
factory is a ``Kind`` subclass or a callable returning a ``Kind``); see ``core/registry.py``
for the lookup rules. Instances are cached: kinds are stateless, so one serves every
evaluation.
"""

from __future__ import annotations

from typing import Any

from assay.core.errors import AssayError, ConfigurationError, ValidationFailed
from assay.core.registry import Builtin, Registry
from assay.kinds.base import Kind

ENTRY_POINT_GROUP = "assay.kinds"


def _accept(loaded: object, name: str, source: str) -> Kind[Any]:
    kind = loaded if isinstance(loaded, Kind) else loaded() if callable(loaded) else loaded
    if not isinstance(kind, Kind):
        raise ConfigurationError(f"kind {name!r} ({source}) did not give a Kind")
    return kind


def _unknown(name: str, known: list[str]) -> AssayError:
    return ValidationFailed.for_field(
        ("kind",), f"unknown kind {name!r}; known kinds: {', '.join(known)}"
    )


KINDS: Registry[Kind[Any]] = Registry(
    "kind",
    ENTRY_POINT_GROUP,
    {
        "accuracy": Builtin.at("assay.kinds.accuracy:AccuracyKind"),
        "agent_as_judge": Builtin.at("assay.kinds.agent_as_judge:AgentAsJudgeKind"),
        "performance": Builtin.at("assay.kinds.performance:PerformanceKind"),
        "reliability": Builtin.at("assay.kinds.reliability:ReliabilityKind"),
        "match": Builtin.at("assay.kinds.match:MatchKind"),
        "harness": Builtin.at("assay.kinds.harness:HarnessKind"),
        "scenario": Builtin.at("assay.kinds.scenario:ScenarioKind"),
        "checkpointed": Builtin.at("assay.kinds.checkpointed:CheckpointedKind"),
        "task_benchmark": Builtin.at("assay.kinds.task_benchmark:TaskBenchmarkKind"),
    },
    _accept,
    _unknown,
)


def get_kind(name: str) -> Kind[Any]:
    """The kind registered as ``name``.

    Raises:
        ValidationFailed: no built-in kind or entry point has that name (loc ``("kind",)``,
            the message lists the known kinds).
        ConfigurationError: an entry point is duplicated, fails to load, or does not give a
            ``Kind``.
    """
    return KINDS.get(name)


def known_kinds() -> list[str]:
    """Names of every available kind, built-in and installed, sorted; imports nothing."""
    return KINDS.names()
