"""The `assay` command."""

from __future__ import annotations

import typer

from assay.cli import (
    bench,
    init,
    keys,
    quickstart,
    run,
    scan,
    secrets,
    serve,
    tasks,
    users,
    webhooks,
    worker,
)

app = typer.Typer(
    help="Assay: self-hosted evaluation of AI agents and models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
app.command("init")(init.init)
app.command("run")(run.run)
app.command("scan")(scan.scan)
app.command("quickstart")(quickstart.quickstart)
app.add_typer(keys.app, name="keys")
app.add_typer(users.app, name="users")
app.add_typer(webhooks.app, name="webhooks")
app.add_typer(secrets.app, name="secrets")
app.add_typer(bench.app, name="bench")
app.add_typer(tasks.app, name="tasks")
