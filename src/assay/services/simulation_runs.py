"""Running a project's eval (seed 004), and reading its runs while and after they happen.

Running an eval creates one core evaluation of kind ``scenario``: the eval's connector is the
target (its credentials are the target's secrets), the project's LLM settings give the
simulator and the judge (with the project's API key for their providers), and there is one
item per scenario x persona of that scenario, in the eval's scenario order. A *run* of the
seed is one such item, and its id is the item's id. The evaluation is filed in the
collection ``projects:<project id>`` and labelled with the eval and the project.

While a run is going, its transcript comes from the turns the kind stores as they happen
(item events of kind ``turn``, of the latest attempt); once finished, from its outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from assay.core.errors import NotFound, ValidationFailed
from assay.core.outcome import RecordedEvent
from assay.core.principal import Principal
from assay.core.spec import EvaluationSpec
from assay.core.states import TERMINAL_ITEM_STATES, WORKING_ITEM_STATES, ItemState
from assay.kinds._registry import get_kind
from assay.services import evaluations as evaluation_service
from assay.services.connectors import CONNECTOR_NOT_FOUND, target_of
from assay.services.container import Container
from assay.services.evals import EVAL_NOT_FOUND, collection_of
from assay.services.projects import llm_settings_of, project_in, provider_secrets
from assay.store.repositories import evaluations as evaluation_rows
from assay.store.repositories import events as event_rows
from assay.store.repositories import project_runs as run_rows
from assay.store.repositories import simulations as rows
from assay.store.tables import Connector, Persona, ProjectEval, Scenario

RUN_NOT_FOUND = "Run not found"
#: Evaluations of one eval read at once when listing its runs (newest first).
MAX_EVALUATIONS = 1000


class RunView(BaseModel):
    id: str
    eval_id: str | None
    evaluation_id: str
    scenario_id: str | None
    persona_id: str | None
    #: ``pending``, ``running``, ``completed``, ``error`` or ``cancelled``.
    status: str
    #: ``passed``, ``failed``, ``inconclusive`` or ``simulator_error`` once completed.
    verdict: str | None = None
    turn_count: int = 0
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class RunDetail(RunView):
    termination: str | None = None
    transcript: list[dict[str, Any]] = Field(default_factory=list)
    criteria: list[dict[str, Any]] = Field(default_factory=list)
    reasoning: str | None = None
    audit: dict[str, Any] | None = None
    agent_latency_ms: list[float] = Field(default_factory=list)
    usage: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class MatrixView(BaseModel):
    eval_id: str
    evaluation_id: str
    status: str
    matrix: Any = None
    summary: dict[str, Any] | None = None


def run_status(state: str) -> str:
    item_state = ItemState(state)
    if item_state is ItemState.QUEUED:
        return "pending"
    if item_state in WORKING_ITEM_STATES:
        return "running"
    if item_state in (ItemState.PASSED, ItemState.FAILED):
        return "completed"
    if item_state is ItemState.CANCELLED:
        return "cancelled"
    return "error"


def _pair(spec: dict[str, Any], item_input: dict[str, Any]) -> dict[str, Any]:
    runs = (spec.get("params") or {}).get("runs") or []
    index = item_input.get("run")
    return runs[index] if isinstance(index, int) and 0 <= index < len(runs) else {}


async def _events_of(
    conn: AsyncConnection, items: Sequence[Row[Any]]
) -> dict[str, list[RecordedEvent]]:
    """The recorded events of the items that have no outcome (running, or ended in error).

    A finished run's view comes from its outcome; any other run's from its events, so the
    list and the run itself show one transcript and one ``turnCount``.
    """
    return await event_rows.recorded_events_by_item(
        conn, [item.id for item in items if item.outcome is None]
    )


def _run_view(
    item: Row[Any],
    evaluation: Row[Any],
    events: Sequence[RecordedEvent] = (),
    cls: type[RunView] = RunView,
) -> Any:
    pair = _pair(evaluation.spec, item.input)
    data = get_kind(evaluation.kind).item_view(item.outcome, events)
    return cls(
        id=item.id,
        eval_id=(evaluation.labels or {}).get("eval_id"),
        evaluation_id=evaluation.id,
        scenario_id=pair.get("scenario_id"),
        persona_id=pair.get("persona_id"),
        status=run_status(item.state),
        verdict=data.get("verdict"),
        turn_count=int(data.get("turn_count") or 0),
        created_at=item.created_at,
        started_at=item.started_at,
        finished_at=item.finished_at,
    )


def _scenario_params(scenarios: Sequence[Scenario], personas: dict[str, Persona]) -> dict[str, Any]:
    """The kind's ``scenarios``, ``personas`` and ``runs`` (scenario order, then persona order)."""
    used: dict[str, Persona] = {}
    runs = []
    for scenario in scenarios:
        for persona_id in scenario.persona_ids:
            used[persona_id] = personas[persona_id]
            runs.append({"scenario_id": scenario.id, "persona_id": persona_id})
    return {
        "scenarios": [
            {
                "id": s.id,
                "name": s.name,
                "instructions": s.instructions,
                "max_messages": s.max_messages,
                "success_criteria": s.success_criteria,
                "failure_criteria": s.failure_criteria,
            }
            for s in scenarios
        ],
        "personas": [
            {"id": p.id, "name": p.name, "description": p.description, "traits": p.traits or {}}
            for p in used.values()
        ],
        "runs": runs,
    }


