"""A typed client of Assay's native evaluation API (``/v1/evaluations``, seed 003).

::

    from assay import Client

    with Client("http://127.0.0.1:8000", api_key="assay_...") as client:
        created = client.create_evaluation(
            harnesses=["security", "safety"], model_hub="openai", model_name="gpt-4o-mini",
            api_key_value="sk-...",
        )
        results = client.wait(created.id, timeout=600)
        print(results.trust_score, len(results.failures))

The client is synchronous and holds one ``httpx.Client`` (connection pooling); pass
``transport=`` to route requests elsewhere (``httpx.MockTransport`` in tests). Neither the
API key nor an ``api_key_value`` is ever put in a ``repr``, a log line or an exception.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from assay import __version__
from assay.client.errors import (
    APIConnectionError,
    EvaluationCancelledError,
    EvaluationFailedError,
    RateLimitedError,
    WaitTimeoutError,
    error_from_response,
)
from assay.client.models import (
    CreatedEvaluation,
    EvaluationList,
    EvaluationProgress,
    EvaluationResults,
    EvaluationState,
    EvaluationStatus,
)

#: Each poll of ``wait`` waits this many times longer than the one before, up to ``max_interval``.
POLL_GROWTH = 1.5
#: How ``wait`` pauses between polls (a seam for tests that record the pauses).


class Client:
    """The six actions of the evaluation API, plus ``wait``.

    Every method raises an :class:`~assay.client.errors.AssayAPIError` subclass when the
    server answers with an error, and :class:`~assay.client.errors.APIConnectionError` when it
    does not answer.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Connect to the server at ``base_url`` (with or without a trailing ``/v1``)."""
        self.base_url = _api_root(base_url)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {api_key}",
                "User-Agent": f"assay-client/{__version__}",
            },
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"Client(base_url={self.base_url!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def create_evaluation(
        self,
        *,
        harnesses: Sequence[str],
        model_hub: str | None = None,
        model_name: str | None = None,
        agent_id: str | None = None,
        model_params: dict[str, Any] | None = None,
        system_prompt: str | None = None,
        transforms: Sequence[str] | None = None,
        transform_model: str | None = None,
        attacker: str | None = None,
        api_key_value: str | None = None,
        webhook_url: str | None = None,
        name: str | None = None,
    ) -> CreatedEvaluation:
        """Create and start an evaluation of a model (``model_hub`` + ``model_name``) or an agent.

        Raises:
            InvalidRequestError: a missing or malformed field (the detail names it).
            AgentNotFoundError, HarnessNotFoundError: an unknown ``agent_id`` or harness.
            RateLimitedError: the evaluation quota is used up.
        """
        body = {
            "harnesses": [harnesses] if isinstance(harnesses, str) else list(harnesses),
            "model_hub": model_hub,
            "model_name": model_name,
            "agent_id": agent_id,
            "model_params": model_params,
            "system_prompt": system_prompt,
            "transforms": list(transforms) if transforms is not None else None,
            "transform_model": transform_model,
            "attacker": attacker,
            "api_key_value": api_key_value,
            "webhook_url": webhook_url,
            "name": name,
        }
        answer = self._request(
            "POST", "/v1/evaluations", json={k: v for k, v in body.items() if v is not None}
        )
        return CreatedEvaluation.model_validate(answer.json())

    def get_evaluation(self, evaluation_id: str) -> EvaluationProgress:
        """Status and progress. Raises EvaluationNotFoundError."""
        answer = self._request("GET", _path(evaluation_id))
        return EvaluationProgress.model_validate(answer.json())

    def get_results(self, evaluation_id: str) -> EvaluationResults:
        """Scores and failures of a completed evaluation.

        Raises:
            EvaluationNotFoundError: no such evaluation.
            ResultsNotReadyError: it has not completed (yet).
        """
        answer = self._request("GET", _path(evaluation_id, "results"))
        return EvaluationResults.model_validate(answer.json())

    def list_evaluations(
        self,
        limit: int = 20,
        offset: int = 0,
        status: EvaluationStatus | str | None = None,
        agent_id: str | None = None,
    ) -> EvaluationList:
        """One page of evaluations, newest first; ``limit`` is at most 100."""
        params: dict[str, str | int] = {"limit": limit, "offset": offset}
        if status is not None:
            params["status"] = str(status)
        if agent_id is not None:
            params["agent_id"] = agent_id
        answer = self._request("GET", "/v1/evaluations", params=params)
        return EvaluationList.model_validate(answer.json())

    def cancel_evaluation(self, evaluation_id: str) -> EvaluationState:
        """Stop a pending or running evaluation.

        Raises:
            EvaluationNotFoundError: no such evaluation.
            InvalidStateError: it has already finished.
        """
        answer = self._request("POST", _path(evaluation_id, "cancel"))
        return EvaluationState.model_validate(answer.json())

    def delete_evaluation(self, evaluation_id: str) -> None:
        """Delete an evaluation and its results for good. Raises EvaluationNotFoundError."""
        self._request("DELETE", _path(evaluation_id))

    def wait(
        self,
        evaluation_id: str,
        timeout: float | None = None,
        poll_interval: float = 1.0,
        max_interval: float = 10.0,
    ) -> EvaluationResults:
        """Poll until the evaluation finishes, then return its results.

        The first poll is immediate; the pause after each grows by ``POLL_GROWTH`` from
        ``poll_interval`` up to ``max_interval``. A 429 answer is waited out (its
        ``Retry-After`` when given) rather than raised.

        Raises:
            WaitTimeoutError: still not finished after ``timeout`` seconds (None: no limit).
            EvaluationFailedError: it ended in ``failed``.
            EvaluationCancelledError: it was cancelled.
            EvaluationNotFoundError: no such evaluation (or it was deleted meanwhile).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = poll_interval
        status = "unknown"
        while True:
            pause = interval
            try:
                progress = self.get_evaluation(evaluation_id)
            except RateLimitedError as exc:
                pause = max(interval, exc.retry_after or 0.0)
            else:
                status = progress.status.value
                if progress.status.is_terminal:
                    break
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WaitTimeoutError(evaluation_id, timeout or 0.0, status)
                pause = min(pause, remaining)
            time.sleep(pause)
            interval = min(interval * POLL_GROWTH, max_interval)
        if progress.status is EvaluationStatus.FAILED:
            raise EvaluationFailedError(evaluation_id, progress.error)
        if progress.status is EvaluationStatus.CANCELLED:
            raise EvaluationCancelledError(evaluation_id)
        return self.get_results(evaluation_id)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str | int] | None = None,
        json: dict[str, Any] | None = None,
    ) -> httpx.Response:
        try:
            response = self._http.request(method, path, params=params, json=json)
        except httpx.TransportError as exc:
            raise APIConnectionError(
                f"no answer from {self.base_url} ({method} {path}): {type(exc).__name__}: {exc}"
            ) from exc
        if response.is_error:
            raise error_from_response(response)
        return response


def _api_root(base_url: str) -> str:
    """The server's root: a trailing ``/`` or ``/v1`` is dropped, since every path adds ``/v1``."""
    root = base_url.rstrip("/")
    return root.removesuffix("/v1")


def _path(evaluation_id: str, *rest: str) -> str:
    """``/v1/evaluations/{id}/...`` with the id quoted, so it cannot escape its path segment."""
    if not evaluation_id:
        raise ValueError("evaluation_id must not be empty")
    return "/".join(["/v1/evaluations", quote(evaluation_id, safe=""), *rest])
