"""What the Celery publisher sends: each queued item once, and again once it is queued anew."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import redis

from assay.engine.backends.celery import Publisher, make_app
from assay.store.db import create_engine
from assay.store.repositories import items as item_repo
from tests.engine.lifecycle import create_lifecycle, item_rows, lifecycle_plugin
from tests.factories import make_settings

__all__ = ["lifecycle_plugin"]  # the fixture, used by name


async def test_an_item_queued_again_after_a_run_is_published_again_and_only_then(
    tmp_path: Path, lifecycle_plugin: Path, redis_url: str
):
    queue = f"assay-test-{uuid.uuid4().hex[:12]}"
    settings = make_settings(tmp_path, broker_url=f"{redis_url}/0", broker_queue=queue)
    evaluation_id = await create_lifecycle(settings, items=3)
    db = create_engine(settings.database_url)
    broker = redis.Redis.from_url(f"{redis_url}/0")
    try:
        publisher = Publisher(make_app(settings), db, queue, window=600, batch=2)
        assert await publisher.publish_queued(requeued_only=False) == 3
        assert await publisher.publish_queued(requeued_only=False) == 0, "sent lately"
        assert await publisher.publish_queued(requeued_only=True) == 0, "none ran yet"
        assert broker.llen(queue) == 2, "three ids in messages of two"

        rows = await item_rows(settings, evaluation_id)
        now = datetime.now(UTC)
        async with db.begin() as conn:  # a worker took it and died: its lease ran out
            assert await item_repo.claim_items_by_id(conn, "gone", [rows[0].id], -1.0, now)
            await item_repo.reap_expired(conn, datetime.now(UTC))
        assert await publisher.publish_queued(requeued_only=True) == 1
        assert await publisher.publish_queued(requeued_only=False) == 0
        assert broker.llen(queue) == 3
    finally:
        broker.delete(queue)
        broker.close()
        await db.dispose()
