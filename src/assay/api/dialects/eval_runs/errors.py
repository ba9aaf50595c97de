"""Seed 001 renders errors FastAPI-style: ``{"detail": "..."}``, and a list for 422s."""

from __future__ import annotations

from typing import Any

from assay.core.errors import AssayError, ValidationFailed


def render(error: AssayError) -> tuple[int, dict[str, Any]]:
    if isinstance(error, ValidationFailed) and error.errors:
        return 422, {"detail": error.errors}
    return error.status, {"detail": error.message}
