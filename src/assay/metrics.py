"""The process's Prometheus registries: every part registers its metrics here, `/metrics` serves them.

Registries of our own rather than the library's global one, so tests and embedded uses see
only Assay's metrics. What runs items registers in ``ENGINE_REGISTRY``; ``REGISTRY`` serves it
through ``engine_metrics``, whose source is this process's engine registry, or, while the
engine runs in a child process (``engine/backends/process.py``), the child's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Metric
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry()
ENGINE_REGISTRY = CollectorRegistry()


class EngineMetrics(Collector):
    """The engine's metrics, wherever the engine runs."""

    def __init__(self) -> None:
        #: Where the metrics come from instead of this process's engine registry.
        self.source: Callable[[], Iterable[Metric]] | None = None

    def collect(self) -> Iterable[Metric]:
        return (self.source or ENGINE_REGISTRY.collect)()


engine_metrics = EngineMetrics()
REGISTRY.register(engine_metrics)
