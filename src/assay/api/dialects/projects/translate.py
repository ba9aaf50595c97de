"""Pure converters between seed 004's wire shapes and the services' (no I/O).

Field names are camelCase on the wire and snake_case inside; a connector's free-form
``config`` and ``credentials`` have their top-level keys converted the same way, and the
kind's records (transcripts, criteria, the matrix) have their snake_case keys camelCased. What
the agent itself produced (a tool call's ``arguments``) is its data, not the API's, and is served
exactly as the agent sent it, whatever the connector type.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.alias_generators import to_camel, to_snake

from assay.api.dialects.projects import schemas as wire
from assay.services.connectors import ConnectorFields, ConnectorView
from assay.services.evals import EvalFields, EvalView
from assay.services.projects import ModelSettings, ProjectUpdate, ProjectView
from assay.services.simulation_runs import MatrixView, RunDetail, RunView
from assay.services.simulations import (
    PersonaFields,
    PersonaView,
    ScenarioFields,
    ScenarioView,
    Traits,
)

_SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")

#: Keys whose values are the agent's own data: kept as they are, never converted.
AGENT_DATA_KEYS = frozenset({"arguments"})


def camel_keys(value: Any) -> Any:
    """``value`` with the API's snake_case dict keys camelCased, recursively.

    Ids stay as they are, and so does the value of an :data:`AGENT_DATA_KEYS` key: a client
    checks that the agent called ``cancel(booking_id=...)``, not ``bookingId``.
    """
    if isinstance(value, dict):
        return {
            (to_camel(k) if isinstance(k, str) and _SNAKE.match(k) else k): (
                v if k in AGENT_DATA_KEYS else camel_keys(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [camel_keys(v) for v in value]
    return value


def snake_keys(value: dict[str, Any]) -> dict[str, Any]:
    """Top-level keys only: a request template's own keys must reach the agent unchanged."""
    return {to_snake(k): v for k, v in value.items()}


def camel_top_keys(value: dict[str, Any]) -> dict[str, Any]:
    return {(to_camel(k) if _SNAKE.match(k) else k): v for k, v in value.items()}


