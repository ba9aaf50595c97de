"""A newcomer's first hour with `assay run` and `assay scan`: every failure says why.

Each test is one friction a new user met: an infrastructure error without its reason, a typo
in params silently ignored, a bad provider or a missing key exiting like a failed check, and a
scan without a gate printing a green PASS.
"""

from __future__ import annotations

import json
import socket
import subprocess
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


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The error a command printed: no traceback, one message (wrapped by the terminal)."""
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("error: "), result.stderr
    return " ".join(result.stderr.split())


def test_serve_refuses_a_port_out_of_range_in_one_line(tmp_path: Path):
    result = assay(tmp_path, "serve", "--port", "99999")
    assert result.returncode == 2
    assert _one_line_error(result) == "error: --port must be between 1 and 65535, got 99999"


def test_serve_names_the_driver_a_postgresql_url_needs(tmp_path: Path):
    url = "postgresql://postgres:hunter2-secret@127.0.0.1:5432/assay"
    result = assay(tmp_path, "serve", "--port", str(free_port()), env={"ASSAY_DATABASE_URL": url})
    assert result.returncode == 2
    message = _one_line_error(result)
    assert "postgresql+asyncpg://" in message and "hunter2-secret" not in message


def test_serve_says_when_the_database_is_unreachable(tmp_path: Path):
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/assay"
    result = assay(tmp_path, "serve", "--port", str(free_port()), env={"ASSAY_DATABASE_URL": url})
    assert result.returncode == 1
    message = _one_line_error(result)
    assert message.startswith(f"error: cannot open the database {url}")
    assert "is it running?" in message


def test_serve_on_a_taken_port_fails_before_starting_the_app(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = assay(tmp_path, "serve", "--port", str(port))
    assert result.returncode == 1
    message = _one_line_error(result)
    assert f"port {port} on 127.0.0.1 is already in use" in message
    assert "Application startup complete" not in result.stdout + result.stderr


def test_a_second_init_makes_no_key_unless_forced(tmp_path: Path):
    first = assay(tmp_path, "init")
    assert first.returncode == 0 and "assay_" in first.stdout
    second = assay(tmp_path, "init")
    assert second.returncode == 2 and "assay_" not in second.stdout
    message = _one_line_error(second)
    assert "already initialized" in message and "assay init --force" in message
    assert "assay keys create" in message
    forced = assay(tmp_path, "init", "--force")
    assert forced.returncode == 0 and "assay_" in forced.stdout


def test_version_and_help_without_placeholders(tmp_path: Path):
    version = assay(tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.startswith("assay 0.")
    for args in ([], ["run"], ["scan"], ["serve"], ["review", "show"]):
        shown = assay(tmp_path, *args, "--help")
        assert shown.returncode == 0, shown.stderr
        assert "<bool>" not in shown.stdout and "{" not in shown.stdout, shown.stdout
    assert "run [OPTIONS] FILE" in assay(tmp_path, "run", "--help").stdout


def test_make_demo_ends_by_saying_how_to_put_assay_on_path():
    repo = Path(__file__).resolve().parents[2]
    planned = subprocess.run(
        ["make", "--no-print-directory", "-n", "demo"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    last = planned.stdout.strip().splitlines()[-1]
    assert last.startswith("echo") and ". .venv/bin/activate" in last
