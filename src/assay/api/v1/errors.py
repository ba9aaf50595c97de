"""Seed 003's error names in the canonical envelope, for ``/v1/evaluations`` and ``/v1/harnesses``.

``{"code": <status>, "detail": "...", "type": "<SeedName>Exception", "errors": [...]}``.
The statuses follow the seed: every validation problem is a 400 ``InvalidRequestException``
(the seed has no 422), so FastAPI's request validation is reported the same way as the
services'; a bad Assay key and a provider refusing ``api_key_value`` are both 401
``InvalidApiKeyException``; results asked for too early and cancelling a finished
evaluation are 409s with distinct names, because clients react to them differently (poll
again, or stop); a quota or a key's rate limit is a 429 with ``Retry-After``; a body over
``ASSAY_MAX_BODY_BYTES`` is a 413 (the seed names neither, so the names follow its pattern).
"""

from __future__ import annotations

from typing import Any

from assay.core.errors import (
    AssayError,
    ConfigurationError,
    Conflict,
    InvalidTransition,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    QuotaExceeded,
    ResultsNotReady,
    ValidationFailed,
)

INVALID_REQUEST = "InvalidRequestException"
INVALID_API_KEY = "InvalidApiKeyException"

_NOT_FOUND: dict[str | None, str] = {
    "agent": "AgentNotFoundException",
    "harness": "HarnessNotFoundException",
    "evaluation": "EvaluationNotFoundException",
}

#: Evaluation error codes (``EvaluationView.error_code``) -> the seed's exception names.
FAILURE_TYPES: dict[str, str] = {
    "invalid_api_key": INVALID_API_KEY,
    "configuration_error": INVALID_REQUEST,
}


def error_type(error: AssayError) -> tuple[int, str]:
    """The HTTP status and the seed's exception name for an error."""
    match error:
        case ValidationFailed() | ConfigurationError():
            return 400, INVALID_REQUEST
        case NotAuthenticated():
            return 401, INVALID_API_KEY
        case PermissionDenied():
            return 403, "AccessDeniedException"
        case NotFound():
            return 404, _NOT_FOUND.get(error.resource, "NotFoundException")
        case ResultsNotReady():
            return 409, "ResultsNotReadyException"
        case InvalidTransition():
            return 409, "InvalidStateException"
        case Conflict():
            return 409, "ConflictException"
        case PayloadTooLarge():
            return 413, "PayloadTooLargeException"
        case QuotaExceeded():
            return 429, "RateLimitExceededException"
    if error.status == 400:
        return 400, INVALID_REQUEST
    if error.status == 405:
        return 405, "MethodNotAllowedException"
    return error.status, "InternalServerException" if error.status >= 500 else "ClientException"


def render(error: AssayError) -> tuple[int, dict[str, Any]]:
    status, name = error_type(error)
    body: dict[str, Any] = {"code": status, "detail": error.message, "type": name}
    if isinstance(error, ValidationFailed):
        body["errors"] = error.errors
    return status, body
