"""The `assay` command as a user runs it: a real process, settings from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assay.services.container import open_container
from assay.services.keys import authenticate
from tests.factories import make_settings

pytestmark = pytest.mark.timeout(120)


def assay(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`assay ARGS` in ``tmp_path`` (its own database); ``env`` adds to the environment."""
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "OPENAI_", "ANTHROPIC_"))
    }
    base |= {
        "ASSAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'assay.db'}",
        "ASSAY_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "160",
    }
    return subprocess.run(
        [sys.executable, "-m", "assay", *args],
        env=base | (env or {}),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=110,
    )


async def test_keys_create_prints_only_a_working_key(tmp_path: Path):
    result = assay(
        tmp_path, "keys", "create", "--org", "acme", "--workspace", "research", "--role", "member"
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert result.stdout == key + "\n" and key.startswith("assay_")
    container = await open_container(make_settings(tmp_path))
    try:
        principal = await authenticate(container, f"Bearer {key}")
    finally:
        await container.aclose()
    assert principal.role == "member" and principal.workspace_id is not None


def test_init_prints_an_admin_key_and_users_can_be_added(tmp_path: Path):
    init = assay(tmp_path, "init")
    assert init.returncode == 0, init.stderr
    assert "assay_" in init.stdout and "default" in init.stdout
    added = assay(tmp_path, "users", "add", "ada@example.com", "--org", "default")
    assert added.returncode == 0 and "reviewer" in added.stdout
    bad_email = assay(tmp_path, "users", "add", "not-an-email", "--org", "default")
    assert bad_email.returncode == 2 and "email" in bad_email.stderr
    no_org = assay(tmp_path, "users", "add", "ada@example.com", "--org", "nowhere")
    assert no_org.returncode == 2 and "nowhere" in no_org.stderr
    bad_role = assay(tmp_path, "keys", "create", "--org", "default", "--role", "owner")
    assert bad_role.returncode == 2 and "--role" in bad_role.stderr


RUN_FILE = """
name: calculator checks
target:
  kind: python
  config: {callable: "assay.examples.calculator:agent"}
judge: mock/judge
checks:
  - kind: reliability
    params: {input: "What is 12 times 7?", expected_tool_calls: [multiply]}
  - kind: match
    params:
      mode: includes
      cases:
        - {input: "What is 2 + 2?", expected_output: "4"}
        - {input: "Add 3 and 4", expected_output: "7"}
"""


def test_run_passes_and_prints_a_table(tmp_path: Path):
    (tmp_path / "checks.yaml").write_text(RUN_FILE)
    result = assay(tmp_path, "run", "checks.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "called multiply" in result.stdout and "all checks passed" in result.stdout
    assert "2 cases" in result.stdout  # the match check, labelled by its case count


def test_run_exits_1_when_a_threshold_fails_and_json_says_which(tmp_path: Path):
    failing = RUN_FILE.replace("expected_tool_calls: [multiply]", "expected_tool_calls: [add]")
    (tmp_path / "checks.yaml").write_text(failing)
    result = assay(tmp_path, "run", "checks.yaml", "--json")
    assert result.returncode == 1, result.stderr
    results = json.loads(result.stdout)
    assert [(r["kind"], r["passed"]) for r in results] == [("reliability", False), ("match", True)]
    assert results[0]["summary"]["missing_tool_calls"] == ["add"]
    assert results[1]["summary"]["counts"]["passed"] == 2


def test_a_bad_run_file_names_the_field_and_runs_nothing(tmp_path: Path):
    (tmp_path / "checks.yaml").write_text(
        RUN_FILE.replace("expected_tool_calls: [multiply]", "num_iterations: 500")
    )
    result = assay(tmp_path, "run", "checks.yaml")
    assert result.returncode == 2
    assert "checks[0]" in result.stderr and "num_iterations" in result.stderr
    assert "expected_tool_calls" in result.stderr


def test_quickstart_shows_every_kind_and_only_the_deliberate_failure(tmp_path: Path):
    result = assay(tmp_path, "quickstart")
    assert result.returncode == 0, result.stdout + result.stderr
    for kind in ("accuracy", "agent_as_judge", "performance", "reliability"):
        assert kind in result.stdout
    assert "1 of 12 checks failed" in result.stdout
    said = " ".join(result.stdout.split())
    assert "`assay view` shows them in the browser at http://127.0.0.1:8765/ui/evaluations" in said
