"""Spec -> items, through the kind. Validation happens here, before anything is stored."""

from __future__ import annotations

from assay.core.spec import EvaluationSpec, ItemPlan, Limits, ModelRef
from assay.kinds._registry import get_kind


def plan_evaluation(
    spec: EvaluationSpec, default_judge: str, default_limits: Limits | None = None
) -> tuple[EvaluationSpec, list[ItemPlan]]:
    """Validate the kind's params, fill defaults and the judge, and plan the items.

    Limits the spec did not set explicitly come from ``default_limits`` (the server's
    settings). Returns the normalised spec (params with their defaults, so a stored spec says
    exactly what ran) and its items. Raises ValidationFailed naming the offending field.
    """
    kind = get_kind(spec.kind)
    params = kind.validate_params(spec.params)
    update: dict[str, object] = {"params": params.model_dump(mode="json")}
    if default_limits is not None:
        explicit = spec.limits.model_dump(include=spec.limits.model_fields_set)
        update["limits"] = default_limits.model_copy(update=explicit)
    if kind.needs_judge and spec.judge is None:
        update["judge"] = ModelRef.parse(default_judge, field="ASSAY_JUDGE_MODEL")
    spec = spec.model_copy(update=update)
    return spec, kind.plan(spec)
