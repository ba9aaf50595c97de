"""/v1/evaluations: the native evaluations API, which speaks seed 003 (trust scores).

Create answers **200**, not 201: the seed documents its success responses AWS-style (one
status for every action), so clients written for it may check ``status_code == 200``; a 200
satisfies those as well as clients that accept any 2xx. Delete answers 200 with a small JSON
body for the same reason (a client that parses every answer would fail on an empty 204).

Every evaluation of the caller's organization is visible here, whichever API created it;
the score fields are null for kinds that have none.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from assay.api.deps import ContainerDep, PrincipalDep
from assay.api.health import EVALUATIONS_CREATED
from assay.api.v1.errors import FAILURE_TYPES
from assay.core.errors import ResultsNotReady
from assay.core.evaluation import EvaluationProgress, EvaluationView
from assay.core.states import EvaluationStatus
from assay.core.text import (
    OFFSET_MAX,
    SECRET_MAX,
    SHORT_TEXT_MAX,
    Bounded,
    Id,
    Kind,
    LongName,
    LongText,
    ShortText,
    Url,
)
from assay.services import compare as compare_service
from assay.services import evaluations as evaluation_service
from assay.services import trust as trust_service
from assay.services import webhooks as webhook_service
from assay.services.trust import TRUST_KIND, ModelHub, ModelParams
from assay.services.webhooks import DeliveryView

router = APIRouter(prefix="/v1/evaluations", tags=["evaluations"])

#: ``kind=all`` lists evaluations of every kind.
ALL_KINDS = "all"
_SCORES = ("trust_score", "reliability_score", "security_score", "safety_score")


class EvaluationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    harnesses: list[Id] = Field(
        min_length=1,
        max_length=100,
        description="`trust_score`, `security`, `reliability`, `safety`, or custom harness ids.",
    )
    agent_id: Id | None = Field(
        default=None, description="A registered agent; or give model_hub and model_name."
    )
    model_hub: ModelHub | None = None
    model_name: Annotated[str, Bounded(SHORT_TEXT_MAX, min_length=1)] | None = Field(
        default=None, description="The hub's model id, e.g. `gpt-4o`."
    )
    model_params: ModelParams | None = None
    system_prompt: LongText | None = Field(
        default=None,
        description="Sent as the system prompt (before each probe's own) on every probe.",
    )
    transforms: list[ShortText] = Field(
        default_factory=list,
        max_length=10,
        description=(
            "Also run every probe rewritten by each: `base64`, `hex`, `rot13`, `leetspeak`, "
            "`case`, `whitespace`, `translate:<language code>`, `paraphrase`; results group by "
            "transform."
        ),
    )
    transform_model: ShortText | None = Field(
        default=None,
        description=(
            "`provider/model` that translates and paraphrases for transforms; the judge when unset."
        ),
    )
    attacker: ShortText | None = Field(
        default=None,
        description=(
            "Who writes the turns of multi-turn attack probes (harness `multi_turn`): `scripted` "
            "or an attacker model `provider/model`. Unset: the project's default attacker "
            "(`llmSettings.attacker` of `/api/projects`), else `scripted` (offline)."
        ),
    )
    api_key_value: Annotated[SecretStr, Field(max_length=SECRET_MAX)] | None = Field(
        default=None,
        description=(
            "The hub's API key, used for this evaluation only; stored encrypted, never returned."
        ),
    )
    webhook_url: Url | None = Field(
        default=None,
        description="Receives a signed POST when the evaluation completes, fails or is cancelled.",
    )
    name: LongName | None = None
    baseline_evaluation_id: Id | None = Field(
        default=None,
        description=(
            "An earlier trust evaluation to compare with: results then give each dimension's "
            "pass-rate difference, its 95% interval and a verdict in `baseline`."
        ),
    )


class EvaluationCreated(BaseModel):
    id: str
    status: EvaluationStatus
    created_at: datetime
    harnesses: list[str]


class EvaluationStatusView(BaseModel):
    id: str
    name: str | None
    kind: str
    status: EvaluationStatus
    progress: float
    """Completion percentage, 0-100."""
    completed: int
    """Probes (items) finished."""
    total: int
    """Probes (items) to run."""
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    estimated_completion: datetime | None
    """From the rate observed so far; null unless running."""
    error: str | None = None
    """Why it failed, prefixed with the seed's exception name; null unless failed."""
    error_type: str | None = None
    """The seed's exception name of the failure, e.g. `InvalidApiKeyException`."""
    infra_errors: str | None = None
    """Why probes ended in infrastructure errors, grouped (`2 infra errors: 2 x no answer
    from ...`); null when none did."""


