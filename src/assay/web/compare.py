"""The compare page, ``/ui/compare?a=BASELINE&b=CANDIDATE``: two evaluations side by side.

It shows what ``assay compare`` and ``GET /v1/evaluations/{a}/compare/{b}`` answer, from the
same service. With only ``a`` it offers the viewer's other evaluations of the same kind to
compare with; ``a`` is what the evaluation page's "Compare with..." link gives.
"""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from assay.api.deps import ContainerDep
from assay.core.comparison import GroupComparison
from assay.core.text import ID_MAX
from assay.services import evaluations as evaluation_service
from assay.services.compare import compare_evaluations
from assay.web.auth import ViewerDep
from assay.web.routes import page

router = APIRouter(prefix="/ui", include_in_schema=False)
#: Evaluations offered to compare with.
CHOICES = 50
_ROW = 30
_LABEL = 170
_PLOT = 360
_VALUE = 190
#: Fill of a point by verdict: green better, red worse, grey no significant difference.
_FILL = {"better": "#1a7f37", "worse": "#c62828"}


def difference_chart(title: str, groups: list[GroupComparison]) -> Markup:
    """Each group's pass-rate difference as a point with its 95% interval, around zero.

    The axis runs from -100 to +100 percentage points, so groups read on one scale.
    """
    rows = [g for g in groups if g.pass_fail is not None]
    height = len(rows) * _ROW + 30
    width = _LABEL + _PLOT + _VALUE
    zero = _LABEL + _PLOT / 2

    def x(value: float) -> float:
        return _LABEL + (max(-1.0, min(1.0, value)) + 1) / 2 * _PLOT

    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{escape(title)}</title>",
        f'<path class="whisker" d="M{zero} 4 V{height - 22}" stroke-dasharray="3 3"/>',
    ]
    for index, group in enumerate(rows):
        test = group.pass_fail
        assert test is not None
        centre = 6 + index * _ROW + _ROW / 2
        label = group.group or "overall"
        shown = f"{100 * test.difference:+.1f} pp [{100 * test.ci95[0]:+.1f}, {100 * test.ci95[1]:+.1f}]"
        fill = _FILL.get(group.verdict.value, "#6b6b6b")
        parts.append(
            f"<g><title>{escape(label)}: {escape(shown)}, {escape(group.verdict.value)}, "
            f"n={test.n}</title>"
            f'<text class="label" x="{_LABEL - 8}" y="{centre + 4}" text-anchor="end">'
            f"{escape(label[:24])}</text>"
            f'<path class="whisker" d="M{x(test.ci95[0]):.1f} {centre} H{x(test.ci95[1]):.1f}"/>'
            f'<circle cx="{x(test.difference):.1f}" cy="{centre}" r="6" fill="{fill}"/>'
            f'<text class="value" x="{_LABEL + _PLOT + 8}" y="{centre + 4}">{escape(shown)}</text>'
            "</g>"
        )
    axis = height - 6
    parts.append(
        f'<text class="axis" x="{_LABEL}" y="{axis}">-100 pp</text>'
        f'<text class="axis" x="{zero}" y="{axis}" text-anchor="middle">0</text>'
        f'<text class="axis" x="{_LABEL + _PLOT}" y="{axis}" text-anchor="end">+100 pp</text></svg>'
    )
    return Markup("".join(parts))


@router.get("/compare")
async def compare_page(
    request: Request,
    container: ContainerDep,
    viewer: ViewerDep,
    a: Annotated[str, Query(min_length=1, max_length=ID_MAX)],
    b: Annotated[str | None, Query(max_length=ID_MAX)] = None,
) -> HTMLResponse:
    """The comparison of ``b`` against ``a``, or a choice of ``b`` when it is missing."""
    baseline = await evaluation_service.get_evaluation(container, viewer.principal, a)
    if not b:
        found = await evaluation_service.list_evaluations(
            container, viewer.principal, limit=CHOICES, offset=0, kinds=[baseline.kind]
        )
        choices = [view for view in found.items if view.id != baseline.id]
        return page(request, "compare_choose.html", viewer, baseline=baseline, choices=choices)
    comparison = await compare_evaluations(container, viewer.principal, a, b)
    groups = [comparison.overall, *comparison.groups]
    title = "Pass-rate difference (candidate - baseline) with 95% intervals"
    chart = difference_chart(title, groups) if comparison.overall.pass_fail else None
    return page(
        request,
        "compare.html",
        viewer,
        comparison=comparison,
        groups=groups,
        chart=chart,
        chart_title=title,
    )
