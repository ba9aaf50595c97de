"""One exception handler; the renderer is chosen by the request path's dialect.

Status codes come from the error class (see ``core/errors.py``). The native API uses the
canonical envelope ``{"code", "detail", "type", "errors"}``; each dialect renders its seed's
shape in ``api/dialects/<name>/errors.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from assay.api.dialects.benchmarks import errors as benchmarks_errors
from assay.api.dialects.eval_runs import errors as eval_runs_errors
from assay.api.dialects.eval_tasks import errors as eval_tasks_errors
from assay.api.dialects.projects import errors as projects_errors
from assay.api.v1 import errors as native_errors
from assay.core.errors import AssayError, NotFound, QuotaExceeded, ValidationFailed
from assay.core.validation_messages import friendly_message
from assay.web.mount import error_page, is_ui_path

log = logging.getLogger(__name__)

Renderer = Callable[[AssayError], tuple[int, dict[str, Any]]]


def render_canonical(error: AssayError) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"code": error.status, "detail": error.message, "type": error.code}
    if isinstance(error, ValidationFailed):
        body["errors"] = error.errors
    return error.status, body


#: Path prefix -> renderer; the first match wins, the native envelope is the fallback.
RENDERERS: list[tuple[str, Renderer]] = [
    ("/eval-runs", eval_runs_errors.render),
    ("/api/eval", eval_tasks_errors.render),
    ("/api/v1/org", benchmarks_errors.render),
    ("/api/projects", projects_errors.render),
    ("/v1/evaluations", native_errors.render),
    ("/v1/harnesses", native_errors.render),
]


def renderer_for(path: str) -> Renderer:
    for prefix, renderer in RENDERERS:
        if path == prefix or path.startswith(prefix + "/"):
            return renderer
    return render_canonical


def error_response(
    path: str, error: AssayError, headers: dict[str, str] | None = None
) -> JSONResponse:
    """``error`` in the envelope of the dialect that serves ``path``, with its headers."""
    status, body = renderer_for(path)(error)
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, QuotaExceeded) and error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(body, status_code=status, headers=headers or None)


def _respond(
    request: Request, error: AssayError, headers: dict[str, str] | None = None
) -> Response:
    if is_ui_path(request.url.path):
        return error_page(request, error)
    return error_response(request.url.path, error, headers)


async def _assay_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AssayError)
    return _respond(request, exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    model = _body_model(request)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": _message(e, model), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    message = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
    return _respond(request, ValidationFailed(message, errors))


def _body_model(request: Request) -> type[BaseModel] | None:
    """The route's body model, so an unknown key in a body can name the closest known one."""
    field = getattr(request.scope.get("route"), "body_field", None)
    annotation = getattr(getattr(field, "field_info", None), "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _message(error: Any, model: type[BaseModel] | None) -> str:
    loc = list(error.get("loc", ()))
    if loc[:1] == ["body"] and model is not None:
        return friendly_message({**error, "loc": loc[1:]}, model)
    return friendly_message(error)


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (RFC 9110 wants all of them in ``Allow``).

    Starlette's own 405 names only the first route that matched the path, and each method
    of a resource is its own route here.
    """
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return _respond(request, NotFound(f"no route {request.method} {request.url.path}"))
    error = AssayError(str(exc.detail))
    error.status = exc.status_code
    error.code = "http_error"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return _respond(request, error, headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(request, AssayError("internal server error"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AssayError, _assay_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
