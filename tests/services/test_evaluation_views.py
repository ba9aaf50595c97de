"""The views the evaluation service builds: as created, as read back, and without a data set."""

from __future__ import annotations

from pathlib import Path

from assay.core.spec import EvaluationSpec, ModelRef, TargetSpec
from assay.services.container import open_container
from assay.services.evaluations import create_evaluation, get_evaluation, wait_for_evaluation
from assay.services.runs import local_principal
from tests.factories import make_settings

TARGET = TargetSpec(kind="model", model=ModelRef(provider="mock", model="calculator"))
CASES = [{"input": "2 + 2", "expected_output": "4"}, {"input": "3 * 3", "expected_output": "9"}]


async def test_the_created_view_is_the_evaluation_as_read_back_and_can_leave_its_cases_out(
    tmp_path: Path,
):
    container = await open_container(make_settings(tmp_path))
    try:
        await container.start_engine()
        principal = await local_principal(container)
        spec = EvaluationSpec(kind="match", target=TARGET, params={"cases": CASES})
        created = await create_evaluation(container, principal, spec)
        read_back = await get_evaluation(container, principal, created.id)
        await wait_for_evaluation(container, principal, created.id, timeout=60)
        full = await get_evaluation(container, principal, created.id, with_counts=True)
        lean = await get_evaluation(
            container, principal, created.id, with_counts=True, without_item_fields=True
        )
    finally:
        await container.aclose()

    assert created.spec == read_back.spec
    assert created.spec.params["cases"] == CASES
    assert full.spec.params["cases"] == CASES
    assert "cases" not in lean.spec.params
    assert lean.spec.params == {k: v for k, v in full.spec.params.items() if k != "cases"}
    assert (lean.item_counts, lean.summary, lean.status) == (
        full.item_counts,
        full.summary,
        full.status,
    )
    assert lean.item_counts == {"passed": 2}
