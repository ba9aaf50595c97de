"""Checkpointed task runs: create one, show it, and record a reviewer's verdict.

A run is an evaluation of the ``checkpointed`` kind with one item. While it waits, the item
is parked by the engine (no worker, survives restarts); :func:`verify` records the verdict
as a ``review`` event, with the reviewer taken from the API key (never from the request),
and puts the item back in the queue, where the kind continues from that checkpoint.
Only the assigned reviewer, or an organization admin, may verify.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from assay.core.checkpoints import (
    REVIEW_EVENT,
    Execution,
    RunState,
    StageRequest,
    TaskRequest,
    Verdict,
    apply_verdict,
)
from assay.core.errors import (
    EvaluationNotFound,
    InvalidTransition,
    PermissionDenied,
    ReviewerNotFound,
    ValidationFailed,
)
from assay.core.evaluation import EvaluationView
from assay.core.ids import new_id
from assay.core.principal import Principal, Role
from assay.core.spec import EvaluationSpec, ModelRef, TargetSpec
from assay.engine.waits import resume_item
from assay.providers._registry import is_known_provider, known_providers
from assay.services import evaluations as evaluation_service
from assay.services.access import can_see, require_role
from assay.services.agents import resolve_target
from assay.services.container import Container
from assay.services.keys import user_email
from assay.store.repositories import checkpoints as checkpoint_rows
from assay.store.repositories import tenancy
from assay.store.transitions import KIND_EVENT_LABEL

KIND = "checkpointed"
#: The agent kind that can plan: an OpenAI-compatible chat endpoint with function calling.
PLANNER_AGENT_KIND = "openai-chat"
#: The planner when neither the task nor ``ASSAY_AGENT_MODEL`` names one.
OFFLINE_PLANNER = "mock/task-agent"
#: Reviewers named when an assigned one is not found.
SUGGESTIONS = 3
_REVIEW_ROLES = (Role.REVIEWER.value, Role.ADMIN.value)


def execution_url(container: Container, execution_id: str) -> str:
    """Where a person follows the run and verifies it: its reviewer page in the web UI."""
    return f"{container.settings.public_url.rstrip('/')}/ui/reviews/{execution_id}"


async def resolve_reviewer(container: Container, principal: Principal, reviewer: str) -> str:
    """The email of the organization's user named by ``reviewer`` (an email or its local part).

    Raises:
        ReviewerNotFound: no such user; it names up to three users who could review.
    """
    wanted = reviewer.strip().lower()
    async with container.sessions() as session:
        users = await tenancy.list_users(session, principal.org_id)
    for user in users:
        if user.email == wanted or ("@" not in wanted and user.email.partition("@")[0] == wanted):
            return user.email
    ranked = sorted(users, key=lambda u: u.role not in _REVIEW_ROLES)
    raise ReviewerNotFound(reviewer, [u.email for u in ranked[:SUGGESTIONS]])


class Planner(NamedTuple):
    #: ``provider/model`` the kind's planner calls (``mock/...``: the offline planner).
    model: str
    #: What the evaluation records as its target: the agent, or the model.
    target: TargetSpec
    #: The evaluation's secrets: the agent's key and endpoint, for the planner's provider.
    secrets: dict[str, Any]


async def resolve_planner(
    container: Container, principal: Principal, agent_id: str | None
) -> Planner:
    """The task agent's planner: ``agentId``, else ``ASSAY_AGENT_MODEL``, else offline.

    ``agentId`` is an ``openai-chat`` agent's id or ``provider/model``. A registered agent
    plans through its own endpoint, model and key (given to the evaluation as its ``openai``
    provider's credentials), calling the task agent's tools by function calling; its system
    prompt and headers are not used (the planner has its own prompts).

    Raises:
        AgentNotFound: no agent ``agent_id`` the key can see (loc ``agentId``).
        ValidationFailed: an agent of another kind, or a model of an unknown provider.
    """
    if agent_id is None or "/" in agent_id:
        model = agent_id or container.settings.agent_model or OFFLINE_PLANNER
        field = "agentId" if agent_id else "agent_model"
        ref = ModelRef.parse(model, field)
        if not is_known_provider(ref.provider):
            known = ", ".join(known_providers())
            raise ValidationFailed.for_field(
                (field,), f"unknown provider {ref.provider!r}; known: {known}"
            )
        return Planner(ref.label, TargetSpec(kind="model", name="task-agent", model=ref), {})
    target, agent_secrets = await resolve_target(container, principal, agent_id, "agentId")
    if target.kind != PLANNER_AGENT_KIND:
        raise ValidationFailed.for_field(
            ("agentId",),
            f"agent {agent_id!r} is a {target.kind} agent; the planner needs an "
            f"{PLANNER_AGENT_KIND} agent or a provider/model",
        )
    endpoint = {"base_url": target.config["base_url"], "api_key": agent_secrets.get("api_key")}
    secrets = {"target": agent_secrets, "providers": {"openai": endpoint}}
    return Planner(f"openai/{target.config['model']}", target, secrets)


async def create_task(container: Container, principal: Principal, task: TaskRequest) -> Execution:
    """Start a checkpointed run for ``task``; it is queued at once and answered right away.

    Raises:
        ReviewerNotFound: the assigned reviewer is not a user of the organization.
        ValidationFailed: a field is wrong (naming it); nothing is written.
        OutboundRefused: the webhook URL is not allowed.
    """
    require_role(principal, Role.MEMBER)
    if task.checkpoints and task.auto_detect:
        raise ValidationFailed.for_field(
            ("autoDetectCheckpoints",), "give checkpoints or autoDetectCheckpoints, not both"
        )
    if task.webhook_url is not None:
        container.settings.outbound_policy.check_field(("webhookUrl",), task.webhook_url)
    reviewer = await resolve_reviewer(container, principal, task.reviewer)
    settings = container.settings
    planner = await resolve_planner(container, principal, task.agent_id)
    model = planner.model
    execution_id = new_id()
    timeout = task.verification_timeout_s or settings.verification_timeout
    spec = EvaluationSpec(
        kind=KIND,
        name=task.task_name,
        target=planner.target,
        params={
            "task_name": task.task_name,
            "task_description": task.task_description,
            "checkpoints": [c.model_dump() for c in task.checkpoints],
            "auto_detect": task.auto_detect,
            "test_mode": task.test_mode,
            "reviewer": reviewer,
            "planner_model": model,
            "verification_timeout_s": timeout,
            "execution_url": execution_url(container, execution_id),
            "external_id": task.external_id,
        },
    )
    labels: dict[str, Any] = {
        "reviewer": reviewer,
        "external_id": task.external_id,
        KIND_EVENT_LABEL: True,
    }
    await evaluation_service.create_evaluation(
        container,
        principal,
        spec,
        secrets=planner.secrets,
        labels={k: v for k, v in labels.items() if v is not None},
        webhook_url=task.webhook_url,
        evaluation_id=execution_id,
        enforce_quotas=True,
    )
    return await get_execution(container, principal, execution_id)


async def get_execution(container: Container, principal: Principal, execution_id: str) -> Execution:
    """The run as its status shows it; another tenant's, or another kind's, is NotFound."""
    async with container.db.connect() as conn:
        found = await checkpoint_rows.run_with_item(conn, execution_id, principal.org_id)
    if found is None or not can_see(principal, found[0].workspace_id) or found[0].kind != KIND:
        raise EvaluationNotFound(f"execution {execution_id!r} not found")
    row, item = found
    return _execution(container, evaluation_service.view_from_row(row), item)


def _execution(container: Container, view: EvaluationView, item: Any) -> Execution:
    params = view.spec.params
    state = None
    if item is not None:
        outcome_data = (item.outcome or {}).get("data")
        stored = outcome_data or item.saved_state
        state = RunState.model_validate(stored) if stored else None
    error = view.error
    if state is not None and state.error:
        error = state.error
    elif item is not None and item.error:
        error = str(item.error.get("message", item.error.get("code", "the run failed")))
    return Execution(
        id=view.id,
        task_name=str(params["task_name"]),
        test_mode=params["test_mode"],
        detection=_detection(params),
        reviewer=str(params["reviewer"]),
        external_id=params.get("external_id"),
        evaluation_status=view.status.value,
        item_state=None if item is None else item.state,
        state=state,
        stages=[StageRequest.model_validate(c) for c in params.get("checkpoints", [])],
        expected_checkpoints=None if item is None else item.input.get("expected_checkpoints"),
        model=state.model if state is not None else str(params["planner_model"]),
        error=error,
        started_at=view.started_at,
        completed_at=view.completed_at,
        url=execution_url(container, view.id),
    )


def _detection(params: dict[str, Any]) -> Any:
    if params.get("checkpoints"):
        return "manual"
    return "ai-detected" if params.get("auto_detect") else "none"


async def reviewer_label(container: Container, principal: Principal, assigned: str) -> str:
    """Who verifies, from the key: the assigned reviewer's email, or an admin's.

    Raises:
        PermissionDenied: the key is neither the assigned reviewer's nor an admin's.
    """
    email = await user_email(container, principal)
    if not may_verify(principal, email, assigned):
        raise PermissionDenied(
            f"only the assigned reviewer ({assigned}) or an organization admin may verify this run"
        )
    return email or f"admin key {principal.key_id}"


def may_verify(principal: Principal, email: str | None, assigned: str) -> bool:
    """Whether the key of ``email``'s user (None: a service key) may verify a run of ``assigned``."""
    return (email is not None and email == assigned) or principal.role is Role.ADMIN


async def verify(
    container: Container,
    principal: Principal,
    execution_id: str,
    checkpoint_number: int,
    action: str,
    hint: str | None,
) -> Execution:
    """Record the verdict on waiting checkpoint ``checkpoint_number`` and resume the run.

    The answer shows the verdict at once; the run continues on a worker.

    Raises:
        NotFound: no such run for the caller.
        PermissionDenied: the caller is neither the assigned reviewer nor an admin.
        ValidationFailed: ``action`` is not approved/rejected, or a rejection has no hint.
        InvalidTransition: that checkpoint is not waiting (answered, expired, not reached).
    """
    execution = await get_execution(container, principal, execution_id)
    if action not in ("approved", "rejected"):
        raise ValidationFailed.for_field(
            ("action",), f"must be approved or rejected, got {action!r}"
        )
    hint = (hint or "").strip() or None
    if action == "rejected" and hint is None:
        raise ValidationFailed.for_field(("hint",), "is required when rejecting a checkpoint")
    reviewer = await reviewer_label(container, principal, execution.reviewer)
    state = execution.state
    waiting = state.waiting if state is not None else None
    if state is None or waiting is None or waiting.number != checkpoint_number:
        raise InvalidTransition(_not_waiting(execution, checkpoint_number))
    now = datetime.now(UTC)
    verdict = Verdict.model_validate(
        {"action": action, "hint": hint, "reviewer": reviewer, "verified_at": now}
    )
    payload = {"checkpoint_number": checkpoint_number, "verdict": verdict.model_dump(mode="json")}
    async with container.db.begin() as conn:
        item = await checkpoint_rows.task_item(conn, execution_id)
        if item is None or not await resume_item(conn, item.id, REVIEW_EVENT, payload, now):
            raise InvalidTransition(_not_waiting(execution, checkpoint_number))
    container.notify_work()
    apply_verdict(state, checkpoint_number, verdict)
    return execution.model_copy(
        update={"state": state, "evaluation_status": "running", "item_state": "queued"}
    )


def _not_waiting(execution: Execution, number: int) -> str:
    state = execution.state
    found = (
        None if state is None else next((c for c in state.checkpoints if c.number == number), None)
    )
    if found is None:
        return f"checkpoint {number} is not waiting for verification (the run has not asked it)"
    return f"checkpoint {number} is not waiting for verification (it is {found.status.value})"


async def pending_reviews(container: Container, principal: Principal) -> list[Execution]:
    """Runs waiting for the caller: the assigned reviewer's, or every one for an admin key."""
    email = await user_email(container, principal)
    if email is None and principal.role is not Role.ADMIN:
        return []
    filters: dict[str, Any] = {"status": "waiting_verification"}
    if principal.role is not Role.ADMIN:
        filters["reviewer"] = email
    page = await evaluation_service.list_evaluations(
        container, principal, limit=100, offset=0, filters=filters, kinds=[KIND]
    )
    found = [await get_execution(container, principal, view.id) for view in page.items]
    return [e for e in found if e.state is not None and e.state.waiting is not None]
