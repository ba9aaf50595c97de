"""Open endpoints: liveness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

from assay.api.deps import ContainerDep
from assay.metrics import REGISTRY

router = APIRouter(tags=["health"])

EVALUATIONS_CREATED = Counter(
    "assay_evaluations_created",
    "Evaluations created, by kind and API",
    ["kind", "api"],
    registry=REGISTRY,
)


@router.get("/healthz", operation_id="health-healthz")
async def healthz(container: ContainerDep) -> dict[str, object]:
    return {"status": "ok", "workers": container.runs_items}


@router.get("/metrics", operation_id="health-metrics", include_in_schema=False)
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
