"""Writers of the result files: JUnit XML, JSON, CSV and HTML, from one set of report cases.

JUnit follows the schema every CI reader accepts (Jenkins, GitLab, GitHub test reporters,
``junitparser``): ``<testsuites>`` of ``<testsuite name tests failures errors time>``, each
``<testcase classname name time>`` with at most one ``<failure message type>`` or ``<error>``
whose text holds the details. XML cannot carry some control characters, which agents' answers
may contain, so they are replaced before writing.
"""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from assay.core.errors import ValidationFailed
from assay.reports.cases import ReportCase

#: Characters XML 1.0 forbids (every C0 control but tab, newline and carriage return).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

CSV_COLUMNS = ("suite", "name", "status", "message", "needs", "seconds")


@dataclass(frozen=True)
class OutputFiles:
    """Where the user asked for each result file; ``None`` writes none of that format."""

    junit: Path | None = None
    json: Path | None = None
    csv: Path | None = None
    html: Path | None = None

    def check(self) -> None:
        """Fail before the run, not after it, when a file's folder does not exist.

        Raises:
            ValidationFailed: naming the option whose folder is missing.
        """
        for option, path in self.requested():
            if not path.parent.is_dir():
                raise ValidationFailed.for_field((option,), f"no directory {path.parent}")

    def requested(self) -> list[tuple[str, Path]]:
        given = {"--junit": self.junit, "--json": self.json, "--csv": self.csv, "--html": self.html}
        return [(option, path) for option, path in given.items() if path is not None]


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def junit_xml(title: str, cases: Sequence[ReportCase]) -> str:
    """The cases as a JUnit XML document, one ``testsuite`` per suite in first-seen order."""
    root = ET.Element("testsuites", name=_xml_text(title))
    order = {suite: n for n, suite in enumerate(dict.fromkeys(c.suite for c in cases))}
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for suite, members in groupby(sorted(cases, key=lambda c: order[c.suite]), lambda c: c.suite):
        listed = list(members)
        counts = {
            "tests": len(listed),
            "failures": sum(c.status == "failed" for c in listed),
            "errors": sum(c.status == "error" for c in listed),
        }
        attributes = {k: str(v) for k, v in counts.items()}
        attributes |= {
            "name": _xml_text(suite),
            "time": f"{sum(c.seconds or 0 for c in listed):.3f}",
        }
        element = ET.SubElement(root, "testsuite", attributes)
        for key, value in counts.items():
            totals[key] += value
        for case in listed:
            _testcase(element, case)
    root.attrib.update({k: str(v) for k, v in totals.items()})
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _testcase(parent: ET.Element, case: ReportCase) -> None:
    element = ET.SubElement(
        parent,
        "testcase",
        classname=_xml_text(case.suite),
        name=_xml_text(case.name),
        time=f"{case.seconds or 0.0:.3f}",
    )
    if case.status == "passed":
        return
    message = case.message + (f" (needs {case.needs})" if case.needs != "-" else "")
    tag, kind = (
        ("failure", "AssayCheckFailed")
        if case.status == "failed"
        else ("error", "AssayNotVerified")
    )
    outcome = ET.SubElement(element, tag, message=_xml_text(message), type=kind)
    outcome.text = _xml_text("\n\n".join(part for part in (message, case.detail) if part))


def write_csv(path: Path, cases: Sequence[ReportCase]) -> None:
    """One row per case under a header row (``CSV_COLUMNS``)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for case in cases:
            seconds = "" if case.seconds is None else f"{case.seconds:.3f}"
            writer.writerow([case.suite, case.name, case.status, case.message, case.needs, seconds])


def write_outputs(
    files: OutputFiles,
    *,
    title: str,
    cases: Sequence[ReportCase],
    data: Any,
    html: str | None,
) -> list[Path]:
    """Write every requested file: ``data`` is the JSON document, ``html`` the rendered report."""
    if files.junit is not None:
        files.junit.write_text(junit_xml(title, cases), encoding="utf-8")
    if files.json is not None:
        files.json.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    if files.csv is not None:
        write_csv(files.csv, cases)
    if files.html is not None and html is not None:
        files.html.write_text(html, encoding="utf-8")
    return [path for _, path in files.requested()]
