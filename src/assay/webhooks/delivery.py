"""The delivery loop: POST due outbox rows, signed, and retry failures with backoff.

It runs beside the engine (``Container.start_engine``) and wakes when the engine or a
cancellation queues an event, else polls. Each attempt is recorded on the row: a 2xx answer
marks it ``delivered``; anything else (another status, a timeout, a refused connection)
schedules the next attempt after ``webhook_backoff_seconds * 2 ** (attempt - 1)``, until
``webhook_max_attempts`` attempts were made and it is ``failed``. A receiver whose address the
outbound policy refuses (``http_guard``) fails at once. A receiver may see an event
twice (the process died between its answer and the write), so ``X-Assay-Delivery`` is the
idempotency key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from assay import __version__
from assay.core.errors import OutboundRefused
from assay.http_guard import httpx_transport
from assay.settings import Settings
from assay.store.repositories import webhooks as webhook_rows
from assay.store.secrets import SecretBox
from assay.webhooks.outbox import ensure_org_secret
from assay.webhooks.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, sign

log = logging.getLogger(__name__)

#: Deliveries claimed (and sent concurrently) per round.
BATCH = 20


def _now() -> datetime:
    return datetime.now(UTC)


def delivery_body(payload: dict[str, Any], sent_at: datetime) -> bytes:
    """The exact bytes that are sent and signed."""
    return json.dumps(
        {**payload, "sent_at": sent_at.isoformat()}, separators=(",", ":"), sort_keys=False
    ).encode()


class WebhookDispatcher:
    def __init__(self, settings: Settings, db: AsyncEngine, secrets: SecretBox) -> None:
        self._settings = settings
        self._db = db
        self._secrets = secrets
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(
            timeout=self._settings.webhook_timeout,
            follow_redirects=False,
            headers={"User-Agent": f"assay-webhooks/{__version__}"},
            transport=httpx_transport(self._settings.outbound_policy),
        )
        self._task = asyncio.create_task(self._run(), name="assay-webhooks")

    def notify(self) -> None:
        """An event was queued: deliver now instead of at the next poll."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop sending; rows not yet delivered stay pending for the next start."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        while True:
            try:
                sent = await self.deliver_due()
            except Exception:  # a database hiccup must not stop deliveries for good
                log.exception("webhook delivery round failed; retrying")
                sent = 0
            if sent:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.poll_interval)

    async def deliver_due(self) -> int:
        """Send every due delivery once (up to a batch); returns how many were attempted."""
        lease = self._settings.webhook_timeout + 5.0
        async with self._db.begin() as conn:
            rows = await webhook_rows.claim_due(conn, _now(), BATCH, lease)
        if not rows:
            return 0
        async with asyncio.TaskGroup() as group:
            for row in rows:
                group.create_task(self._deliver(row))
        return len(rows)

    async def _deliver(self, row: Row[Any]) -> None:
        assert self._client is not None
        async with self._db.begin() as conn:
            secret = await ensure_org_secret(conn, self._secrets, row.org_id)
        body = delivery_body(row.payload, _now())
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(body, secret),
            EVENT_HEADER: row.event,
            DELIVERY_HEADER: row.id,
        }
        status_code: int | None = None
        error: str | None = None
        final = False
        try:
            response = await self._client.post(row.url, content=body, headers=headers)
            status_code = response.status_code
            if not response.is_success:
                error = f"the receiver answered HTTP {status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except OutboundRefused as exc:
            # The address will not become allowed by waiting: fail now, without retries.
            error, final = exc.message, True
        await self._record(row, status_code, error, final)

    async def _record(
        self, row: Row[Any], status_code: int | None, error: str | None, final: bool = False
    ) -> None:
        attempts = row.attempts + 1
        now = _now()
        if error is None:
            status, next_at, delivered_at = webhook_rows.DELIVERED, None, now
        elif final or attempts >= self._settings.webhook_max_attempts:
            status, next_at, delivered_at = webhook_rows.FAILED, None, None
            log.warning(
                "webhook %s of evaluation %s failed after %d attempts: %s",
                row.id,
                row.evaluation_id,
                attempts,
                error,
            )
        else:
            delay = self._settings.webhook_backoff_seconds * 2 ** (attempts - 1)
            status, next_at, delivered_at = (
                webhook_rows.PENDING,
                now + timedelta(seconds=delay),
                None,
            )
        async with self._db.begin() as conn:
            await webhook_rows.record_attempt(
                conn,
                row.id,
                status=status,
                attempts=attempts,
                next_attempt_at=next_at,
                status_code=status_code,
                error=error,
                delivered_at=delivered_at,
            )
