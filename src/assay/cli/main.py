"""The `assay` command."""

from __future__ import annotations

import typer

from assay.cli import (
    bench,
    init,
    keys,
    quickstart,
    review,
    run,
    scan,
    secrets,
    serve,
    tasks,
    users,
    view,
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
app.command("view")(view.view)
app.add_typer(keys.app, name="keys")
app.add_typer(users.app, name="users")
app.add_typer(review.app, name="review")
app.add_typer(webhooks.app, name="webhooks")
app.add_typer(secrets.app, name="secrets")
app.add_typer(bench.app, name="bench")
app.add_typer(tasks.app, name="tasks")
