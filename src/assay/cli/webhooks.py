"""`assay webhooks secret`: print an organization's webhook signing secret."""

from __future__ import annotations

from typing import Annotated

import typer

from assay.cli.common import run_with_container
from assay.services.webhooks import org_webhook_secret

app = typer.Typer(help="Webhook deliveries.", no_args_is_help=True)


@app.command("secret")
def secret(
    org: Annotated[str, typer.Option(help="Organization slug.")],
) -> None:
    """Print the secret that signs the organization's webhooks (created on first use).

    Receivers verify ``X-Assay-Signature: sha256=<hex>``, the HMAC-SHA256 of the raw body
    under this secret. Only the secret is printed, so scripts can capture it.
    """
    typer.echo(run_with_container(lambda c: org_webhook_secret(c, org)))
