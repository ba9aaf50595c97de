"""Pure converters between seed 001's wire shapes and the core (no I/O, no services)."""

from __future__ import annotations

from typing import Any

from assay.api.dialects.eval_runs.schemas import EvalRunInput, EvalSchema, EvalType
from assay.core.errors import AssayError, NotFound
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
    EvalType.RELIABILITY: (
        "input",
        "expected_tool_calls",
        "allow_additional_tool_calls",
        "expected_tool_call_arguments",
        "num_iterations",
    ),
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
    EvalType.RELIABILITY: (
        "expected_tool_calls",
        "allow_additional_tool_calls",
        "expected_tool_call_arguments",
    ),
}

#: The field each eval type cannot run without, and Agno's 400 message when it is missing.
REQUIRED_FIELDS: dict[EvalType, tuple[str, str]] = {
    EvalType.ACCURACY: ("expected_output", "expected_output is required for accuracy evaluation"),
    EvalType.AGENT_AS_JUDGE: (
        "criteria",
        "criteria is required for agent-as-judge evaluation",
    ),
    EvalType.RELIABILITY: (
        "expected_tool_calls",
        "expected_tool_calls is required for reliability evaluations",
    ),
}

COLLECTION_PREFIX = "eval_runs:"

#: Agno's eval-table columns ``sort_by`` may name, as evaluation columns; Agno ignores others.
SORT_COLUMNS = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "name": "name",
    "run_id": "id",
    "eval_type": "kind",
}


class BadRequest(AssayError):
    """A request Agno's router refuses with 400 and a string ``detail``."""

    code = "bad_request"
    status = 400


def sort_column(sort_by: str) -> str:
    """The column to sort by: Agno's name for it, or creation time for a column it lacks."""
    return SORT_COLUMNS.get(sort_by, "created_at")


def check_required_field(body: EvalRunInput) -> None:
    """The eval type's own field must be given (``expected_tool_calls: []`` is given)."""
    required = REQUIRED_FIELDS.get(body.eval_type)
    if required is None:
        return
    field, message = required
    value = getattr(body, field)
    if value is None or (isinstance(value, str) and not value):
        raise BadRequest(message)


def collection_from_query(
    stores: dict[str, list[str]], db_id: str | None, table: str | None
) -> str:
    """The store and table an eval run lives in; unknown names are NotFound, as the seed says."""
    if table and not db_id:
        raise BadRequest("The db_id query parameter is required when passing a table")
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
        raise BadRequest("Only one of agent_id or team_id must be provided")
    if body.agent_id:
        return "agent_id", body.agent_id
    if body.team_id:
        return "team_id", body.team_id
    if not (body.model_id and body.model_provider):
        raise BadRequest(
            "One of agent_id or team_id must be provided"
            " (or model_provider and model_id, to evaluate a bare model)"
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


def labels_from_eval_run_request(
    body: EvalRunInput, target: TargetSpec, user_id: str | None
) -> dict[str, Any]:
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
        "user_id": user_id,
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
        user_id=labels.get("user_id"),
        eval_type=eval_type,
        eval_data=eval_data,
        eval_input=eval_input_from_spec(eval_type, view.spec.params),
        created_at=view.created_at,
        updated_at=view.updated_at,
    )
