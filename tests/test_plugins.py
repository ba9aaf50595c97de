"""The plugin surface is a promise: names leave it only on purpose, and it stays light."""

from __future__ import annotations

import subprocess
import sys

import assay.plugins

EXPECTED = {
    "CheckVerdict",
    "ItemState",
    "RecordedEvent",
    "Resources",
    "Suspend",
    "Thresholds",
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
}


def test_the_plugin_surface_exports_exactly_the_promised_names():
    assert set(assay.plugins.__all__) == EXPECTED
    assert all(getattr(assay.plugins, name) is not None for name in EXPECTED)


def test_importing_the_plugin_surface_loads_no_sdk_or_server():
    code = (
        "import sys, assay.plugins; "
        "print(sorted(m for m in ('openai', 'anthropic', 'boto3', 'fastapi', 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
