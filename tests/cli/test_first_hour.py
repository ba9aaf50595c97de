"""A newcomer's first hour with `assay run` and `assay scan`: every failure says why.

Each test is one friction a new user met: an infrastructure error without its reason, a typo
in params silently ignored, a bad provider or a missing key exiting like a failed check, and a
scan without a gate printing a green PASS.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_commands import assay
from tests.factories import free_port

pytestmark = pytest.mark.timeout(120)

UNREACHABLE_RUN = """
target: {{model: openai/m, base_url: "http://127.0.0.1:{port}/v1"}}
judge: mock/judge
checks:
  - kind: accuracy
    params: {{input: "What is 12 times 7?", expected_output: "84", num_iterations: 2}}
"""


def _unreachable(tmp_path: Path) -> str:
    """A run file whose model target listens nowhere (a free port nobody binds)."""
    port = free_port()
    (tmp_path / "checks.yaml").write_text(UNREACHABLE_RUN.format(port=port))
    return f"http://127.0.0.1:{port}/v1"


def test_infra_errors_show_their_reason_in_the_table_and_the_json(tmp_path: Path):
    url = _unreachable(tmp_path)
    env = {"OPENAI_API_KEY": "sk-test", "ASSAY_RETRY_BASE_DELAY": "0.01"}
    table = assay(tmp_path, "run", "checks.yaml", env=env)
    assert table.returncode == 1, table.stdout + table.stderr
    flat = " ".join(table.stdout.split())
    assert f"why: 2 infra errors: 2 x no answer from OpenAI API at {url}" in flat

    as_json = assay(tmp_path, "run", "checks.yaml", "--json", env=env)
    [result] = json.loads(as_json.stdout)
    assert result["passed"] is False
    assert result["infra_errors"] == [{"reason": result["infra_errors"][0]["reason"], "count": 2}]
    assert result["infra_errors"][0]["reason"].startswith(f"no answer from OpenAI API at {url}")
    assert result["error"].startswith(f"2 infra errors: 2 x no answer from OpenAI API at {url}")
    assert result["reason"] == result["error"]


def test_scan_json_and_report_say_why_probes_could_not_run(tmp_path: Path):
    port = free_port()
    report = tmp_path / "scan.html"
    env = {"OPENAI_API_KEY": "sk-test", "ASSAY_RETRY_BASE_DELAY": "0.01"}
    args = ("--base-url", f"http://127.0.0.1:{port}/v1", "-H", "output_handling")
    result = assay(tmp_path, "scan", "openai/m", *args, "--json", "--report", str(report), env=env)
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    total = data["counts"]["infra_error"]
    assert total > 0
    expected = (
        f"{total} infra errors: {total} x no answer from OpenAI API at http://127.0.0.1:{port}/v1"
    )
    assert data["infra_errors"].startswith(expected)
    assert expected in report.read_text()
    printed = assay(tmp_path, "scan", "openai/m", *args, env=env)
    assert expected in " ".join(printed.stdout.split())


def test_a_misspelt_param_is_an_error_with_a_suggestion(tmp_path: Path):
    (tmp_path / "checks.yaml").write_text(
        "target: {kind: python, config: {callable: 'assay.examples.calculator:agent'}}\n"
        "judge: mock/judge\n"
        "checks:\n"
        "  - kind: reliability\n"
        "    params: {input: 'Add 3 and 4', expected_tool_calls: [add], num_iteratons: 3}\n"
    )
    result = assay(tmp_path, "run", "checks.yaml")
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "num_iteratons: unknown key (did you mean 'num_iterations'?)" in message
    assert "Value error" not in message


def test_a_run_file_that_is_not_a_mapping_says_so_in_plain_words(tmp_path: Path):
    (tmp_path / "checks.yaml").write_text("- just\n- a list\n")
    result = assay(tmp_path, "run", "checks.yaml")
    assert result.returncode == 2
    assert "must be a mapping of keys to values" in result.stderr
    assert "Input should be" not in result.stderr and "RunFile" not in result.stderr


MATCH_CHECK = """
checks:
  - kind: match
    params: {mode: includes, cases: [{input: "What is 2 + 2?", expected_output: "4"}]}
"""


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (
            "target: {model: openai/gpt-4o-mini}\njudge: mock/judge\n",
            "set OPENAI_API_KEY",
        ),
        (
            "target: {model: mock/m}\njudge: mokc/judge\n",
            "judge: unknown provider 'mokc' (did you mean 'mock'?)",
        ),
        (
            "target: {model: opnai/gpt-4o-mini}\njudge: mock/judge\n",
            "target.model: unknown provider 'opnai' (did you mean 'openai'?)",
        ),
    ],
    ids=["missing-key", "judge-typo", "target-typo"],
)
def test_bad_settings_exit_2_not_1(tmp_path: Path, head: str, message: str):
    (tmp_path / "checks.yaml").write_text(head + MATCH_CHECK)
    result = assay(tmp_path, "run", "checks.yaml")
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in " ".join((result.stdout + result.stderr).split())
