"""The HTML reports of a trust scan and of a run file: each one self-contained file (inline CSS, no scripts, no links).

Everything shown comes from the scan's results (``scan.scan_results``). Probe prompts and
agent responses are untrusted text, so the template environment escapes every value
(``autoescape=True``) and the template never marks anything safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from assay import __version__
from assay.reports.cases import ReportCase

_environment = Environment(
    loader=PackageLoader("assay.cli", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _grade(value: float | None) -> str:
    """A CSS class for a score: good from 0.9, fair from 0.7, else poor."""
    if value is None:
        return "none"
    return "good" if value >= 0.9 else "fair" if value >= 0.7 else "poor"


_environment.filters["score"] = _score
_environment.filters["grade"] = _grade


def render_report(data: dict[str, Any], generated_at: datetime | None = None) -> str:
    """The report as one HTML document."""
    template = _environment.get_template("scan_report.html.j2")
    return template.render(
        data=data,
        generated_at=(generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
    )


def render_run_report(
    title: str, cases: Sequence[ReportCase], generated_at: datetime | None = None
) -> str:
    """A run file's results as one HTML document, in the scan report's style."""
    template = _environment.get_template("run_report.html.j2")
    return template.render(
        title=title,
        cases=cases,
        generated_at=(generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
    )