async def start_runs(
    container: Container,
    principal: Principal,
    project_ref: str,
    eval_id: str,
    *,
    webhook_url: str | None = None,
) -> list[RunView]:
    """Create the eval's runs: one scenario evaluation, an item per scenario x persona.

    Raises:
        NotFound: the project, the eval or its connector is not there for the caller.
        ValidationFailed: a scenario of the eval has no personas, or the outbound policy
            refuses ``webhook_url`` (nothing is created).
        QuotaExceeded: the organization is at its evaluation quota.
    """
    container.settings.outbound_policy.check_field(("webhook_url",), webhook_url)
    async with container.sessions() as session:
        project = await project_in(session, principal, project_ref)
        row = await rows.require_row(session, ProjectEval, project.id, eval_id, EVAL_NOT_FOUND)
        connector = await rows.require_row(
            session, Connector, project.id, row.connector_id, CONNECTOR_NOT_FOUND
        )
        found = await rows.get_many(session, Scenario, project.id, row.scenario_ids)
        scenarios = [found[i] for i in row.scenario_ids if i in found]
        lonely = [s.name for s in scenarios if not s.persona_ids]
        if lonely:
            names = ", ".join(repr(n) for n in lonely)
            raise ValidationFailed(
                f"Scenario {names} has no personas; add personaIds to it before running the eval"
            )
        persona_ids = [p for s in scenarios for p in s.persona_ids]
        personas = await rows.get_many(session, Persona, project.id, persona_ids)
        llm = llm_settings_of(container, project)
        target = target_of(container, connector)
        provider_keys = provider_secrets(container, project)
        project_id = project.id
    params = _scenario_params(scenarios, personas) | {"simulator": llm.simulator.ref().model_dump()}
    spec = EvaluationSpec(
        kind="scenario", name=row.name, target=target.spec, judge=llm.judge.ref(), params=params
    )
    view = await evaluation_service.create_evaluation(
        container,
        principal,
        spec,
        secrets={"target": target.secrets, "providers": provider_keys},
        collection=collection_of(project_id),
        labels={"project_id": project_id, "eval_id": eval_id, "connector_id": connector.id},
        webhook_url=webhook_url,
        enforce_quotas=True,
        project_id=project_id,
    )
    async with container.db.connect() as conn:
        evaluation = await evaluation_rows.get_evaluation(conn, view.id, principal.org_id)
        items = await run_rows.items_of(conn, [view.id])
        events = await _events_of(conn, items)
    assert evaluation is not None
    return [_run_view(item, evaluation, events.get(item.id, ())) for item in items]


