"""What every command shares: running a coroutine with a container, and printing errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer
from rich.console import Console

from assay.core.errors import AssayError
from assay.services.container import Container, open_container
from assay.settings import Settings, get_settings

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)


def run_with_container(
    work: Callable[[Container], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Open the database (migrated), run ``work``, close; an AssayError exits 2 with its message."""

    async def main() -> T:
        container = await open_container(settings or get_settings())
        try:
            return await work(container)
        finally:
            await container.aclose()

    with exit_on_error():
        return asyncio.run(main())


def local_settings() -> Settings:
    """Settings for the one-user commands (run, scan, quickstart) on the user's own machine.

    They call the user's own URLs, on loopback or the local network as often as not, so an
    unset ``ASSAY_OUTBOUND_ALLOW`` allows every address here; ``assay serve`` and ``assay
    worker`` act for many tenants and allow only public addresses unless it is set.
    """
    settings = get_settings()
    if settings.outbound_allow is None:
        settings = settings.model_copy(update={"outbound_allow": "*"})
    return settings


@contextmanager
def exit_on_error() -> Iterator[None]:
    """Print an AssayError's message (never a traceback) and exit 2."""
    try:
        yield
    except AssayError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}", highlight=False)
        raise typer.Exit(2) from None
