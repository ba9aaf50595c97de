"""The one error hierarchy of Assay.

Every layer raises these; the API layer renders them per dialect, and the engine turns them
into item states (``engine/classify.py``). Foreign exceptions (SDK, HTTP, database) are mapped
to the most specific class at the adapter that calls the foreign code.

::

    AssayError                      code                status
    ├── ValidationFailed            validation_error    422   errors: [{loc, msg, type}]
    ├── NotAuthenticated            unauthorized        401
    ├── PermissionDenied            forbidden           403
    ├── NotFound                    not_found           404   (other tenants' objects too)
    │   ├── AgentNotFound           resource "agent"
    │   ├── EvaluationNotFound      resource "evaluation"
    │   ├── HarnessNotFound         resource "harness"
    │   └── ReviewerNotFound        resource "reviewer" (with the organization's reviewers)
    ├── Conflict                    conflict            409
    │   ├── InvalidTransition       invalid_transition  409   (cancel a completed evaluation)
    │   └── ResultsNotReady         results_not_ready   409   (results before completion)
    ├── PayloadTooLarge             payload_too_large   413   (a body over ASSAY_MAX_BODY_BYTES)
    ├── UpgradeRequired             upgrade_required    426   (a client below ASSAY_MIN_CLIENT_VERSION)
    ├── QuotaExceeded               quota_exceeded      429   (an organization's evaluation quota)
    │   └── RateLimited             rate_limited        429   (an API key over ASSAY_RATE_LIMIT)
    ├── ConfigurationError          configuration_error 400   (a missing extra, an unknown plugin)
    │   └── OutboundRefused         outbound_refused    400   (a URL or address not allowed)
    ├── ProviderError               provider_error      502   infra: item -> infra_error
    │   ├── ProviderRateLimited     retryable, retry_after
    │   ├── ProviderUnavailable     retryable (5xx, connect, timeout)
    │   └── ProviderRejected        not retryable (4xx other than 429)
    ├── TargetError                 target_error        500   agent's fault: item -> errored
    └── SandboxError                sandbox_error       502   infra: item -> infra_error

Messages never contain secrets: adapters build them from status codes and field names, not
from request bodies.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from assay.core.validation_messages import friendly_message


class AssayError(Exception):
    code: str = "internal_error"
    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(AssayError):
    """Input broke a rule; ``errors`` lists each broken field as ``{loc, msg, type}``."""

    code = "validation_error"
    status = 422

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []

    @classmethod
    def for_field(
        cls, loc: tuple[str | int, ...], msg: str, kind: str = "value_error"
    ) -> ValidationFailed:
        """One broken field, with the message naming it."""
        return cls(
            f"{'.'.join(str(p) for p in loc)}: {msg}",
            [{"loc": list(loc), "msg": msg, "type": kind}],
        )

    @classmethod
    def from_pydantic(
        cls,
        exc: PydanticValidationError,
        prefix: tuple[str | int, ...] = (),
        model: type[BaseModel] | None = None,
    ) -> ValidationFailed:
        """One error listing every field pydantic rejected, each message naming its limit.

        With the ``model`` that was validated, an unknown key names the closest known one.
        """
        errors = [
            {"loc": [*prefix, *e["loc"]], "msg": friendly_message(e, model), "type": e["type"]}
            for e in exc.errors()
        ]
        message = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
        return cls(message, errors)


class NotAuthenticated(AssayError):
    code = "unauthorized"
    status = 401


class PermissionDenied(AssayError):
    code = "forbidden"
    status = 403


class NotFound(AssayError):
    code = "not_found"
    status = 404
    #: What was not found, for APIs that name it ("evaluation", "agent", ...); None: unsaid.
    resource: str | None = None


class AgentNotFound(NotFound):
    resource = "agent"


class EvaluationNotFound(NotFound):
    resource = "evaluation"


class HarnessNotFound(NotFound):
    """A harness name that is neither built in nor a custom harness of the organization."""

    resource = "harness"


class ReviewerNotFound(NotFound):
    """An assigned reviewer who is not a user of the organization; names some who are."""

    resource = "reviewer"

    def __init__(self, reviewer: str, suggestions: list[str]) -> None:
        super().__init__(f"reviewer {reviewer!r} is not a user of the organization")
        self.reviewer = reviewer
        self.suggestions = suggestions


class Conflict(AssayError):
    code = "conflict"
    status = 409


class InvalidTransition(Conflict):
    code = "invalid_transition"


class ResultsNotReady(Conflict):
    """Results were asked for before the evaluation completed."""

    code = "results_not_ready"


class PayloadTooLarge(AssayError):
    """The request body is over the server's limit; it was refused before being read whole."""

    code = "payload_too_large"
    status = 413


class UpgradeRequired(AssayError):
    """The client said (``X-Assay-Client-Version``) it is older than the server supports.

    426 rather than 400: the request is well formed, the client must be upgraded to send it.
    """

    code = "upgrade_required"
    status = 426


class QuotaExceeded(AssayError):
    """The organization reached a limit (evaluations running at once, or created per day)."""

    code = "quota_exceeded"
    status = 429

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        #: Seconds after which trying again may succeed, when known.
        self.retry_after = retry_after


class RateLimited(QuotaExceeded):
    """One API key sent more requests than the server's rate limit allows."""

    code = "rate_limited"


class ConfigurationError(AssayError):
    code = "configuration_error"
    status = 400


class ProviderError(AssayError):
    """The model provider (or the network to it) failed; not the agent's fault."""

    code = "provider_error"
    status = 502
    retryable = False

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        #: The HTTP status the provider answered with, when there was one.
        self.status_code = status_code


class ProviderRateLimited(ProviderError):
    retryable = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message, status_code=429)
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    retryable = True


class ProviderRejected(ProviderError):
    """A 4xx other than 429: retrying cannot help (bad key, unknown model, bad request)."""


class TargetError(AssayError):
    """The agent under test failed: raised, answered with an error, or answered garbage."""

    code = "target_error"
    status = 500


class SandboxError(AssayError):
    code = "sandbox_error"
    status = 502


class OutboundRefused(ConfigurationError):
    """A URL or address Assay may not connect to (``core/outbound.py``); never retried.

    The message says why without naming a field; a service that checks a saved URL turns it
    into a ``ValidationFailed`` on that field.
    """

    code = "outbound_refused"
