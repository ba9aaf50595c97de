"""Isolated places to run agents' commands and tasks' checks; see ``base.py`` for the contract."""

from assay.sandbox._registry import ENTRY_POINT_GROUP, get_provider, known_providers
from assay.sandbox.base import (
    ExecResult,
    Sandbox,
    SandboxLimits,
    SandboxPolicy,
    SandboxProvider,
    open_sandbox,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "ExecResult",
    "Sandbox",
    "SandboxLimits",
    "SandboxPolicy",
    "SandboxProvider",
    "get_provider",
    "known_providers",
    "open_sandbox",
]
