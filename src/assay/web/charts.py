"""Server-rendered SVG charts: no script, so they print, work offline and read in any browser.

Every chart carries ``role="img"`` with a text label, and each bar a ``<title>`` naming its
value, interval and n, so the numbers are there for screen readers and on hover.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from assay.web.results import Bin, Estimate

_BAR_HEIGHT = 22
_GAP = 8
_LABEL_WIDTH = 170
_PLOT_WIDTH = 360
_VALUE_WIDTH = 130


def figure(estimate: Estimate) -> str:
    """``0.67 [0.21, 0.94] n=3``, or a percentage for a rate."""

    def show(value: float) -> str:
        return f"{100 * value:.1f}%" if estimate.is_rate else f"{value:.3g}"

    interval = (
        f" [{show(estimate.lower)}, {show(estimate.upper)}]"
        if estimate.lower is not None and estimate.upper is not None
        else ""
    )
    return f"{show(estimate.value)}{interval} n={estimate.n}"


def interval_bars(title: str, estimates: Sequence[Estimate]) -> Markup:
    """Horizontal bars, one per estimate, with the 95% interval drawn as a whisker."""
    height = len(estimates) * (_BAR_HEIGHT + _GAP) + _GAP + 18
    width = _LABEL_WIDTH + _PLOT_WIDTH + _VALUE_WIDTH
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{escape(title)}</title>",
    ]
    for index, estimate in enumerate(estimates):
        y = _GAP + index * (_BAR_HEIGHT + _GAP)
        scale = _PLOT_WIDTH / estimate.top if estimate.top else 0.0
        bar = max(0.0, min(estimate.value, estimate.top)) * scale
        centre = y + _BAR_HEIGHT / 2
        parts.append(
            f"<g><title>{escape(estimate.label)}: {escape(figure(estimate))}</title>"
            f'<text class="label" x="{_LABEL_WIDTH - 8}" y="{centre + 4}" text-anchor="end">'
            f"{escape(_clip(estimate.label))}</text>"
            f'<rect class="track" x="{_LABEL_WIDTH}" y="{y}" width="{_PLOT_WIDTH}" '
            f'height="{_BAR_HEIGHT}"/>'
            f'<rect class="bar" x="{_LABEL_WIDTH}" y="{y}" width="{bar:.1f}" '
            f'height="{_BAR_HEIGHT}"/>'
        )
        if estimate.lower is not None and estimate.upper is not None:
            low = _LABEL_WIDTH + max(0.0, estimate.lower) * scale
            high = _LABEL_WIDTH + min(estimate.upper, estimate.top) * scale
            parts.append(
                f'<path class="whisker" d="M{low:.1f} {centre} H{high:.1f} '
                f"M{low:.1f} {y + 5} V{y + _BAR_HEIGHT - 5} "
                f'M{high:.1f} {y + 5} V{y + _BAR_HEIGHT - 5}"/>'
            )
        parts.append(
            f'<text class="value" x="{_LABEL_WIDTH + _PLOT_WIDTH + 8}" y="{centre + 4}">'
            f"{escape(figure(estimate).split(' [')[0])} (n={estimate.n})</text></g>"
        )
    axis_y = height - 6
    top = estimates[0].top if estimates else 1.0
    right = "100%" if estimates and estimates[0].is_rate else f"{top:g}"
    parts.append(
        f'<text class="axis" x="{_LABEL_WIDTH}" y="{axis_y}">0</text>'
        f'<text class="axis" x="{_LABEL_WIDTH + _PLOT_WIDTH}" y="{axis_y}" '
        f'text-anchor="end">{escape(right)}</text></svg>'
    )
    return Markup("".join(parts))


def histogram(title: str, bins: Sequence[Bin], unit: str = "") -> Markup:
    """Vertical bars of counts per bin, labelled with the range's ends."""
    width, height, base = 520, 190, 160
    top = max((b.count for b in bins), default=0) or 1
    slot = (width - 40) / max(len(bins), 1)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{escape(title)}</title>",
    ]
    for index, item in enumerate(bins):
        bar = (base - 22) * item.count / top
        x = 20 + index * slot
        parts.append(
            f"<g><title>{item.lower:.3g}–{item.upper:.3g}{escape(unit)}: {item.count}</title>"
            f'<rect class="bar" x="{x + 1:.1f}" y="{base - bar:.1f}" '
            f'width="{max(slot - 2, 1):.1f}" height="{bar:.1f}"/></g>'
        )
    if bins:
        parts.append(
            f'<text class="axis" x="20" y="{base + 18}">{bins[0].lower:.3g}{escape(unit)}</text>'
            f'<text class="axis" x="{width - 20}" y="{base + 18}" text-anchor="end">'
            f"{bins[-1].upper:.3g}{escape(unit)}</text>"
            f'<text class="axis" x="{width - 20}" y="12" text-anchor="end">'
            f"tallest bar: {top}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _clip(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
