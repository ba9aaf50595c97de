"""The process's Prometheus registries: every part registers its metrics here, `/metrics` serves them.

Registries of our own rather than the library's global one, so tests and embedded uses see
only Assay's metrics. What runs items registers in ``ENGINE_REGISTRY``; ``REGISTRY`` serves it
through ``engine_metrics``, whose source is this process's engine registry, or, while the
engine runs in a child process (``engine/backends/process.py``), the child's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Metric
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry()
ENGINE_REGISTRY = CollectorRegistry()

#: Counted by ``engine/resources.py``, which imports this module only when a release fails
#: (a one-item `assay run` need not pay for prometheus_client); the API, the worker and the
#: engine's child process import it anyway, so the counter is exported from zero.
CLEANUP_FAILURES = Counter(
    "assay_resource_cleanup_failures_total",
    "Releases of an item's resources (sandboxes, sessions) that raised.",
    registry=ENGINE_REGISTRY,
)


class EngineMetrics(Collector):
    """The engine's metrics, wherever the engine runs."""

    def __init__(self) -> None:
        #: Where the metrics come from instead of this process's engine registry.
        self.source: Callable[[], Iterable[Metric]] | None = None

    def collect(self) -> Iterable[Metric]:
        return (self.source or ENGINE_REGISTRY.collect)()


engine_metrics = EngineMetrics()
REGISTRY.register(engine_metrics)
