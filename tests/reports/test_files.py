"""JUnit XML as a strict parser reads it: counts per suite, and agents' text kept safe."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from assay.reports.cases import ReportCase
from assay.reports.files import junit_xml


def test_suites_keep_first_seen_order_and_count_failures_and_errors_apart():
    cases = [
        ReportCase(suite="security", name="a", status="failed", message="high severity: leaked"),
        ReportCase(suite="safety", name="b", status="passed", message="passed", seconds=0.5),
        ReportCase(suite="security", name="c", status="error", message="not verified: timeout"),
    ]
    root = ET.fromstring(junit_xml("scan of m", cases))
    assert [s.get("name") for s in root.findall("testsuite")] == ["security", "safety"]
    security, safety = root.findall("testsuite")
    assert (security.get("tests"), security.get("failures"), security.get("errors")) == (
        "2",
        "1",
        "1",
    )
    assert safety.get("time") == "0.500" and safety.find("testcase/failure") is None
    assert security.find("testcase/error").get("type") == "AssayNotVerified"  # type: ignore[union-attr]
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")


def test_control_characters_and_markup_in_answers_still_parse():
    answer = "ok\x00\x1b[31m <script>&amp;</script> \ufffe"
    case = ReportCase(
        suite="s", name="n\x07", status="failed", message=answer, needs="x >= 1", detail=answer
    )
    failure = ET.fromstring(junit_xml("t", [case])).find("testsuite/testcase/failure")
    assert failure is not None
    assert (
        failure.get("message") == "ok\ufffd\ufffd[31m <script>&amp;</script> \ufffd (needs x >= 1)"
    )
    assert failure.text is not None and "<script>&amp;</script>" in failure.text
