"""Result files of `assay run` and `assay scan` as CI reads them: real processes, real parsers."""

from __future__ import annotations

import csv
import json
import socket
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from assay.probes.catalog import probes_for_harness
from tests.cli.test_scan import AGENT, assay
from tests.fakes.openai_server import FakeLLM, FakeReply

pytestmark = pytest.mark.timeout(120)

CALCULATOR = """\
name: calculator ci
target:
  kind: python
  config: {callable: "assay.examples.calculator:agent"}
checks:
"""


def write_run(tmp_path: Path, checks: str, target: str | None = None) -> Path:
    path = tmp_path / "assay-checks.yaml"
    path.write_text((target or CALCULATOR) + checks)
    return path


def run(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return assay(tmp_path, "run", *args, env=env)


def test_run_writes_every_file_at_once_and_still_prints_the_table(tmp_path: Path):
    checks = """\
  - kind: match
    name: sums
    params:
      cases: [{input: "What is 2+2?", expected_output: "4"}, {input: "Add 3 and 4", expected_output: "7"}]
      mode: includes
  - kind: match
    name: halves
    params:
      cases: [{input: "What is 7 divided by 2?", expected_output: "3.5"}]
      mode: includes
"""
    path = write_run(tmp_path, checks)
    out = {name: tmp_path / f"out.{name}" for name in ("xml", "csv", "json", "html")}
    result = run(
        tmp_path,
        str(path),
        "--junit",
        str(out["xml"]),
        "--csv",
        str(out["csv"]),
        "--json-file",
        str(out["json"]),
        "--html",
        str(out["html"]),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 of 2 checks failed" in result.stdout and "halves" not in result.stderr
    for file in out.values():
        assert f"wrote {file}" in result.stdout

    root = ET.parse(out["xml"]).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "1", "0")
    [suite] = root.findall("testsuite")
    assert suite.get("name") == "calculator ci"
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert set(cases) == {"1 match: sums", "2 match: halves"}
    assert cases["1 match: sums"].find("failure") is None
    failure = cases["2 match: halves"].find("failure")
    assert failure is not None
    assert failure.get("message") == "0% passed (CI 0-79%) n=1 (needs pass rate >= 100%)"
    assert failure.text is not None and "evaluation" in failure.text

    rows = list(csv.DictReader(out["csv"].read_text().splitlines()))
    assert [(r["name"], r["status"], r["needs"]) for r in rows] == [
        ("1 match: sums", "passed", "pass rate >= 100%"),
        ("2 match: halves", "failed", "pass rate >= 100%"),
    ]
    assert rows[0]["message"].startswith("100% passed")

    data = json.loads(out["json"].read_text())
    assert [d["passed"] for d in data] == [True, False]
    assert data[1]["summary"]["failures"][0]["output"] == "7 divided by 2 is 4."

    html = out["html"].read_text()
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html
    assert "FAIL: 1 of 2 checks failed" in html and "2 match: halves" in html
    assert "(needs pass rate &gt;= 100%)" in html


def test_a_check_that_scored_nothing_is_a_junit_error_with_the_reason(tmp_path: Path):
    with socket.socket() as sock:  # a port nothing listens on once this closes
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    target = f"""\
target:
  model: openai/local-model
  base_url: http://127.0.0.1:{port}/v1
checks:
"""
    path = write_run(
        tmp_path,
        """\
  - kind: match
    params: {cases: [{input: "hi", expected_output: "hello"}]}
""",
        target,
    )
    junit = tmp_path / "report.xml"
    result = run(
        tmp_path,
        str(path),
        "--junit",
        str(junit),
        env={"OPENAI_API_KEY": "sk-test", "ASSAY_MAX_RETRIES": "0"},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "1")
    error = root.find("testsuite/testcase/error")
    assert error is not None
    assert error.get("type") == "AssayNotVerified"
    assert "nothing scored" in (error.get("message") or "")
    assert "infra error" in (error.get("message") or "")


def test_a_missing_output_folder_is_bad_input_before_anything_runs(tmp_path: Path):
    path = write_run(
        tmp_path, "  - kind: match\n    params: {cases: [{input: a, expected_output: b}]}\n"
    )
    result = run(tmp_path, str(path), "--junit", str(tmp_path / "nowhere" / "r.xml"))
    assert result.returncode == 2
    assert "--junit" in result.stderr and "no directory" in result.stderr
    assert "calculator ci" not in result.stdout  # nothing ran


def test_scan_junit_has_one_case_per_probe_with_its_reason(tmp_path: Path):
    junit, table, data_file = tmp_path / "scan.xml", tmp_path / "scan.csv", tmp_path / "scan.json"
    result = assay(
        tmp_path,
        "scan",
        AGENT,
        "-H",
        "security",
        "--junit",
        str(junit),
        "--csv",
        str(table),
        "--json-file",
        str(data_file),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Trust scan of" in result.stdout  # the table still prints
    data = json.loads(data_file.read_text())
    probes = probes_for_harness("security")
    root = ET.parse(junit).getroot()
    cases = root.findall("testsuite/testcase")
    assert sorted(c.get("name") for c in cases) == sorted(p.id for p in probes)
    assert {c.get("classname") for c in cases} == {"security"}
    failed = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
    assert set(failed) == {f["probe_id"] for f in data["failures"]}
    assert int(root.get("failures") or 0) == len(failed) > 0
    first = data["failures"][0]
    message = failed[first["probe_id"]].get("message")
    assert message == f"{first['severity']} severity: {first['reason']}"
    rows = list(csv.DictReader(table.read_text().splitlines()))
    assert len(rows) == len(probes)
    assert sum(r["status"] == "failed" for r in rows) == len(failed)


def test_flaky_agent_passes_at_pass_at_1_but_fails_pass_k(tmp_path: Path, fake_llm: FakeLLM):
    """Case B is answered right two times in three: pass@1 83%, pass^3 50%."""
    calls: dict[str, int] = {}

    def flaky(body: dict[str, object]) -> FakeReply:
        question = str(body["messages"][-1]["content"])  # type: ignore[index]
        calls[question] = calls.get(question, 0) + 1
        wrong = question == "B" and calls[question] == 2
        return FakeReply(content="nope" if wrong else f"answer {question}")

    fake_llm.handler = flaky
    target = f"""\
target:
  model: openai/flaky
  base_url: {fake_llm.url}
checks:
"""
    checks = """\
  - kind: match
    min_pass_rate: 80
    gate: {gate}
    params:
      cases: [{{input: A, expected_output: answer A}}, {{input: B, expected_output: answer B}}]
      num_iterations: 3
"""
    env = {"OPENAI_API_KEY": "sk-test"}
    by_k = run(
        tmp_path, str(write_run(tmp_path, checks.format(gate="pass^k"), target)), "--json", env=env
    )
    assert by_k.returncode == 1, by_k.stdout + by_k.stderr
    [check] = json.loads(by_k.stdout)
    assert check["result"].startswith("pass^3 50% (1/2 cases), pass@1 83%")
    assert check["needs"] == "pass^3 >= 80%"
    assert check["summary"]["pass_k"] | {"ci95": None} == {
        "k": 3,
        "cases": 2,
        "passed_cases": 1,
        "excluded_cases": 0,
        "rate": 50.0,
        "ci95": None,
    }
    calls.clear()
    by_point = run(
        tmp_path,
        str(write_run(tmp_path, checks.format(gate="point"), target)),
        "--json",
        env=env,
    )
    assert by_point.returncode == 0, by_point.stdout + by_point.stderr
    assert json.loads(by_point.stdout)[0]["result"].startswith("83% passed")


def test_gate_lower_bound_fails_a_small_perfect_sample(tmp_path: Path):
    checks = """\
  - kind: match
    min_pass_rate: 50
    params:
      cases: [{input: "What is 2+2?", expected_output: "4"}, {input: "Add 3 and 4", expected_output: "7"},
              {input: "What is 12 times 7?", expected_output: "84"}]
      mode: includes
"""
    path = write_run(tmp_path, checks)
    point = run(tmp_path, str(path), "--json")
    assert point.returncode == 0, point.stdout + point.stderr
    bound = run(tmp_path, str(path), "--json", "--gate", "lower-bound")
    assert bound.returncode == 1, bound.stdout + bound.stderr
    [check] = json.loads(bound.stdout)
    assert check["needs"] == "95% CI lower bound >= 50%"
    assert check["result"] == "100% passed (CI 44-100%) n=3; lower bound 44%"


def test_run_reads_a_cases_file_and_a_bad_row_exits_2_naming_its_line(tmp_path: Path):
    cases = tmp_path / "cases.csv"
    cases.write_text("input,expected_output\nWhat is 2+2?,4\nWhat is 12 times 7?,84\n")
    path = write_run(
        tmp_path, "  - {kind: match, cases_file: cases.csv, params: {mode: includes}}\n"
    )
    junit = tmp_path / "report.xml"
    passed = run(tmp_path, str(path), "--junit", str(junit))
    assert passed.returncode == 0, passed.stdout + passed.stderr
    [case] = ET.parse(junit).getroot().findall("testsuite/testcase")
    assert case.get("name") == "1 match: 2 cases" and case.find("failure") is None
    cases.write_text("input,expected_output\nWhat is 2+2?,4\nWhat is 3+3?,6,extra\n")
    refused = run(tmp_path, str(path), "--junit", str(junit))
    assert refused.returncode == 2
    assert f"{cases}:3: more cells than the header row has columns" in refused.stderr.replace(
        "\n", ""
    )


def test_scan_fail_under_on_the_lower_bound_fails_what_the_point_score_passes(tmp_path: Path):
    point = assay(tmp_path, "scan", AGENT, "-H", "safety", "--fail-under", "0.2", "--json")
    assert point.returncode == 0, point.stdout + point.stderr
    data = json.loads(point.stdout)
    interval = data["trust_score_ci95"]
    assert interval["lower"] < 0.2 <= data["trust_score"] <= interval["upper"]
    bound = assay(
        tmp_path, "scan", AGENT, "-H", "safety", "--fail-under", "0.2", "--gate", "lower-bound"
    )
    assert bound.returncode == 1, bound.stdout + bound.stderr
    assert f"lower bounds: trust {interval['lower']:.2f}" in bound.stdout
    assert "needs lower bound of trust >= 0.2" in bound.stdout


def test_scan_probes_that_hit_infrastructure_errors_are_junit_errors_with_the_reason(
    tmp_path: Path, fake_llm: FakeLLM
):
    fake_llm.handler = lambda body: FakeReply(status=503)
    junit = tmp_path / "scan.xml"
    result = assay(
        tmp_path,
        "scan",
        "openai/down",
        "--base-url",
        fake_llm.url,
        "-H",
        "supply_chain",
        "--junit",
        str(junit),
        env={"OPENAI_API_KEY": "sk-test", "ASSAY_MAX_RETRIES": "0"},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    root = ET.parse(junit).getroot()
    probes = probes_for_harness("supply_chain")
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == (
        str(len(probes)),
        "0",
        str(len(probes)),
    )
    for error in root.iter("error"):
        assert (error.get("message") or "").startswith("not verified: ")
        assert "503" in (error.get("message") or "")
