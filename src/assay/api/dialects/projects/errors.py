"""Seed 004 renders every error as ``{"error": "<message>"}``.

Status codes follow the seed: a broken or missing field is **400** (the seed's "Name is
required" is a 400, not FastAPI's 422), anything not there for the caller is **404** with the
seed's wording ("Eval not found"), deleting something still in use is **409**; the rest keep
the status of their class (401, 403, 429, 500, ...).

Messages name the field as the client wrote it (camelCase). A missing required field reads
as the seed writes it: ``Name is required``, ``Connector ID is required``, ``At least one
Scenario ID is required``; an emptied list on update is ``scenarioIds cannot be empty``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic.alias_generators import to_camel

from assay.core.errors import AssayError, ValidationFailed

#: How a required field is named in "<label> is required".
LABELS = {
    "name": "Name",
    "connector_id": "Connector ID",
    "type": "Type",
    "base_url": "Base URL",
    "instructions": "Instructions",
    "description": "Description",
}
#: (field, error type) -> the whole message, where the seed words it its own way.
MESSAGES = {
    ("scenario_ids", "missing"): "At least one Scenario ID is required",
    ("scenario_ids", "empty"): "scenarioIds cannot be empty",
    ("max_messages", "greater_than_equal"): "maxMessages must be between 1 and 100",
    ("max_messages", "less_than_equal"): "maxMessages must be between 1 and 100",
}
_REQUEST_PARTS = ("body", "query", "path", "header")


def _snake(part: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in part)


def _message(loc: Sequence[Any], kind: str, msg: str) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _REQUEST_PARTS:
        parts = parts[1:]
    if not parts:
        if kind == "json_invalid":
            return "Request body is not valid JSON"
        return "Request body is required" if kind == "missing" else msg
    field = _snake(parts[-1])
    if len(parts) == 1 and (field, kind) in MESSAGES:
        return MESSAGES[(field, kind)]
    path = ".".join(to_camel(p) if not p.isdigit() else p for p in parts)
    if kind == "missing":
        return f"{LABELS.get(field, path) if len(parts) == 1 else path} is required"
    if kind == "empty":
        return f"{path} cannot be empty"
    if kind == "json_invalid":
        return "Request body is not valid JSON"
    return f"{path}: {msg}"


def render(error: AssayError) -> tuple[int, dict[str, Any]]:
    if isinstance(error, ValidationFailed):
        if not error.errors:
            return 400, {"error": error.message}
        messages = [
            _message(e.get("loc", ()), e.get("type", ""), e.get("msg", "")) for e in error.errors
        ]
        return 400, {"error": "; ".join(dict.fromkeys(messages))}
    return error.status, {"error": error.message}