async def list_runs(
    container: Container, principal: Principal, project_ref: str, eval_id: str | None = None
) -> list[RunView]:
    """The project's runs (or one eval's), newest evaluation first, each in planned order."""
    async with container.sessions() as session:
        project = await project_in(session, principal, project_ref)
        if (
            eval_id is not None
            and await rows.get_row(session, ProjectEval, project.id, eval_id) is None
        ):
            raise NotFound(EVAL_NOT_FOUND)
        conn = await session.connection()
        evaluations, _ = await evaluation_rows.list_evaluations(
            conn,
            principal.org_id,
            {"collection": collection_of(project.id), "eval_id": eval_id},
            MAX_EVALUATIONS,
            0,
        )
        items = await run_rows.items_of(conn, [e.id for e in evaluations])
        events = await _events_of(conn, items)
    by_id = {e.id: e for e in evaluations}
    order = {e.id: n for n, e in enumerate(evaluations)}
    items.sort(key=lambda i: (order[i.evaluation_id], i.seq))
    return [_run_view(item, by_id[item.evaluation_id], events.get(item.id, ())) for item in items]


async def get_run(
    container: Container, principal: Principal, project_ref: str, run_id: str
) -> RunDetail:
    """One run with its transcript so far (or final), verdict, criteria, latencies and tokens."""
    async with container.sessions() as session:
        project = await project_in(session, principal, project_ref)
        conn = await session.connection()
        item = await run_rows.get_item(conn, run_id, principal.org_id, collection_of(project.id))
        if item is None:
            raise NotFound(RUN_NOT_FOUND)
        evaluation = await evaluation_rows.get_evaluation(conn, item.evaluation_id)
        assert evaluation is not None
        events = (await _events_of(conn, [item])).get(item.id, [])
    detail: RunDetail = _run_view(item, evaluation, events, RunDetail)
    shown = get_kind(evaluation.kind).item_view(item.outcome, events)
    detail.transcript = list(shown.get("transcript") or [])
    detail.agent_latency_ms = list(shown.get("agent_latency_ms") or [])
    detail.termination = shown.get("termination")
    detail.criteria = list(shown.get("criteria") or [])
    detail.reasoning = shown.get("reasoning")
    detail.audit = shown.get("audit")
    detail.usage = shown.get("usage")
    if ItemState(item.state) in TERMINAL_ITEM_STATES and item.error:
        detail.error = {"code": item.error.get("code"), "message": item.error.get("message")}
    elif shown.get("agent_error"):
        # the agent failed mid-conversation: the run was judged, and this is why it stopped
        detail.error = {"code": "agent_error", "message": shown["agent_error"]}
    return detail


async def eval_matrix(
    container: Container, principal: Principal, project_ref: str, eval_id: str
) -> MatrixView:
    """The scenario x persona matrix of the eval's newest evaluation (None until summarised)."""
    async with container.sessions() as session:
        project = await project_in(session, principal, project_ref)
        await rows.require_row(session, ProjectEval, project.id, eval_id, EVAL_NOT_FOUND)
        conn = await session.connection()
        newest, _ = await evaluation_rows.list_evaluations(
            conn,
            principal.org_id,
            {"collection": collection_of(project.id), "eval_id": eval_id},
            1,
            0,
        )
    if not newest:
        raise NotFound("Eval has no runs yet; create them with POST .../evals/{id}/runs")
    evaluation = newest[0]
    summary = dict(evaluation.summary) if evaluation.summary else None
    return MatrixView(
        eval_id=eval_id,
        evaluation_id=evaluation.id,
        status=evaluation.status,
        matrix=summary.pop("matrix", None) if summary else None,
        summary=summary,
    )