class EvaluationResults(BaseModel):
    id: str
    trust_score: float | None
    reliability_score: float | None
    security_score: float | None
    safety_score: float | None
    completed_at: datetime | None
    failures: list[dict[str, Any]]
    summary: dict[str, Any]
    infra_errors: str | None = None
    """Why probes ended in infrastructure errors, grouped; null when none did."""
    baseline: dict[str, Any] | None = None
    """With a `baseline_evaluation_id`: `evaluation_id`, then `overall` and `dimensions`,
    each with `n`, `baseline_pass_rate`, `pass_rate`, `difference` (-1..1), `ci95`,
    `p_value` (McNemar, exact) and `verdict` (`better`, `worse`, `no significant difference`);
    or `error` when the baseline was deleted."""


class EvaluationListItem(BaseModel):
    id: str
    name: str | None
    kind: str
    status: EvaluationStatus
    agent_id: str | None
    model_hub: str | None
    model_name: str | None
    harnesses: list[str]
    total: int
    trust_score: float | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


class EvaluationList(BaseModel):
    evaluations: list[EvaluationListItem]
    total: int
    limit: int
    offset: int


class EvaluationDeleted(BaseModel):
    id: str
    deleted: bool = True


class DeliveryList(BaseModel):
    deliveries: list[DeliveryView]


def _harnesses(view: EvaluationView) -> list[str]:
    return list(view.labels.get("harnesses") or view.spec.params.get("harnesses") or [])


def _estimate(view: EvaluationProgress, completed: int, now: datetime) -> datetime | None:
    """Now plus the remaining items at the average pace so far; None before the first one."""
    if view.status is not EvaluationStatus.RUNNING or view.started_at is None or not completed:
        return None
    per_item = (now - view.started_at).total_seconds() / completed
    return now + timedelta(seconds=per_item * max(view.total_items - completed, 0))


def status_from_evaluation(view: EvaluationProgress, now: datetime) -> EvaluationStatusView:
    completed = min(view.completed_items, view.total_items)
    if view.total_items:
        progress = round(100.0 * completed / view.total_items, 1)
    else:
        progress = 100.0 if view.status.is_terminal else 0.0
    failed = view.status is EvaluationStatus.FAILED
    error_type = FAILURE_TYPES.get(view.error_code or "", "EvaluationFailedException")
    return EvaluationStatusView(
        id=view.id,
        name=view.name,
        kind=view.kind,
        status=view.status,
        progress=progress,
        completed=completed,
        total=view.total_items,
        created_at=view.created_at,
        started_at=view.started_at,
        completed_at=view.completed_at,
        estimated_completion=_estimate(view, completed, now),
        error=f"{error_type}: {view.error}" if failed else None,
        error_type=error_type if failed else None,
        infra_errors=view.infra_error_text,
    )


def results_from_evaluation(view: EvaluationView) -> EvaluationResults:
    summary = dict(view.summary or {})
    if view.kind == "harness":
        details = {
            **(summary.get("summary") or {}),
            "dimensions": summary.get("dimensions"),
            "weights": summary.get("weights"),
            "counts": summary.get("counts"),
            "usage": summary.get("usage"),
            "harnesses": _harnesses(view),
            "catalog_version": (summary.get("catalog") or {}).get("version"),
            **({"by_transform": summary["by_transform"]} if "by_transform" in summary else {}),
        }
    else:
        details = summary
    return EvaluationResults(
        id=view.id,
        **{name: summary.get(name) for name in _SCORES},
        completed_at=view.completed_at,
        failures=list(summary.get("failures") or []) if view.kind == "harness" else [],
        summary=details,
        infra_errors=view.infra_error_text,
    )


def list_item_from_evaluation(view: EvaluationView) -> EvaluationListItem:
    return EvaluationListItem(
        id=view.id,
        name=view.name,
        kind=view.kind,
        status=view.status,
        agent_id=view.agent_id,
        model_hub=view.labels.get("model_hub"),
        model_name=view.labels.get("model_name"),
        harnesses=_harnesses(view),
        total=view.total_items,
        trust_score=(view.summary or {}).get("trust_score"),
        created_at=view.created_at,
        started_at=view.started_at,
        completed_at=view.completed_at,
    )


