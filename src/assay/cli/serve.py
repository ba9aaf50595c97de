"""`assay serve`: the API (and, unless --no-workers, the in-process engine).

Before uvicorn starts, the command checks what a newcomer most often gets wrong, so each is
one line that says what to do instead of a traceback: a port out of range or already taken
(checked before the app starts, so no "Application startup complete" precedes the failure),
and a database that is unreachable or named with a driver Assay does not use.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from typing import Annotated, NoReturn

import typer

from assay.cli.common import err_console, run_with_container
from assay.settings import Settings, get_settings

MAX_PORT = 65535


def serve(
    host: Annotated[
        str, typer.Option(envvar="ASSAY_HOST", help="Interface to bind.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(envvar="ASSAY_PORT", help="Port to listen on (1-65535).")
    ] = 8000,
    no_workers: Annotated[
        bool, typer.Option("--no-workers", help="Serve the API only; items run elsewhere.")
    ] = False,
    workers: Annotated[int | None, typer.Option(help="Items run at once (ASSAY_WORKERS).")] = None,
) -> None:
    """Serve the API; migrations are applied on start."""
    settings = get_settings()
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})
    if not 1 <= port <= MAX_PORT:
        _fail(f"--port must be between 1 and {MAX_PORT}, got {port}", code=2)
    check_port_free(host, port)
    check_database(settings)
    import uvicorn

    from assay.api.app import create_app

    uvicorn.run(
        create_app(settings, run_workers=not no_workers), host=host, port=port, log_level="info"
    )


def check_port_free(host: str, port: int) -> None:
    """Exit 1 with one line when ``host:port`` cannot be bound (taken, or not this machine's)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        _fail(
            f"cannot listen on {host}: {exc.strerror}; pass --host with an address of this machine"
        )
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                _fail(
                    f"port {port} on {host} is already in use (another `assay serve`?): "
                    "stop it or pass --port"
                )
            _fail(f"cannot listen on {host}:{port}: {exc.strerror}")


def check_database(settings: Settings) -> None:
    """Open (and migrate) the database once; exit 1 with one line when it cannot be reached."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    try:
        run_with_container(lambda _container: asyncio.sleep(0), settings)
    except (OSError, SQLAlchemyError) as exc:
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split()) or type(exc).__name__
        _fail(f"cannot open the database {where}: {reason} (is it running? see ASSAY_DATABASE_URL)")


def _fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)
