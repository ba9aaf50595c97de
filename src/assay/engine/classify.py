"""Which terminal state an item ends in, from the exception that ended it: one table.

The most specific class wins. Provider and sandbox failures are infrastructure (the item is
left out of scores); the agent's failures count against it; the item's own deadline is a
timeout. Provider-side timeouts were mapped to ``ProviderUnavailable`` at the boundary, so a
bare ``TimeoutError`` here can only be the item's deadline.
"""

from __future__ import annotations

import traceback

from assay.core.errors import (
    AssayError,
    ConfigurationError,
    ProviderError,
    ProviderRejected,
    SandboxError,
    TargetError,
)
from assay.core.outcome import ItemError
from assay.core.states import ItemState

_TABLE: list[tuple[type[BaseException], ItemState]] = [
    (TargetError, ItemState.ERRORED),
    (ProviderError, ItemState.INFRA_ERROR),
    (SandboxError, ItemState.INFRA_ERROR),
    (ConfigurationError, ItemState.INFRA_ERROR),
    (TimeoutError, ItemState.TIMED_OUT),
]

#: The item error code of a provider refusing the credentials (HTTP 401/403). The engine
#: fails the whole evaluation on it: every other item would be refused the same way.
INVALID_API_KEY = "invalid_api_key"
_AUTH_STATUSES = frozenset({401, 403})


def classify(error: BaseException, attempt: int) -> tuple[ItemState, ItemError]:
    """The terminal state and the stored error for an exception that ended an item.

    Anything not in the table is a bug in a kind or in Assay, so it is ``infra_error`` (not
    the agent's fault) and keeps its traceback for the report.
    """
    for cls, state in _TABLE:
        if isinstance(error, cls):
            code = error.code if isinstance(error, AssayError) else "timed_out"
            if isinstance(error, ProviderRejected) and error.status_code in _AUTH_STATUSES:
                code = INVALID_API_KEY
            message = (
                error.message if isinstance(error, AssayError) else "the item's deadline passed"
            )
            return state, ItemError(code=code, message=message, attempt=attempt)
    return ItemState.INFRA_ERROR, ItemError(
        code="internal_error",
        message=f"{type(error).__name__}: {error}",
        attempt=attempt,
        traceback="".join(traceback.format_exception(error)),
    )
