"""The OpenAPI document, with the error answers each operation really gives.

FastAPI documents a ``422 HTTPValidationError`` on every operation, which no Assay route
sends: the native API and seed 004 answer validation errors with 400, and every dialect has
its own envelope. This module replaces those entries with the statuses an operation can
answer and the shape its dialect renders, derived from the renderer in ``api/errors.py``
(the validation status comes from rendering a sample error), so the document cannot drift
from what the server sends. Clients and the schemathesis test read it.

Each authenticated operation (one with ``security``) declares 400, 401, 403, 404, 429 and its dialect's validation
status; writes (and operations that document their own 409) declare 409; operations with a
body declare 413 (``ASSAY_MAX_BODY_BYTES``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from assay.api import errors as api_errors
from assay.api.dialects.benchmarks import errors as benchmarks_errors
from assay.api.dialects.eval_runs import errors as eval_runs_errors
from assay.api.dialects.eval_tasks import errors as eval_tasks_errors
from assay.api.dialects.projects import errors as projects_errors
from assay.api.v1 import errors as native_errors
from assay.core.errors import ValidationFailed


class FieldError(BaseModel):
    loc: list[str | int]
    """Where the problem is: `body`, `query` or `path`, then the field's path."""
    msg: str
    type: str


class ErrorEnvelope(BaseModel):
    """The canonical envelope of the native API (seed 003's names in ``type``)."""

    code: int
    """The HTTP status, repeated."""
    detail: str
    """What went wrong, naming the field."""
    type: str
    """A stable name: `validation_error`, `InvalidRequestException`, ..."""
    errors: list[FieldError] | None = None
    """Each broken field, for validation errors."""


class EvalRunsError(BaseModel):
    """Seed 001's FastAPI-style error: a message, or the list of broken fields."""

    detail: str | list[FieldError]


class ProjectsError(BaseModel):
    """Seed 004's error."""

    error: str


class EvalTasksError(BaseModel):
    """Seed 000's error: a message, and for some errors what to send instead."""

    error: str
    required: list[str] | None = None
    """For `Missing required fields`: the fields the seed requires."""
    field: str | None = None
    """For an invalid field: its name."""
    hint: str | None = None
    assignedReviewer: str | None = None  # noqa: N815 - the seed's spelling
    suggestion: str | None = None


#: Each dialect's renderer -> the shape it renders (a dialect without an entry breaks
#: ``/openapi.json``, which the tests read: add it here with its renderer).
ERROR_MODELS: dict[Callable[..., Any], type[BaseModel]] = {
    api_errors.render_canonical: ErrorEnvelope,
    native_errors.render: ErrorEnvelope,
    benchmarks_errors.render: ErrorEnvelope,
    eval_runs_errors.render: EvalRunsError,
    eval_tasks_errors.render: EvalTasksError,
    projects_errors.render: ProjectsError,
}

DESCRIPTIONS = {
    400: "Bad request: a field is wrong or a plugin is unavailable; the message names it",
    401: "Missing or invalid API key (`Authorization: Bearer <key>`)",
    403: "The key's role or workspace does not allow this",
    404: "Not found (another organization's objects too)",
    409: "Conflicts with the current state (taken id, in use, not ready, already ended)",
    413: "Request body larger than ASSAY_MAX_BODY_BYTES",
    422: "Validation error naming each broken field",
    426: "`X-Assay-Client-Version` is below ASSAY_MIN_CLIENT_VERSION: upgrade the client",
    429: "Rate limit or quota exceeded; see `Retry-After`",
}
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_SAMPLE = ValidationFailed("x: sample", [{"loc": ["x"], "msg": "sample", "type": "value_error"}])


def _statuses(method: str, operation: dict[str, Any], validation_status: int) -> list[int]:
    declared = {int(code) for code in operation["responses"] if code.isdigit()}
    statuses = {validation_status} | {c for c in declared if c >= 400}
    if operation.get("security"):
        statuses |= {400, 401, 403, 404, 429}
        if method.upper() in _WRITES:
            statuses.add(409)
    if "requestBody" in operation:
        statuses.add(413)
    return sorted(statuses)


def _error_response(status: int, model: type[BaseModel]) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS.get(status, "Error"),
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
        },
    }


def _document_errors(path: str, method: str, operation: dict[str, Any]) -> None:
    renderer = api_errors.renderer_for(path.split("{", 1)[0].rstrip("/") or "/")
    model = ERROR_MODELS[renderer]
    validation_status = renderer(_SAMPLE)[0]
    responses = operation["responses"]
    responses.pop("422", None)  # FastAPI's HTTPValidationError, which no route sends
    for status in _statuses(method, operation, validation_status):
        responses[str(status)] = _error_response(status, model)


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The document served at ``/openapi.json`` (built once per app)."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            _document_errors(path, method, operation)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    _, defs = models_json_schema(
        [(m, "validation") for m in dict.fromkeys(ERROR_MODELS.values())],
        ref_template="#/components/schemas/{model}",
    )
    schemas.update(defs.get("$defs", {}))
    app.openapi_schema = doc
    return doc


def install_openapi(app: FastAPI) -> None:
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
