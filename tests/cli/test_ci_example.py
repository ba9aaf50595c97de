"""The GitHub Actions example (examples/ci/): its commands run here as the workflow runs them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from assay.services.runs import load_run_file

pytestmark = pytest.mark.timeout(150)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ci"
#: The one step that needs the network: here the package under test is already installed.
INSTALL_STEP = "Install Assay"


def steps() -> list[dict[str, Any]]:
    workflow = yaml.safe_load((EXAMPLE / "github-workflow.yml").read_text())
    [job] = workflow["jobs"].values()
    return list(job["steps"])


def test_the_workflow_uploads_the_reports_its_run_step_writes():
    by_action = {s["uses"].split("@")[0]: s for s in steps() if "uses" in s}
    assert {"actions/checkout", "actions/upload-artifact", "mikepenz/action-junit-report"} <= set(
        by_action
    )
    upload, publish = (
        by_action["actions/upload-artifact"],
        by_action["mikepenz/action-junit-report"],
    )
    assert upload["if"] == publish["if"] == "always()"  # reports of a failed run are kept too
    run = next(s["run"] for s in steps() if s.get("name") == "Run the checks")
    assert upload["with"]["path"] == "reports/" and "--junit reports/assay-junit.xml" in run
    assert publish["with"]["report_paths"] == "reports/assay-junit.xml"
    assert any(s.get("name") == INSTALL_STEP for s in steps())


def test_the_workflow_commands_run_and_write_a_passing_junit_report(tmp_path: Path):
    shutil.copytree(EXAMPLE, tmp_path / "examples" / "ci")  # the checkout
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "OPENAI_", "ANTHROPIC_"))
    }
    env |= {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "ASSAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'assay.db'}",
        "ASSAY_DATA_DIR": str(tmp_path / "data"),
    }
    commands = [s["run"] for s in steps() if "run" in s and s.get("name") != INSTALL_STEP]
    assert commands
    for command in commands:
        done = subprocess.run(
            ["bash", "-e", "-c", command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=140,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    root = ET.parse(tmp_path / "reports" / "assay-junit.xml").getroot()
    run = load_run_file(tmp_path / "examples" / "ci" / "assay-checks.yaml")
    assert root.get("tests") == str(len(run.checks))
    assert root.get("failures") == root.get("errors") == "0"
    assert (tmp_path / "reports" / "assay.html").read_text().startswith("<!DOCTYPE html>")
    assert "pass^3 100% (4/4 cases)" in (tmp_path / "reports" / "assay.json").read_text()