@router.post("", operation_id="evaluations-create")
async def create_evaluation(
    body: EvaluationCreate, container: ContainerDep, principal: PrincipalDep
) -> EvaluationCreated:
    """Create and start a trust-score evaluation of a registered agent or a model."""
    view = await trust_service.create_trust_evaluation(
        container,
        principal,
        harnesses=body.harnesses,
        agent_id=body.agent_id,
        model_hub=body.model_hub,
        model_name=body.model_name,
        model_params=body.model_params,
        system_prompt=body.system_prompt,
        transforms=body.transforms,
        transform_model=body.transform_model,
        attacker=body.attacker,
        api_key=body.api_key_value,
        webhook_url=body.webhook_url,
        name=body.name,
        baseline_evaluation_id=body.baseline_evaluation_id,
    )
    EVALUATIONS_CREATED.labels(kind=view.kind, api="v1").inc()
    return EvaluationCreated(
        id=view.id, status=view.status, created_at=view.created_at, harnesses=_harnesses(view)
    )


@router.get("", operation_id="evaluations-list")
async def list_evaluations(
    container: ContainerDep,
    principal: PrincipalDep,
    limit: Annotated[
        int, Query(ge=1, le=100, description="Most evaluations to return (1-100).")
    ] = 20,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX, description="Evaluations to skip.")] = 0,
    status: Annotated[EvaluationStatus | None, Query(description="Only this status.")] = None,
    agent_id: Annotated[str | None, Query(description="Only this agent's evaluations.")] = None,
    kind: Annotated[
        list[Kind] | None,
        Query(
            max_length=20,
            description=(
                "Kinds to list (repeat for several), or `all`. By default only trust-score"
                " evaluations (`harness`), the ones this API creates and can show results of."
            ),
        ),
    ] = None,
) -> EvaluationList:
    """The organization's evaluations, newest first, with the total that match.

    Only trust-score evaluations unless ``kind`` widens it: an ``/eval-runs`` run or a seed-004
    simulation has neither an ``eval-{uuid}`` id nor the scores a trust-score client reads.
    """
    kinds = kind or [TRUST_KIND]
    page = await evaluation_service.list_evaluations(
        container,
        principal,
        limit=limit,
        offset=offset,
        filters={"status": status.value if status else None, "agent_id": agent_id},
        kinds=None if ALL_KINDS in kinds else kinds,
    )
    return EvaluationList(
        evaluations=[list_item_from_evaluation(v) for v in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get("/{evaluation_id}", operation_id="evaluations-status")
async def get_evaluation_status(
    evaluation_id: str, container: ContainerDep, principal: PrincipalDep
) -> EvaluationStatusView:
    view = await evaluation_service.get_progress(container, principal, evaluation_id)
    return status_from_evaluation(view, datetime.now(UTC))


@router.get(
    "/{evaluation_id}/results",
    operation_id="evaluations-results",
    responses={409: {"description": "ResultsNotReadyException: not completed yet"}},
)
async def get_evaluation_results(
    evaluation_id: str, container: ContainerDep, principal: PrincipalDep
) -> EvaluationResults:
    """Scores and failures; 409 ResultsNotReadyException until the evaluation completed."""
    view = await evaluation_service.get_evaluation(
        container, principal, evaluation_id, with_counts=True
    )
    if view.status is not EvaluationStatus.COMPLETED or view.summary is None:
        raise ResultsNotReady(
            f"evaluation {evaluation_id} is {view.status.value}; results exist once it has "
            "completed"
        )
    results = results_from_evaluation(view)
    results.baseline = await compare_service.baseline_results(container, principal, view)
    return results


@router.post("/{evaluation_id}/cancel", operation_id="evaluations-cancel")
async def cancel_evaluation(
    evaluation_id: str, container: ContainerDep, principal: PrincipalDep
) -> EvaluationStatusView:
    """Stop a pending or running evaluation; 409 InvalidStateException once it has ended."""
    view = await evaluation_service.cancel_evaluation(container, principal, evaluation_id)
    return status_from_evaluation(view, datetime.now(UTC))


@router.delete("/{evaluation_id}", operation_id="evaluations-delete")
async def delete_evaluation(
    evaluation_id: str, container: ContainerDep, principal: PrincipalDep
) -> EvaluationDeleted:
    """Delete the evaluation with its items, results and webhook deliveries."""
    await evaluation_service.get_evaluation(container, principal, evaluation_id)
    await evaluation_service.delete_evaluations(container, principal, [evaluation_id])
    return EvaluationDeleted(id=evaluation_id)


@router.get("/{evaluation_id}/webhooks", operation_id="evaluations-webhooks")
async def list_webhook_deliveries(
    evaluation_id: str, container: ContainerDep, principal: PrincipalDep
) -> DeliveryList:
    """The evaluation's webhook deliveries with their attempts and last answers."""
    return DeliveryList(
        deliveries=await webhook_service.list_deliveries(container, principal, evaluation_id)
    )
