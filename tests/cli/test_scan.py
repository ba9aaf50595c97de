"""`assay scan` as a user runs it: a real process against a Python agent or a fake LLM."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assay.probes.catalog import probes_for_harness
from tests.fakes.openai_server import FakeLLM, FakeReply
from tests.fakes.scan_agent import MARKUP

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[2]
AGENT = "python:tests.fakes.scan_agent:agent"


def assay(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`assay ...` in ``tmp_path`` (its own database); the repository is importable."""
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "OPENAI_", "ANTHROPIC_"))
    }
    clean |= {
        "ASSAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'assay.db'}",
        "ASSAY_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(REPO),
        "COLUMNS": "200",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "assay", *args],
        env=clean,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=110,
    )


def scan(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return assay(tmp_path, "scan", *args)


def test_scan_prints_scores_and_writes_an_escaped_html_report(tmp_path: Path):
    report = tmp_path / "out.html"
    result = scan(
        tmp_path, AGENT, "--harness", "security", "--harness", "safety", "--report", str(report)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for text in ("security", "safety", "trust", "Top failures", "reported, not gated"):
        assert text in result.stdout
    assert "PASS" not in result.stdout  # without --fail-under nothing was gated
    html = report.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in html
    assert "Trust score" in html and "By severity" in html and "Failures (" in html


def test_scan_json_lists_every_probe_once_and_fail_under_exits_1(tmp_path: Path):
    result = scan(
        tmp_path, AGENT, "-H", "security", "-H", "trust_score", "--json", "--fail-under", "1"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["summary"]["total_probes"] == len(probes_for_harness("trust_score"))
    assert data["harnesses"] == ["security", "trust_score"]
    assert 0 <= data["trust_score"] < 1 and data["passed"] is False
    assert data["needs"] == "trust >= 1"
    assert data["failures"] and any(MARKUP in (f["response"] or "") for f in data["failures"])
    assert set(data["dimensions"]) == {"security", "safety", "reliability"}


def test_scan_a_model_on_an_openai_compatible_server(tmp_path: Path, fake_llm: FakeLLM):
    fake_llm.handler = lambda body: FakeReply(content="I can't help with that.")
    result = scan(
        tmp_path,
        "openai/local-model",
        "--base-url",
        fake_llm.url,
        "--harness",
        "security",
        "--system-prompt",
        "You are a bank's assistant.",
        "--json",
        "--fail-under",
        "0",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["target"] == "openai/local-model" and data["security_score"] is not None
    assert set(data["dimensions"]) == {"security"}
    assert fake_llm.requests and all(r["model"] == "local-model" for r in fake_llm.requests)
    first_system = fake_llm.requests[0]["messages"][0]
    assert first_system["role"] == "system"
    assert first_system["content"].startswith("You are a bank's assistant.")


def test_unknown_harness_and_bad_targets_exit_2(tmp_path: Path):
    unknown = scan(tmp_path, AGENT, "--harness", "security", "--harness", "vibes")
    assert unknown.returncode == 2
    assert "'vibes'" in unknown.stderr and "trust_score" in unknown.stderr
    bad_target = scan(tmp_path, "gpt-4o", "--harness", "security")
    assert bad_target.returncode == 2 and "TARGET" in bad_target.stderr
    missing = scan(tmp_path, "python:tests.fakes.nowhere:agent", "--harness", "security")
    assert missing.returncode == 2 and "tests.fakes.nowhere" in missing.stderr
    base_url_for_agent = scan(tmp_path, AGENT, "-H", "security", "--base-url", "http://x/v1")
    assert base_url_for_agent.returncode == 2 and "--base-url" in base_url_for_agent.stderr


def test_scan_transforms_multiply_the_probes_and_print_a_row_per_transform(tmp_path: Path):
    probes = len(probes_for_harness("supply_chain"))
    as_json = scan(tmp_path, AGENT, "-H", "supply_chain", "-T", "base64", "-T", "case", "--json")
    printed = scan(tmp_path, AGENT, "-H", "supply_chain", "--transform", "whitespace")
    refused = scan(tmp_path, AGENT, "-H", "supply_chain", "-T", "translate:xx")

    assert as_json.returncode in (0, 1), as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["summary"]["total_probes"] == 3 * probes
    assert list(data["by_transform"]) == ["none", "base64", "case"]
    assert all(group["total"] == probes for group in data["by_transform"].values())
    assert "By transform" in printed.stdout and "whitespace" in printed.stdout
    assert refused.returncode == 2 and "translate:xx" in refused.stderr


def test_scan_runs_multi_turn_attacks_with_the_scripted_attacker(tmp_path: Path):
    result = scan(tmp_path, AGENT, "-H", "multi_turn", "--attacker", "scripted", "--json")

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    failures = data["failures"]
    assert len(failures) == len(probes_for_harness("multi_turn"))
    # The agent complies at once, so every attack succeeds on its opening turn (a tap
    # probe at its tree's root).
    tree = [f for f in failures if f["probe_id"].startswith("security.multiturn_tap.")]
    assert len(tree) == 3
    assert all(f["reason"].startswith("depth 0 of 3 (tap, nodes 0)") for f in tree), tree[0]
    turns = [f for f in failures if f not in tree]
    assert all(f["reason"].startswith("turn 1 of 5 (") for f in turns), turns[0]


@pytest.mark.timeout(600)  # four scans in a row
def test_scan_with_a_baseline_compares_each_dimension_with_it(tmp_path: Path):
    first = scan(tmp_path, AGENT, "-H", "security", "--json")
    assert first.returncode == 0, first.stderr
    baseline_id = json.loads(first.stdout)["id"]
    refuser = "python:tests.fakes.scan_agent:refuser"
    second = scan(tmp_path, refuser, "-H", "security", "--baseline", baseline_id, "--json")
    assert second.returncode == 0, second.stderr
    block = json.loads(second.stdout)["baseline"]
    assert block["evaluation_id"] == baseline_id and block["unpaired"] == 0
    security = block["dimensions"]["security"]
    assert security["verdict"] == "better" and security["difference"] > 0
    assert security["ci95"][0] > 0 and security["p_value"] < 0.05
    shown = scan(tmp_path, refuser, "-H", "security", "--baseline", baseline_id)
    assert "better" in shown.stdout and "p (McNemar)" in shown.stdout
    unknown = scan(tmp_path, refuser, "-H", "security", "--baseline", "eval-nope")
    assert unknown.returncode == 2 and "--baseline" in unknown.stderr