def _given(body: BaseModel, converters: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fields the client sent (null included), converted where a converter is given."""
    converters = converters or {}
    values = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        convert = converters.get(name)
        values[name] = convert(value) if convert is not None and value is not None else value
    return values


# -- connectors -----------------------------------------------------------------------------


def connector_fields_from_request(body: wire.ConnectorBody) -> ConnectorFields:
    return ConnectorFields(**_given(body, {"config": snake_keys, "credentials": snake_keys}))


def connector_response_from_view(view: ConnectorView) -> wire.ConnectorResponse:
    return wire.ConnectorResponse(
        id=view.id,
        name=view.name,
        type=view.type,
        base_url=view.base_url,
        config=camel_top_keys(view.config),
        headers=view.headers,
        has_credentials=view.has_credentials,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


# -- personas -------------------------------------------------------------------------------


def _traits(body: wire.TraitsBody) -> Traits:
    return Traits(**body.model_dump(exclude_none=True))


def persona_fields_from_request(body: wire.PersonaBody) -> PersonaFields:
    return PersonaFields(**_given(body, {"traits": _traits}))


def persona_response_from_view(view: PersonaView) -> wire.PersonaResponse:
    return wire.PersonaResponse(
        id=view.id,
        name=view.name,
        description=view.description,
        traits=wire.TraitsResponse(**view.traits.model_dump()) if view.traits else None,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


# -- scenarios ------------------------------------------------------------------------------


def scenario_fields_from_request(body: wire.ScenarioBody) -> ScenarioFields:
    return ScenarioFields(**_given(body))


def scenario_summary_from_view(view: ScenarioView) -> wire.ScenarioSummary:
    return wire.ScenarioSummary(
        id=view.id,
        name=view.name,
        instructions=view.instructions,
        max_messages=view.max_messages,
        success_criteria=view.success_criteria,
        failure_criteria=view.failure_criteria,
    )


def scenario_response_from_view(view: ScenarioView) -> wire.ScenarioResponse:
    return wire.ScenarioResponse(
        **scenario_summary_from_view(view).model_dump(),
        persona_ids=view.persona_ids,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


# -- evals ----------------------------------------------------------------------------------


def eval_fields_from_request(body: wire.EvalBody) -> EvalFields:
    return EvalFields(**_given(body))


def eval_response_from_view(view: EvalView) -> wire.EvalResponse:
    connector = view.connector
    return wire.EvalResponse(
        id=view.id,
        name=view.name,
        connector_id=view.connector_id,
        scenario_ids=view.scenario_ids,
        scenarios=(
            [scenario_summary_from_view(s) for s in view.scenarios]
            if view.scenarios is not None
            else None
        ),
        connector=(
            wire.ConnectorSummary(
                id=connector.id,
                name=connector.name,
                type=connector.type,
                base_url=connector.base_url,
            )
            if connector is not None
            else None
        ),
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


# -- runs -----------------------------------------------------------------------------------


def run_response_from_view(view: RunView) -> wire.RunResponse:
    return wire.RunResponse(
        id=view.id,
        eval_id=view.eval_id,
        scenario_id=view.scenario_id,
        persona_id=view.persona_id,
        status=view.status,
        created_at=view.created_at,
    )


def run_list_entry_from_view(view: RunView) -> wire.RunListEntry:
    return wire.RunListEntry(
        **run_response_from_view(view).model_dump(),
        evaluation_id=view.evaluation_id,
        verdict=view.verdict,
        turn_count=view.turn_count,
    )


def run_detail_from_view(view: RunDetail) -> wire.RunDetailResponse:
    return wire.RunDetailResponse(
        **run_list_entry_from_view(view).model_dump(),
        termination=view.termination,
        transcript=camel_keys(view.transcript),
        criteria=camel_keys(view.criteria),
        reasoning=view.reasoning,
        audit=camel_keys(view.audit),
        agent_latency_ms=view.agent_latency_ms,
        usage=camel_keys(view.usage),
        error=view.error,
        started_at=view.started_at,
        finished_at=view.finished_at,
    )


def matrix_response_from_view(view: MatrixView) -> wire.MatrixResponse:
    return wire.MatrixResponse(
        eval_id=view.eval_id,
        evaluation_id=view.evaluation_id,
        status=view.status,
        matrix=camel_keys(view.matrix),
        summary=camel_keys(view.summary),
    )


# -- projects -------------------------------------------------------------------------------


def _model(body: wire.ModelSettingsBody) -> ModelSettings:
    return ModelSettings(provider=body.provider, model=body.model, base_url=body.base_url)


def project_update_from_request(body: wire.ProjectBody) -> ProjectUpdate:
    values: dict[str, Any] = {}
    if body.name is not None:
        values["name"] = body.name
    llm = body.llm_settings
    if llm is not None:
        values |= _given(llm, {"simulator": _model, "judge": _model, "attacker": _model})
        if llm.attacker is not None and "api_key" in llm.attacker.model_fields_set:
            values["attacker_api_key"] = llm.attacker.api_key
    removable = ("api_key", "attacker", "attacker_api_key")
    return ProjectUpdate(**{k: v for k, v in values.items() if v is not None or k in removable})


def project_response_from_view(view: ProjectView) -> wire.ProjectResponse:
    llm = view.llm_settings

    def model(m: ModelSettings) -> wire.ModelSettingsResponse:
        return wire.ModelSettingsResponse(provider=m.provider, model=m.model, base_url=m.base_url)

    return wire.ProjectResponse(
        id=view.id,
        slug=view.slug,
        name=view.name,
        workspace_id=view.workspace_id,
        llm_settings=wire.LLMSettingsResponse(
            simulator=model(llm.simulator),
            judge=model(llm.judge),
            has_api_key=llm.has_api_key,
            attacker=wire.AttackerSettingsResponse(
                **model(llm.attacker).model_dump(), has_api_key=llm.attacker.has_api_key
            )
            if llm.attacker is not None
            else None,
        ),
        created_at=view.created_at,
        updated_at=view.updated_at,
    )
