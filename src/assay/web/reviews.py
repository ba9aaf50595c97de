"""The reviewer pages (seed 000): the queue of checkpoints waiting for me, and one run.

A run's page is where its ``chatUrl`` points: the agent's work as it happens (steps, tool
calls, the outbox), the pending question with the step's evidence, and the approve / reject
form. Verdicts go through the same service as ``POST /api/eval/verify``, so who verified is
the signed-in key's user (never a form field), and only the assigned reviewer or an admin
may answer. Keyboard shortcuts are handled by ``static/reviews.js`` and listed on the pages.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from assay.api.deps import ContainerDep
from assay.core.checkpoints import Execution
from assay.core.errors import InvalidTransition, ValidationFailed
from assay.services import checkpoints as checkpoint_service
from assay.services.container import Container
from assay.web.auth import Viewer, ViewerDep, checked_form
from assay.web.routes import STREAM_INTERVAL, fingerprint, page, redirect, stream, templates

router = APIRouter(prefix="/ui/reviews", include_in_schema=False)

#: What each shortcut does, shown on the pages (``static/reviews.js`` binds them).
QUEUE_KEYS = [("j / k", "next / previous run"), ("Enter", "open the selected run")]
RUN_KEYS = [
    ("a", "approve the waiting checkpoint"),
    ("r", "write a hint to reject (Ctrl+Enter sends the rejection)"),
    ("n", "next run in the queue"),
    ("q", "back to the queue"),
    ("Esc", "leave the hint box"),
]


def wait_text(since: datetime | None, now: datetime) -> str:
    """How long a checkpoint has waited, for people: ``45 s``, ``12 min``, ``3 h 5 min``."""
    if since is None:
        return "—"
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} days"


async def _queue(container: Container, viewer: Viewer) -> list[Execution]:
    """What waits for the viewer, oldest question first."""
    waiting = await checkpoint_service.pending_reviews(container, viewer.principal)
    far_future = datetime.max.replace(tzinfo=UTC)

    def asked_at(execution: Execution) -> datetime:
        assert execution.state is not None and execution.state.waiting is not None
        return execution.state.waiting.requested_at or far_future

    return sorted(waiting, key=asked_at)


async def _queue_page(
    request: Request, container: Container, viewer: Viewer, template: str
) -> HTMLResponse:
    return page(
        request,
        template,
        viewer,
        waiting=await _queue(container, viewer),
        now=datetime.now(UTC),
        wait_text=wait_text,
        shortcuts=QUEUE_KEYS,
    )


@router.get("")
async def queue(request: Request, container: ContainerDep, viewer: ViewerDep) -> HTMLResponse:
    return await _queue_page(request, container, viewer, "reviews.html")


@router.get("/queue")
async def queue_rows(request: Request, container: ContainerDep, viewer: ViewerDep) -> HTMLResponse:
    """The queue's table alone, which the page polls so new checkpoints appear by themselves."""
    return await _queue_page(request, container, viewer, "_reviews_table.html")


def _is_final(execution: Execution) -> bool:
    return execution.evaluation_status in ("completed", "failed", "cancelled")


async def _run_context(container: Container, viewer: Viewer, execution_id: str) -> dict[str, Any]:
    execution = await checkpoint_service.get_execution(container, viewer.principal, execution_id)
    return {
        "execution": execution,
        "can_verify": checkpoint_service.may_verify(
            viewer.principal, viewer.user, execution.reviewer
        ),
    }


async def _next_in_queue(container: Container, viewer: Viewer, current: str) -> str | None:
    ids = [e.id for e in await _queue(container, viewer)]
    if current in ids:
        ids = ids[ids.index(current) + 1 :] + ids[: ids.index(current)]
    return ids[0] if ids else None


def _live_html(viewer: Viewer, context: dict[str, Any], hint: str = "") -> str:
    return templates.get_template("_review_live.html").render(viewer=viewer, hint=hint, **context)


async def _run_page(
    request: Request,
    container: Container,
    viewer: Viewer,
    execution_id: str,
    status: int = 200,
    error: str | None = None,
    hint: str = "",
) -> HTMLResponse:
    """The run's page; after a refused verdict it is not live, so the hint stays as typed."""
    context = await _run_context(container, viewer, execution_id)
    live_html = _live_html(viewer, context, hint)
    return page(
        request,
        "review.html",
        viewer,
        status,
        live=error is None and not _is_final(context["execution"]),
        live_html=live_html,
        seen=fingerprint(live_html),
        next_id=await _next_in_queue(container, viewer, execution_id),
        shortcuts=RUN_KEYS,
        error=error,
        **context,
    )


@router.get("/{execution_id}")
async def run(
    request: Request, execution_id: str, container: ContainerDep, viewer: ViewerDep
) -> HTMLResponse:
    return await _run_page(request, container, viewer, execution_id)


@router.get("/{execution_id}/stream")
async def run_stream(
    request: Request,
    execution_id: str,
    container: ContainerDep,
    viewer: ViewerDep,
    seen: Annotated[str | None, Query(max_length=64)] = None,
) -> StreamingResponse:
    """Server-sent events: the run's steps and question each time they change, until it ends.

    The fragment holds no clock, so it stays the same while a question waits, and the page's
    own copy (``seen``) is not sent again: a hint being typed is never swapped away.
    """
    await checkpoint_service.get_execution(container, viewer.principal, execution_id)

    async def render() -> tuple[str, bool]:
        context = await _run_context(container, viewer, execution_id)
        return _live_html(viewer, context), _is_final(context["execution"])

    return stream(
        request, render, lambda: container.wait_for_change(execution_id, STREAM_INTERVAL), seen
    )


@router.post("/{execution_id}/verify")
async def verify(
    request: Request, execution_id: str, container: ContainerDep, viewer: ViewerDep
) -> Response:
    """Approve or reject the waiting checkpoint as the signed-in key's user."""
    form = await checked_form(request, viewer)
    action = str(form.get("action") or "")
    hint = str(form.get("hint") or "")
    number = str(form.get("checkpoint") or "")
    if not number.isdigit():
        raise ValidationFailed.for_field(("checkpoint",), f"must be a number, got {number!r}")
    try:
        await checkpoint_service.verify(
            container, viewer.principal, execution_id, int(number), action, hint
        )
    except (ValidationFailed, InvalidTransition) as exc:
        return await _run_page(
            request, container, viewer, execution_id, exc.status, exc.message, hint
        )
    return redirect(f"/ui/reviews/{execution_id}")
