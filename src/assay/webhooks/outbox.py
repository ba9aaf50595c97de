"""Each organization's webhook signing secret, kept encrypted in the store.

The events themselves are queued by the store's transition function
(``store/transitions.py``), in the transaction that makes an evaluation terminal.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from assay.store.repositories import webhooks as webhook_rows
from assay.store.secrets import SecretBox
from assay.webhooks.signing import new_secret


async def ensure_org_secret(conn: AsyncConnection, box: SecretBox, org_id: str) -> str:
    """The organization's signing secret, created (and stored encrypted) on first need."""
    sealed = await webhook_rows.get_secret_enc(conn, org_id)
    if sealed is None:
        await webhook_rows.set_secret_if_missing(
            conn, org_id, box.seal({"secret": new_secret()}) or ""
        )
        sealed = await webhook_rows.get_secret_enc(conn, org_id)
    return str(box.open(sealed)["secret"])
