"""The Python client of Assay's evaluation API: ``Client`` and its errors.

Importing it loads httpx and pydantic, nothing else of Assay's server side.
"""

from assay.client.client import Client
from assay.client.errors import (
    AgentNotFoundError,
    APIConnectionError,
    AssayAPIError,
    AssayClientError,
    AuthenticationError,
    ConflictError,
    EvaluationCancelledError,
    EvaluationFailedError,
    EvaluationNotFoundError,
    HarnessNotFoundError,
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ResultsNotReadyError,
    ServerError,
    WaitTimeoutError,
)
from assay.client.models import (
    CreatedEvaluation,
    EvaluationList,
    EvaluationProgress,
    EvaluationResults,
    EvaluationState,
    EvaluationStatus,
    Failure,
)

__all__ = [
    "APIConnectionError",
    "AgentNotFoundError",
    "AssayAPIError",
    "AssayClientError",
    "AuthenticationError",
    "Client",
    "ConflictError",
    "CreatedEvaluation",
    "EvaluationCancelledError",
    "EvaluationFailedError",
    "EvaluationList",
    "EvaluationNotFoundError",
    "EvaluationProgress",
    "EvaluationResults",
    "EvaluationState",
    "EvaluationStatus",
    "Failure",
    "HarnessNotFoundError",
    "InvalidRequestError",
    "InvalidStateError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ResultsNotReadyError",
    "ServerError",
    "WaitTimeoutError",
]
