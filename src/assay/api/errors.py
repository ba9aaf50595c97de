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
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assay.api.dialects.benchmarks import errors as benchmarks_errors
from assay.api.dialects.eval_runs import errors as eval_runs_errors
from assay.api.dialects.projects import errors as projects_errors
from assay.api.v1 import errors as native_errors
from assay.core.errors import AssayError, NotFound, QuotaExceeded, ValidationFailed

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
    ("/api/v1/org", benchmarks_errors.render),
    ("/api/projects", projects_errors.render),
    ("/v1/evaluations", native_errors.render),
    ("/v1/harnesses", native_errors.render),
]


def _renderer(path: str) -> Renderer:
    for prefix, renderer in RENDERERS:
        if path == prefix or path.startswith(prefix + "/"):
            return renderer
    return render_canonical


def error_response(path: str, error: AssayError) -> JSONResponse:
    """``error`` in the envelope of the dialect that serves ``path``, with its headers."""
    status, body = _renderer(path)(error)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, QuotaExceeded) and error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(body, status_code=status, headers=headers or None)


def _respond(request: Request, error: AssayError) -> JSONResponse:
    return error_response(request.url.path, error)


async def _assay_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AssayError)
    return _respond(request, exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    message = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
    return _respond(request, ValidationFailed(message, errors))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return _respond(request, NotFound(f"no route {request.method} {request.url.path}"))
    error = AssayError(str(exc.detail))
    error.status = exc.status_code
    error.code = "http_error"
    return _respond(request, error)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(request, AssayError("internal server error"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AssayError, _assay_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
