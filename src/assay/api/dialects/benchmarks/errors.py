"""Seed 002 uses the canonical envelope ``{"code", "detail", "type", "errors"}`` for every status."""

from __future__ import annotations

from typing import Any

from assay.core.errors import AssayError, ValidationFailed


def render(error: AssayError) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"code": error.status, "detail": error.message, "type": error.code}
    if isinstance(error, ValidationFailed):
        body["errors"] = error.errors
    return error.status, body
