"""Helpers for engine tests: install the lifecycle kind as a plugin, create its evaluations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from assay.core.spec import EvaluationSpec, Limits, ModelRef, TargetSpec
from assay.services import evaluations as evaluation_service
from assay.services.container import open_container
from assay.services.runs import local_principal
from assay.settings import Settings
from assay.store.db import create_engine
from assay.store.tables import Evaluation, Item


def install_lifecycle_plugin(root: Path) -> Path:
    """A real (unpacked) distribution whose ``assay.kinds`` entry point is the lifecycle kind."""
    info = root / "assay_lifecycle_test-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: assay-lifecycle-test\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[assay.kinds]\ntest/lifecycle = tests.engine.lifecycle_kind:LifecycleKind\n"
    )
    return root


@pytest.fixture
def lifecycle_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The plugin installed for this process (sys.path) and for child processes (PYTHONPATH)."""
    root = install_lifecycle_plugin(tmp_path / "plugin")
    monkeypatch.syspath_prepend(str(root))
    return root


async def create_lifecycle(
    settings: Settings, webhook_url: str | None = None, item_timeout_s: float = 30.0, **params: Any
) -> str:
    """Create a lifecycle evaluation through the services, as the default organization's admin."""
    container = await open_container(settings)
    try:
        spec = EvaluationSpec(
            kind="test/lifecycle",
            target=TargetSpec(kind="model", model=ModelRef.parse("mock/echo")),
            params=params,
            limits=Limits(item_timeout_s=item_timeout_s),
        )
        principal = await local_principal(container)
        view = await evaluation_service.create_evaluation(
            container, principal, spec, webhook_url=webhook_url
        )
        return view.id
    finally:
        await container.aclose()


async def item_rows(settings: Settings, evaluation_id: str) -> list[Any]:
    db = create_engine(settings.database_url)
    try:
        async with db.connect() as conn:
            rows = await conn.execute(
                select(Item).where(Item.evaluation_id == evaluation_id).order_by(Item.seq)
            )
            return list(rows.all())
    finally:
        await db.dispose()


async def evaluation_row(settings: Settings, evaluation_id: str) -> Any:
    db = create_engine(settings.database_url)
    try:
        async with db.connect() as conn:
            query = select(Evaluation).where(Evaluation.id == evaluation_id)
            return (await conn.execute(query)).first()
    finally:
        await db.dispose()
