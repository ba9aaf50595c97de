"""The process's Prometheus registry: every part registers its metrics here, `/metrics` serves it.

A registry of our own rather than the library's global one, so tests and embedded uses see
only Assay's metrics.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry

REGISTRY = CollectorRegistry()
