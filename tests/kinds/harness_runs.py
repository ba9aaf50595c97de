"""One harness evaluation of a scripted model through services, the store and the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assay.core.evaluation import EvaluationView, ItemDetail
from assay.core.spec import EvaluationSpec, ModelRef, TargetSpec
from assay.services.container import open_container
from assay.services.evaluations import create_evaluation, wait_for_evaluation
from assay.services.items import get_item_detail, item_results
from assay.services.runs import local_principal
from tests.factories import make_settings
from tests.fakes.openai_server import FakeLLM


async def run_harness(
    tmp_path: Path, fake_llm: FakeLLM, model: str, params: dict[str, Any]
) -> tuple[EvaluationView, list[ItemDetail]]:
    """The finished evaluation of ``openai/<model>`` and its items, each with its events."""
    container = await open_container(make_settings(tmp_path, fake_llm=fake_llm))
    await container.start_engine()
    try:
        principal = await local_principal(container)
        spec = EvaluationSpec(
            kind="harness",
            target=TargetSpec(kind="model", model=ModelRef(provider="openai", model=model)),
            params=params,
        )
        view = await create_evaluation(container, principal, spec)
        done = await wait_for_evaluation(container, principal, view.id, timeout=60)
        listed = await item_results(container, principal, view.id, limit=1000)
        items = [await get_item_detail(container, principal, view.id, i.id) for i in listed]
        return done, items
    finally:
        await container.aclose()
