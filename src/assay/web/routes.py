"""The pages under /ui: sign-in, the evaluations of every kind, one evaluation, one item.

Handlers call services only, with the viewer's principal (``web/auth.py``). Pages that
change while an evaluation runs have a ``/live`` fragment and a ``/stream`` of server-sent
events that pushes the fragment again whenever it changes, which htmx swaps in. Other page
modules (``web/reviews.py``, ``web/manage/``) render with :func:`page` and stream with
:func:`stream`; ``web/mount.py`` includes their routers.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from pydantic import SecretStr

from assay.api.deps import ContainerDep
from assay.core.errors import AssayError, NotAuthenticated, ValidationFailed
from assay.core.evaluation import EvaluationView
from assay.core.states import EvaluationStatus, ItemState
from assay.kinds._registry import known_kinds
from assay.probes.catalog import BUILTIN_HARNESSES
from assay.services import evaluations as evaluation_service
from assay.services import items as item_service
from assay.services import trust as trust_service
from assay.services import webhooks as webhook_service
from assay.services.container import Container
from assay.services.keys import authenticate
from assay.services.trust import ModelParams
from assay.web import charts, results
from assay.web.auth import CSRF_FIELD, Viewer, ViewerDep, checked_form
from assay.web.session import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    new_session,
    new_token,
    tokens_match,
)

router = APIRouter(prefix="/ui", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["csrf_field"] = CSRF_FIELD
templates.env.filters["figure"] = charts.figure

PAGE_SIZE = 25
#: Items read to compute an evaluation's statistics and charts.
RESULT_ITEMS = 5000
#: Items listed on an evaluation's page.
LISTED_ITEMS = 200
STREAM_INTERVAL = 0.5


def page(
    request: Request, name: str, viewer: Viewer | None, status: int = 200, **context: Any
) -> HTMLResponse:
    return templates.TemplateResponse(
        request, name, {"viewer": viewer, **context}, status_code=status
    )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- sign-in ---------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Only a path of this UI, so the form cannot send a user to another site."""
    if target and target.startswith("/ui") and not target.startswith("//"):
        return target
    return "/ui/evaluations"


def _login_page(request: Request, next_url: str, error: str | None, status: int) -> HTMLResponse:
    token = new_token()
    response = page(request, "login.html", None, status, csrf=token, next=next_url, error=error)
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict", path="/ui"
    )
    return response


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return _login_page(request, _safe_next(next), None, 200)


