"""What every command shares: running a coroutine with a container, and printing errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
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

    try:
        return asyncio.run(main())
    except AssayError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None
