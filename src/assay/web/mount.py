"""Puts the UI into the app: the pages, their static files, ``/`` and the HTML error pages."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assay.core.errors import AssayError
from assay.web import manage, reviews
from assay.web.auth import LocalViewer, LoginRequired
from assay.web.compare import router as compare_router
from assay.web.routes import page, router

STATIC = Path(__file__).parent / "static"
PREFIX = "/ui"
#: Pages load only this server's scripts and styles; no inline script runs, no framing.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def is_ui_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def error_page(request: Request, error: AssayError) -> Response:
    """An error of a page as a page; a lost session goes back to the sign-in form."""
    if error.status == 401:
        return _to_login(request)
    titles = {403: "Not allowed", 404: "Not found", 409: "Not possible now", 422: "Invalid input"}
    title = titles.get(error.status, "Something went wrong")
    return page(request, "error.html", None, error.status, title=title, message=error.message)


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{PREFIX}/login?next={quote(target)}", status_code=303)


async def _login_required(request: Request, _exc: Exception) -> Response:
    return _to_login(request)


class _SecurityHeaders:
    """Adds the pages' security headers to every answer under /ui.

    Plain ASGI, and a pass-through for every other path: API requests pay nothing for it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_ui_path(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", _CSP)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def mount_ui(app: FastAPI, *, local: bool = False) -> None:
    """Serve the UI under /ui (``local``: read-only with no sign-in, for ``assay view``)."""
    if local:
        app.state.local_viewer = LocalViewer()
    for pages in (router, compare_router, reviews.router, *manage.ROUTERS):
        app.include_router(pages)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="ui-static")
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_middleware(_SecurityHeaders)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/evaluations", status_code=307)
