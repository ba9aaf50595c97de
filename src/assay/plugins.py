"""The stable surface for plugin authors: everything a third-party kind, target or provider needs.

Plugins register through entry points, one group per family: ``assay.kinds`` (a ``Kind``
subclass or factory), ``assay.targets`` (an ``AgentKind``), ``assay.providers`` (a factory
``(model, config) -> ModelProvider``), ``assay.transforms`` (a factory
``(argument) -> Transform`` rewriting harness probes). Names here are kept stable; anything
else in the package may change between versions. ``tests/test_plugins.py`` guards this list.
"""

from assay.core.errors import (
    AssayError,
    ConfigurationError,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    TargetError,
    ValidationFailed,
)
from assay.core.llm import ChatMessage, ChatRequest, ChatResponse
from assay.core.outcome import (
    ItemRecord,
    Metrics,
    NormalizedResponse,
    Outcome,
    RecordedEvent,
    Score,
    Suspend,
    ToolCall,
    Usage,
)
from assay.core.spec import EvaluationSpec, ItemPlan, ModelRef, TargetSpec
from assay.core.states import ItemState
from assay.core.verdict import CheckVerdict, Thresholds
from assay.kinds.base import LLM, ItemContext, Kind, Resources, TargetHandle
from assay.probes.base import DetectorRef, Dimension, Probe, Severity
from assay.probes.transforms import Transform
from assay.providers.base import ModelProvider, ProviderConfig
from assay.targets._registry import AgentKind
from assay.targets.base import Target

__all__ = [
    "Resources",
    "Thresholds",
    "CheckVerdict",
    "ItemState",
    "Suspend",
    "RecordedEvent",
    "LLM",
    "AgentKind",
    "AssayError",
    "ChatMessage",
    "ChatRequest",
    "ChatResponse",
    "ConfigurationError",
    "DetectorRef",
    "Dimension",
    "EvaluationSpec",
    "ItemContext",
    "ItemPlan",
    "ItemRecord",
    "Kind",
    "Transform",
    "Metrics",
    "ModelProvider",
    "ModelRef",
    "NormalizedResponse",
    "Outcome",
    "Probe",
    "ProviderConfig",
    "ProviderError",
    "ProviderRateLimited",
    "ProviderRejected",
    "ProviderUnavailable",
    "Score",
    "Severity",
    "Target",
    "TargetError",
    "TargetHandle",
    "TargetSpec",
    "ToolCall",
    "Usage",
    "ValidationFailed",
]
