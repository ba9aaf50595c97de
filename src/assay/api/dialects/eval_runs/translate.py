"""Pure converters between seed 001's wire shapes and the core (no I/O, no services)."""

from __future__ import annotations

from typing import Any

from assay.api.dialects.eval_runs.schemas import EvalRunInput, EvalSchema, EvalType
from assay.core.errors import NotFound, ValidationFailed
from assay.core.evaluation import EvaluationView
from assay.core.spec import EvaluationSpec, ModelRef, TargetSpec

#: The request fields each eval type passes to its kind (the rest do not apply to it).
KIND_FIELDS: dict[EvalType, tuple[str, ...]] = {
    EvalType.ACCURACY: (
        "input",
        "expected_output",
        "additional_guidelines",
        "additional_context",
        "num_iterations",
    ),
    EvalType.AGENT_AS_JUDGE: (
        "input",
        "criteria",
        "scoring_strategy",
        "threshold",
        "additional_guidelines",
        "additional_context",
        "num_iterations",
    ),
    EvalType.PERFORMANCE: ("input", "num_iterations", "warmup_runs"),
    EvalType.RELIABILITY: ("input", "expected_tool_calls", "num_iterations"),
}

#: What Agno echoes as ``eval_input`` for each type.
EVAL_INPUT_FIELDS: dict[EvalType, tuple[str, ...]] = {
    EvalType.ACCURACY: (
        "additional_guidelines",
        "additional_context",
        "num_iterations",
        "expected_output",
        "input",
    ),
    EvalType.AGENT_AS_JUDGE: ("criteria", "scoring_strategy", "threshold", "additional_guidelines"),
    EvalType.PERFORMANCE: ("num_iterations", "warmup_runs"),
    EvalType.RELIABILITY: ("expected_tool_calls",),
}

COLLECTION_PREFIX = "eval_runs:"


def collection_from_query(
    stores: dict[str, list[str]], db_id: str | None, table: str | None
) -> str:
    """The store and table an eval run lives in; unknown names are NotFound, as the seed says."""
    if not stores:
        raise NotFound("no eval-run store is configured")
    db_id = db_id or next(iter(stores))
    if db_id not in stores:
        raise NotFound(f"Database with id '{db_id}' not found")
    tables = stores[db_id]
    table = table or tables[0]
    if table not in tables:
        raise NotFound(f"Table '{table}' not found in database '{db_id}'")
    return f"{COLLECTION_PREFIX}{db_id}/{table}"


def agent_reference(body: EvalRunInput) -> tuple[str, str] | None:
    """``(field, id)`` of the agent or team to evaluate, or None when a bare model is."""
    if body.agent_id and body.team_id:
        raise ValidationFailed.for_field(
            ("body", "team_id"), "give only one of agent_id or team_id"
        )
    if body.agent_id:
        return "agent_id", body.agent_id
    if body.team_id:
        return "team_id", body.team_id
    if not (body.model_id and body.model_provider):
        raise ValidationFailed.for_field(
            ("body", "agent_id"),
            "give agent_id, team_id, or model_provider and model_id to say what to evaluate",
        )
    return None


def model_target_from_request(body: EvalRunInput) -> TargetSpec:
    assert body.model_id and body.model_provider
    ref = ModelRef(provider=body.model_provider.lower(), model=body.model_id)
    return TargetSpec(kind="model", name=body.model_id, model=ref)


def with_model_override(target: TargetSpec, body: EvalRunInput) -> TargetSpec:
    """An openai-chat agent runs on the requested model, as the seed's model_id implies."""
    if target.kind == "openai-chat" and body.model_id:
        return target.model_copy(update={"config": target.config | {"model": body.model_id}})
    return target


def spec_from_eval_run_request(body: EvalRunInput, target: TargetSpec) -> EvaluationSpec:
    params = {
        field: getattr(body, field)
        for field in KIND_FIELDS[body.eval_type]
        if getattr(body, field) is not None
    }
    return EvaluationSpec(kind=body.eval_type.value, name=body.name, target=target, params=params)


def labels_from_eval_run_request(body: EvalRunInput, target: TargetSpec) -> dict[str, Any]:
    target_type = "team" if body.team_id else "agent" if body.agent_id else "model"
    model_id = body.model_id or target.config.get("model")
    provider = body.model_provider or ("openai" if target.kind == "openai-chat" else None)
    return {
        "agent_id": body.agent_id,
        "team_id": body.team_id,
        "workflow_id": None,
        "model_id": model_id,
        "model_provider": provider,
        "target_type": target_type,
        "evaluated_component_name": target.name or body.agent_id or body.team_id or body.model_id,
    }


def eval_input_from_spec(eval_type: EvalType, params: dict[str, Any]) -> dict[str, Any]:
    eval_input = {field: params.get(field) for field in EVAL_INPUT_FIELDS[eval_type]}
    if eval_type is EvalType.AGENT_AS_JUDGE and params.get("scoring_strategy") == "binary":
        eval_input["threshold"] = None
    return eval_input


def eval_run_response_from_evaluation(view: EvaluationView) -> EvalSchema:
    eval_type = EvalType(view.kind)
    eval_data: dict[str, Any] = dict(view.summary or {})
    if not view.summary:
        eval_data = {
            "status": view.status.value,
            "items_total": view.total_items,
            "items_finished": view.finished_items,
        }
    if eval_type is EvalType.AGENT_AS_JUDGE:
        eval_data["run_id"] = view.id
    if view.infra_errors:
        eval_data["infra_errors"] = view.infra_error_text
    labels = view.labels
    return EvalSchema(
        id=view.id,
        agent_id=labels.get("agent_id"),
        model_id=labels.get("model_id"),
        model_provider=labels.get("model_provider"),
        team_id=labels.get("team_id"),
        workflow_id=labels.get("workflow_id"),
        name=view.name,
        evaluated_component_name=labels.get("evaluated_component_name"),
        eval_type=eval_type,
        eval_data=eval_data,
        eval_input=eval_input_from_spec(eval_type, view.spec.params),
        created_at=view.created_at,
        updated_at=view.updated_at,
    )
