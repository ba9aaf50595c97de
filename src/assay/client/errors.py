"""What the client raises.

Every error the server answers with (a non-2xx status) is an :class:`AssayAPIError` carrying
the envelope's ``status``, ``type`` and ``detail``; the class is the most specific one for the
envelope's ``type`` (the seed's exception names, e.g. ``EvaluationNotFoundException``), else
for the status code. A request that got no answer is an :class:`APIConnectionError`.
``Client.wait`` raises the ``Wait*`` and ``Evaluation*`` errors.

::

    AssayClientError
    ├── AssayAPIError                 status, type, detail
    │   ├── InvalidRequestError       400, 422   InvalidRequestException
    │   ├── AuthenticationError       401        InvalidApiKeyException
    │   ├── PermissionDeniedError     403
    │   ├── NotFoundError             404
    │   │   ├── EvaluationNotFoundError          EvaluationNotFoundException
    │   │   ├── AgentNotFoundError               AgentNotFoundException
    │   │   └── HarnessNotFoundError             HarnessNotFoundException
    │   ├── ConflictError             409
    │   │   ├── ResultsNotReadyError             ResultsNotReadyException
    │   │   └── InvalidStateError                InvalidStateException
    │   ├── RateLimitedError          429        RateLimitExceededException (retry_after)
    │   └── ServerError               5xx
    ├── APIConnectionError            no answer: connection refused, timed out, ...
    ├── WaitTimeoutError              wait() gave up (also a TimeoutError)
    ├── EvaluationFailedError         wait() saw status failed (error)
    └── EvaluationCancelledError      wait() saw status cancelled

Messages hold what the server said, never what was sent, so an API key or an
``api_key_value`` cannot end up in a log through an exception.
"""

from __future__ import annotations

from typing import Any

import httpx


class AssayClientError(Exception):
    """Anything the client raises on purpose."""


class AssayAPIError(AssayClientError):
    """The server answered with a non-2xx status."""

    def __init__(self, status: int, type: str, detail: str) -> None:
        super().__init__(f"HTTP {status} {type}: {detail}")
        self.status = status
        self.type = type
        self.detail = detail


class InvalidRequestError(AssayAPIError):
    """The request was malformed or broke a rule (400, 422)."""


class AuthenticationError(AssayAPIError):
    """The API key is missing, invalid or expired (401)."""


class PermissionDeniedError(AssayAPIError):
    """The API key's role may not do this (403)."""


class NotFoundError(AssayAPIError):
    """No such object, or not visible to this key (404)."""


class EvaluationNotFoundError(NotFoundError):
    pass


class AgentNotFoundError(NotFoundError):
    pass


class HarnessNotFoundError(NotFoundError):
    pass


class ConflictError(AssayAPIError):
    """The object is not in a state that allows this (409)."""


class ResultsNotReadyError(ConflictError):
    """Results were asked for before the evaluation completed."""


class InvalidStateError(ConflictError):
    """E.g. cancelling an evaluation that already finished."""


class RateLimitedError(AssayAPIError):
    """Too many requests or evaluations (429); ``retry_after`` is in seconds when the server said."""

    def __init__(
        self, status: int, type: str, detail: str, retry_after: float | None = None
    ) -> None:
        super().__init__(status, type, detail)
        self.retry_after = retry_after


class ServerError(AssayAPIError):
    """The server failed (5xx)."""


class APIConnectionError(AssayClientError):
    """No answer: the connection failed or the request timed out."""


class WaitTimeoutError(AssayClientError, TimeoutError):
    """``wait`` ran out of time before the evaluation finished; ``last_status`` is what it saw."""

    def __init__(self, evaluation_id: str, timeout: float, last_status: str) -> None:
        super().__init__(
            f"evaluation {evaluation_id} still {last_status} after waiting {timeout:g} s"
        )
        self.evaluation_id = evaluation_id
        self.last_status = last_status


class EvaluationFailedError(AssayClientError):
    """The evaluation ended in status ``failed``; ``error`` is the server's explanation."""

    def __init__(self, evaluation_id: str, error: str | None) -> None:
        super().__init__(f"evaluation {evaluation_id} failed: {error or 'no reason given'}")
        self.evaluation_id = evaluation_id
        self.error = error


class EvaluationCancelledError(AssayClientError):
    """The evaluation was cancelled before it completed."""

    def __init__(self, evaluation_id: str) -> None:
        super().__init__(f"evaluation {evaluation_id} was cancelled")
        self.evaluation_id = evaluation_id


#: The seed's exception names (the envelope's ``type``) and Assay's own codes.
_BY_TYPE: dict[str, type[AssayAPIError]] = {
    "InvalidRequestException": InvalidRequestError,
    "InvalidApiKeyException": AuthenticationError,
    "EvaluationNotFoundException": EvaluationNotFoundError,
    "AgentNotFoundException": AgentNotFoundError,
    "HarnessNotFoundException": HarnessNotFoundError,
    "ResultsNotReadyException": ResultsNotReadyError,
    "InvalidStateException": InvalidStateError,
    "RateLimitExceededException": RateLimitedError,
    "AccessDeniedException": PermissionDeniedError,
    "invalid_transition": InvalidStateError,
    "results_not_ready": ResultsNotReadyError,
    "quota_exceeded": RateLimitedError,
}

_BY_STATUS: dict[int, type[AssayAPIError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidRequestError,
    429: RateLimitedError,
}

_MAX_DETAIL = 500


def error_from_response(response: httpx.Response) -> AssayAPIError:
    """The most specific error for a non-2xx answer, from its envelope or its bare status."""
    error_type, detail = _envelope(response)
    cls = _BY_TYPE.get(error_type) or _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = ServerError if response.status_code >= 500 else AssayAPIError
    if issubclass(cls, RateLimitedError):
        return cls(response.status_code, error_type, detail, _retry_after(response.headers))
    return cls(response.status_code, error_type, detail)


def _envelope(response: httpx.Response) -> tuple[str, str]:
    """``(type, detail)`` from ``{"code", "detail", "type"}``; a body that is not one is the detail."""
    fallback = response.reason_phrase or f"HTTP {response.status_code}"
    try:
        body: Any = response.json()
    except ValueError:
        return fallback, response.text[:_MAX_DETAIL] or fallback
    if not isinstance(body, dict):
        return fallback, str(body)[:_MAX_DETAIL]
    detail = body.get("detail", body.get("message", ""))
    if not isinstance(detail, str):  # FastAPI's bare validation errors: a list of dicts
        detail = "; ".join(_describe(e) for e in detail) if isinstance(detail, list) else ""
    return str(body.get("type") or fallback), detail[:_MAX_DETAIL] or fallback


def _describe(error: Any) -> str:
    if isinstance(error, dict):
        loc = ".".join(str(p) for p in error.get("loc", ()))
        return f"{loc}: {error.get('msg', '')}" if loc else str(error.get("msg", ""))
    return str(error)


def _retry_after(headers: httpx.Headers) -> float | None:
    try:
        return max(0.0, float(headers["retry-after"]))
    except (KeyError, ValueError):
        return None
