"""Pure converters between seed 002's wire models and the core spec and views."""

from __future__ import annotations

from typing import Any

from assay.api.dialects.benchmarks.schemas import (
    ITEM_COUNT_KEYS,
    Analytics,
    CreatedBy,
    CreateEvaluationRequest,
    EvaluationResponse,
    ItemResponse,
)
from assay.core.errors import ValidationFailed
from assay.core.evaluation import EvaluationView, ItemDetail
from assay.core.spec import EvaluationSpec, Limits, ModelRef, TargetSpec
from assay.core.states import EvaluationStatus

#: The seed's kind names -> core kinds.
KINDS = {"security_task_benchmark": "task_benchmark", "task_benchmark": "task_benchmark"}
CORE_KIND = "task_benchmark"
WIRE_KIND = "security_task_benchmark"
#: Where the request as given is kept on the evaluation (labels), to answer with it.
REQUEST_LABEL = "benchmark_request"
#: Provisioning and verifying have their own limits; the item's deadline covers all three.
_SETUP_AND_VERIFY_S = 300.0
_DEFAULT_AGENT_S = 300.0
#: The keys of a runtime that are sandbox limits (the rest names it and its provider).
RUNTIME_LIMITS = ("memory_mb", "pids", "cpus", "file_mb", "network")


def dataset_choice(
    request: CreateEvaluationRequest,
) -> tuple[str | None, list[dict[str, Any]] | None]:
    """The dataset's id or its inline tasks; ValidationFailed unless exactly one is given."""
    given = request.dataset
    if (given.id is None) == (given.tasks is None):
        raise ValidationFailed.for_field(
            ("dataset",), "give exactly one of `id` (a dataset) or `tasks` (inline)"
        )
    return given.id, given.tasks


def spec_from_benchmark_request(
    request: CreateEvaluationRequest,
    dataset: dict[str, Any],
    runtime: dict[str, Any] | None = None,
) -> EvaluationSpec:
    """The core spec of a create request; ValidationFailed names a field it refuses.

    ``dataset`` (``{"builtin": name}`` or ``{"tasks": [...]}``) and ``runtime`` (a stored
    configuration) are already resolved within the caller's workspace.
    """
    if request.kind not in KINDS:
        raise ValidationFailed.for_field(
            ("kind",), f"unknown kind {request.kind!r}; known: {', '.join(sorted(KINDS))}"
        )
    model = ModelRef.parse(request.model) if request.model else ModelRef.parse("mock/none")
    provider = request.sandbox_provider or (runtime or {}).get("provider") or "bwrap"
    params: dict[str, Any] = {
        "dataset": dataset,
        "agent_type": request.agent_type,
        "task_config": request.task_config,
        "sandbox_provider": provider,
        "cleanup_policy": request.cleanup_policy,
    }
    if runtime is not None:
        params["runtime"] = {k: v for k, v in runtime.items() if k in RUNTIME_LIMITS}
    optional = {
        "task_names": request.task_names,
        "capability": request.capability,
        "model": request.model,
        "task_timeout_sec": request.task_timeout_sec,
    }
    params |= {k: v for k, v in optional.items() if v is not None}
    agent_s = request.task_timeout_sec or _DEFAULT_AGENT_S
    return EvaluationSpec(
        kind=CORE_KIND,
        name=request.name,
        target=TargetSpec(kind="model", model=model),
        params=params,
        limits=Limits(
            item_timeout_s=agent_s + _SETUP_AND_VERIFY_S, max_concurrency=request.concurrency
        ),
    )


def request_label(request: CreateEvaluationRequest, principal_key: str | None) -> dict[str, Any]:
    """What the response repeats of the request (inline tasks only counted), and the creator."""
    echoed = request.model_dump(mode="json", exclude={"dataset"})
    dataset = request.dataset
    echoed["dataset"] = (
        {"tasks": len(dataset.tasks)}
        if dataset.tasks is not None
        else {"id": dataset.id, "version": dataset.version}
    )
    echoed["created_by"] = {"id": principal_key, "name": "API key", "email": None}
    return echoed


def _analytics(view: EvaluationView) -> Analytics:
    if view.summary is not None:
        return Analytics(status="ready", **view.summary)
    if view.status.is_terminal or (view.total_items and view.finished_items == view.total_items):
        return Analytics(status="computing")
    return Analytics(status="pending")


def benchmark_response_from_evaluation(view: EvaluationView) -> EvaluationResponse:
    given: dict[str, Any] = dict(view.labels.get(REQUEST_LABEL, {}))
    params = view.spec.params
    return EvaluationResponse(
        id=view.id,
        name=view.name,
        kind=given.get("kind", WIRE_KIND),
        status=view.status.value,
        agent_type=params.get("agent_type", "oracle"),
        capability=params.get("capability"),
        cleanup_policy=params.get("cleanup_policy", "always"),
        concurrency=view.spec.limits.max_concurrency or 1,
        dataset=given.get("dataset", {}),
        model=params.get("model"),
        project_id=view.project_id,
        runtime_id=given.get("runtime_id"),
        sandbox_provider=params.get("sandbox_provider", "bwrap"),
        secret_ids=given.get("secret_ids", []),
        task_config=params.get("task_config", {}),
        task_names=params.get("task_names"),
        task_timeout_sec=params.get("task_timeout_sec"),
        analytics=_analytics(view),
        item_counts={key: view.item_counts.get(key, 0) for key in ITEM_COUNT_KEYS},
        created_by=CreatedBy.model_validate(given.get("created_by", {})),
        error=view.error or view.infra_error_text,
        created_at=view.created_at,
        updated_at=view.updated_at,
        started_at=view.started_at,
        completed_at=view.completed_at,
    )


def status_filter(status: str | None) -> dict[str, Any]:
    if status is None:
        return {}
    try:
        return {"status": EvaluationStatus(status).value}
    except ValueError:
        known = ", ".join(s.value for s in EvaluationStatus)
        raise ValidationFailed.for_field(
            ("status",), f"unknown status {status!r}; known: {known}"
        ) from None


def item_from_trace(trace: ItemDetail) -> ItemResponse:
    """One item in the seed's shape, from what the task kind shows of it (``trace.view``)."""
    shown = trace.view
    verdict = None
    if trace.state.value in ("passed", "failed"):
        verdict = "passed" if trace.state.value == "passed" else "failed"
    return ItemResponse(
        id=trace.id,
        task_name=shown.get("task_name"),
        capability=shown.get("capability"),
        difficulty=shown.get("difficulty"),
        state=trace.state.value,
        verdict=verdict,
        reason=shown.get("reason"),
        attempts=trace.attempts,
        timings=shown.get("timings") or {},
        trace=[
            {"kind": e.kind, "attempt": e.attempt, "at": e.created_at.isoformat(), **e.payload}
            for e in trace.events
        ],
        verifier=shown.get("verifier"),
        error=trace.error,
        started_at=trace.started_at,
        finished_at=trace.finished_at,
    )
