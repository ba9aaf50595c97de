"""What webhooks keep in the store: the outbox of events, and each organization's secret.

:func:`record_terminal_event` is called inside the transaction that makes an evaluation
terminal (the engine completing or failing it, a user cancelling it), so an event exists
exactly when its status change committed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from assay.core.states import EvaluationStatus
from assay.store.repositories import evaluations as evaluation_rows
from assay.store.repositories import webhooks as webhook_rows
from assay.store.secrets import SecretBox
from assay.webhooks.signing import new_secret

#: Terminal status -> event name.
EVENTS: dict[EvaluationStatus, str] = {
    EvaluationStatus.COMPLETED: "evaluation.completed",
    EvaluationStatus.FAILED: "evaluation.failed",
    EvaluationStatus.CANCELLED: "evaluation.cancelled",
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def evaluation_payload(row: Row[Any]) -> dict[str, Any]:
    """The evaluation as a webhook shows it: identity, status, times, and the summary's scores.

    Only the summary's scalar fields (scores, rates) and its ``counts`` are included, so a
    payload stays small whatever the kind; the full results are one GET away.
    """
    payload: dict[str, Any] = {
        "id": row.id,
        "kind": row.kind,
        "name": row.name,
        "status": row.status,
        "agent_id": row.agent_id,
        "created_at": _iso(row.created_at),
        "started_at": _iso(row.started_at),
        "completed_at": _iso(row.completed_at),
    }
    if row.status == EvaluationStatus.FAILED.value:
        payload["error"] = {"code": row.error_code, "message": row.error}
    summary = row.summary or {}
    for key, value in summary.items():
        if value is None or isinstance(value, bool | int | float | str):
            payload.setdefault(key, value)
    if isinstance(summary.get("counts"), dict):
        payload["counts"] = summary["counts"]
    return payload


async def record_terminal_event(conn: AsyncConnection, evaluation_id: str, now: datetime) -> bool:
    """Queue the event for the evaluation's terminal status, if it has a webhook URL.

    Returns True when a delivery was queued.
    """
    row = await evaluation_rows.get_evaluation(conn, evaluation_id)
    if row is None or not row.webhook_url:
        return False
    event = EVENTS.get(EvaluationStatus(row.status))
    if event is None:
        return False
    await webhook_rows.insert_delivery(
        conn,
        {
            "id": f"whd-{uuid.uuid4()}",
            "evaluation_id": row.id,
            "org_id": row.org_id,
            "event": event,
            "url": row.webhook_url,
            "payload": {"event": event, "evaluation": evaluation_payload(row)},
            "status": webhook_rows.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        },
    )
    return True


async def ensure_org_secret(conn: AsyncConnection, box: SecretBox, org_id: str) -> str:
    """The organization's signing secret, created (and stored encrypted) on first need."""
    sealed = await webhook_rows.get_secret_enc(conn, org_id)
    if sealed is None:
        await webhook_rows.set_secret_if_missing(
            conn, org_id, box.seal({"secret": new_secret()}) or ""
        )
        sealed = await webhook_rows.get_secret_enc(conn, org_id)
    return str(box.open(sealed)["secret"])