@router.post("/login")
async def login(request: Request, container: ContainerDep) -> Response:
    form = await request.form()
    next_url = _safe_next(str(form.get("next") or ""))
    if not tokens_match(request.cookies.get(LOGIN_COOKIE), str(form.get(CSRF_FIELD) or "")):
        return _login_page(request, next_url, "The form expired; sign in again.", 403)
    key = str(form.get("api_key") or "").strip()
    try:
        principal = await authenticate(container, f"Bearer {key}")
    except NotAuthenticated:
        return _login_page(request, next_url, "api_key: not a valid API key of this server.", 401)
    assert principal.key_id is not None
    settings = container.settings
    cookie, _ = new_session(container.secrets, principal.key_id, settings.ui_session_hours * 3600)
    response = redirect(next_url)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(settings.ui_session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=settings.ui_secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/ui")
    return response


@router.post("/logout")
async def logout(request: Request, viewer: ViewerDep) -> Response:
    await checked_form(request, viewer)
    response = redirect("/ui/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- evaluations -----------------------------------------------------------------------------


@router.get("")
async def home() -> RedirectResponse:
    return redirect("/ui/evaluations")


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed.for_field(
            (field,), f"must be a date as YYYY-MM-DD, got {value!r}"
        ) from None


def _status(value: str | None) -> EvaluationStatus | None:
    if not value:
        return None
    try:
        return EvaluationStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in EvaluationStatus)
        raise ValidationFailed.for_field(
            ("status",), f"must be one of {known}, got {value!r}"
        ) from None


@router.get("/evaluations")
async def evaluations(
    request: Request,
    container: ContainerDep,
    viewer: ViewerDep,
    kind: str | None = None,
    status: str | None = None,
    target: str | None = None,
    since: str | None = None,
    until: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """Every kind in one list, newest first, with filters, search and pages."""
    chosen_status = _status(status)
    first, last = _day(since, "since"), _day(until, "until")
    found = await evaluation_service.list_evaluations(
        container,
        viewer.principal,
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
        filters={
            "status": chosen_status.value if chosen_status else None,
            "agent_id": target or None,
        },
        kinds=[kind] if kind else None,
        text=q or None,
        created_from=datetime.combine(first, time(), UTC) if first else None,
        created_before=datetime.combine(last + timedelta(days=1), time(), UTC) if last else None,
    )
    query = {
        k: v
        for k, v in {
            "kind": kind,
            "status": status,
            "target": target,
            "since": since,
            "until": until,
            "q": q,
        }.items()
        if v
    }
    pages = max(1, -(-found.total // PAGE_SIZE))
    return page(
        request,
        "evaluations.html",
        viewer,
        evaluations=[(v, _headline(v)) for v in found.items],
        total=found.total,
        page=page_number,
        pages=pages,
        query=query,
        page_link=lambda n: "/ui/evaluations?" + urlencode({**query, "page": n}),
        kinds=known_kinds(),
        statuses=[s.value for s in EvaluationStatus],
    )


def _headline(view: EvaluationView) -> str | None:
    """The summary's own headline number, when the kind gives one, for the list."""
    summary = view.summary or {}
    for key in ("trust_score", "pass_rate", "avg_score", "mean_score", "score", "avg_run_time"):
        value = summary.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f"{key.replace('_', ' ')} {value:.3g}"
    return None


@router.get("/evaluations/new")
async def new_evaluation_form(request: Request, viewer: ViewerDep) -> HTMLResponse:
    return page(request, "new_evaluation.html", viewer, harnesses=BUILTIN_HARNESSES, error=None)


@router.post("/evaluations/new")
async def new_evaluation(request: Request, container: ContainerDep, viewer: ViewerDep) -> Response:
    """Start a trust-score evaluation of a model or a registered agent."""
    form = await checked_form(request, viewer)
    custom = str(form.get("custom_harnesses") or "")
    harnesses = [str(h) for h in form.getlist("harnesses")]
    harnesses += [h.strip() for h in custom.split(",") if h.strip()]
    base_url = str(form.get("base_url") or "").strip()
    api_key = str(form.get("api_key_value") or "").strip()
    try:
        view = await trust_service.create_trust_evaluation(
            container,
            viewer.principal,
            harnesses=harnesses,
            agent_id=str(form.get("agent_id") or "").strip() or None,
            model_hub=str(form.get("model_hub") or "").strip() or None,
            model_name=str(form.get("model_name") or "").strip() or None,
            model_params=ModelParams(base_url=base_url) if base_url else None,
            api_key=SecretStr(api_key) if api_key else None,
            name=str(form.get("name") or "").strip() or None,
        )
    except ValidationFailed as exc:
        return page(
            request,
            "new_evaluation.html",
            viewer,
            422,
            harnesses=BUILTIN_HARNESSES,
            error=exc.message,
        )
    return redirect(f"/ui/evaluations/{view.id}")


async def _evaluation_context(
    container: Container, viewer: Viewer, evaluation_id: str
) -> dict[str, Any]:
    principal = viewer.principal
    view = await evaluation_service.get_evaluation(
        container, principal, evaluation_id, with_counts=True
    )
    items = await item_service.item_results(container, principal, evaluation_id, limit=RESULT_ITEMS)
    estimates = results.score_estimates(items)
    groups = results.group_pass_rates(items)
    scored = results.score_values(items)
    latency = results.latencies(items)
    chart_list = []
    rates = [e for e in estimates if e.is_rate]
    if rates:
        title = "Pass rates with 95% intervals"
        chart_list.append((title, charts.interval_bars(title, rates)))
    if groups:
        key, group_estimates = groups
        title = f"Pass rate by {key} with 95% intervals"
        chart_list.append((title, charts.interval_bars(title, group_estimates)))
    if scored:
        name, values = scored
        title = f"Histogram of {name}"
        chart_list.append((title, charts.histogram(title, results.histogram(values))))
    if latency:
        title = "Latency distribution"
        chart_list.append((title, charts.histogram(title, results.histogram(latency), " ms")))
    deliveries = await webhook_service.list_deliveries(container, principal, evaluation_id)
    return {
        "evaluation": view,
        "counts": [(s.value, view.item_counts.get(s.value, 0)) for s in ItemState],
        "done": min(view.finished_items, view.total_items),
        "estimates": estimates,
        "charts": chart_list,
        "failures": results.failures(items),
        "costs": results.costs(items),
        "items": items[:LISTED_ITEMS],
        "more_items": max(0, view.total_items - LISTED_ITEMS),
        "deliveries": deliveries,
        "summary_json": json.dumps(view.summary, indent=2, default=str) if view.summary else None,
    }


def _is_final(view: EvaluationView) -> bool:
    return view.status.is_terminal and (
        view.summary is not None or view.status is not EvaluationStatus.COMPLETED
    )


@router.get("/evaluations/{evaluation_id}")
async def evaluation(
    request: Request, evaluation_id: str, container: ContainerDep, viewer: ViewerDep
) -> HTMLResponse:
    context = await _evaluation_context(container, viewer, evaluation_id)
    return page(
        request, "evaluation.html", viewer, live=not _is_final(context["evaluation"]), **context
    )


@router.get("/evaluations/{evaluation_id}/live")
async def evaluation_live(
    request: Request, evaluation_id: str, container: ContainerDep, viewer: ViewerDep
) -> HTMLResponse:
    context = await _evaluation_context(container, viewer, evaluation_id)
    return page(request, "_evaluation_live.html", viewer, **context)


def _sse(event: str, html: str) -> str:
    data = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
    return f"event: {event}\n{data}\n"


def fingerprint(html: str) -> str:
    """A short digest of a fragment, which a page passes to its stream as ``seen``."""
    return hashlib.sha256(html.encode()).hexdigest()[:16]


def stream(
    request: Request,
    render: Callable[[], Awaitable[tuple[str, bool]]],
    wait: Callable[[], Awaitable[None]],
    seen: str | None = None,
) -> StreamingResponse:
    """Send the fragment whenever it changes, and ``done`` once it is final.

    ``seen`` is the :func:`fingerprint` of the fragment the page already shows: the first
    render is not sent when it is the same, so a form being filled in is not swapped away.
    """

    async def events() -> AsyncIterator[str]:
        last = None
        while not await request.is_disconnected():
            try:
                html, final = await render()
            except AssayError as exc:
                yield _sse("done", exc.message)
                return
            if html != last:
                if last is not None or seen != fingerprint(html):
                    yield _sse("update", html)
                last = html
            if final:
                yield _sse("done", "")
                return
            await wait()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/evaluations/{evaluation_id}/stream")
async def evaluation_stream(
    request: Request, evaluation_id: str, container: ContainerDep, viewer: ViewerDep
) -> StreamingResponse:
    """Server-sent events: the live fragment each time it changes, until the end."""
    await evaluation_service.get_evaluation(container, viewer.principal, evaluation_id)

    async def render() -> tuple[str, bool]:
        context = await _evaluation_context(container, viewer, evaluation_id)
        html = templates.get_template("_evaluation_live.html").render(viewer=viewer, **context)
        return html, _is_final(context["evaluation"])

    return stream(
        request, render, lambda: container.wait_for_change(evaluation_id, STREAM_INTERVAL)
    )


@router.post("/evaluations/{evaluation_id}/cancel")
async def cancel(
    request: Request, evaluation_id: str, container: ContainerDep, viewer: ViewerDep
) -> Response:
    await checked_form(request, viewer)
    await evaluation_service.cancel_evaluation(container, viewer.principal, evaluation_id)
    return redirect(f"/ui/evaluations/{evaluation_id}")


@router.post("/evaluations/{evaluation_id}/delete")
async def delete(
    request: Request, evaluation_id: str, container: ContainerDep, viewer: ViewerDep
) -> Response:
    await checked_form(request, viewer)
    await evaluation_service.get_evaluation(container, viewer.principal, evaluation_id)
    await evaluation_service.delete_evaluations(container, viewer.principal, [evaluation_id])
    return redirect("/ui/evaluations")


# -- items -----------------------------------------------------------------------------------


async def _item_context(
    container: Container, viewer: Viewer, evaluation_id: str, item_id: str
) -> dict[str, Any]:
    view = await evaluation_service.get_evaluation(container, viewer.principal, evaluation_id)
    item = await item_service.get_item_detail(container, viewer.principal, evaluation_id, item_id)
    return {"evaluation": view, "item": item}


@router.get("/evaluations/{evaluation_id}/items/{item_id}")
async def item(
    request: Request, evaluation_id: str, item_id: str, container: ContainerDep, viewer: ViewerDep
) -> HTMLResponse:
    context = await _item_context(container, viewer, evaluation_id, item_id)
    return page(request, "item.html", viewer, live=not context["item"].state.is_terminal, **context)


@router.get("/evaluations/{evaluation_id}/items/{item_id}/stream")
async def item_stream(
    request: Request, evaluation_id: str, item_id: str, container: ContainerDep, viewer: ViewerDep
) -> StreamingResponse:
    """Server-sent events: the trace each time a step is recorded, until the item ends."""
    await item_service.get_item_detail(container, viewer.principal, evaluation_id, item_id)

    async def render() -> tuple[str, bool]:
        context = await _item_context(container, viewer, evaluation_id, item_id)
        html = templates.get_template("_item_live.html").render(viewer=viewer, **context)
        return html, context["item"].state.is_terminal

    return stream(request, render, lambda: asyncio.sleep(STREAM_INTERVAL))
