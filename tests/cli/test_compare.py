"""`assay compare` as a user runs it, on the results of two real `assay run`s."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_commands import assay

pytestmark = pytest.mark.timeout(300)

QUESTIONS = [
    "What is 2 + 2?",
    "Add 3 and 4",
    "What is 12 times 7?",
    "What is 9 minus 5?",
    "Add 10 and 20",
    "What is 6 times 6?",
    "What is 100 minus 1?",
]
ANSWERS = ["4", "7", "84", "4", "30", "36", "99"]


def _run_file(mode: str) -> str:
    cases = "\n".join(
        f'        - {{input: "{q}", expected_output: "{a}"}}'
        for q, a in zip(QUESTIONS, ANSWERS, strict=True)
    )
    return f"""
name: calculator {mode}
target:
  kind: python
  config: {{callable: "assay.examples.calculator:agent"}}
checks:
  - kind: match
    params:
      mode: {mode}
      cases:
{cases}
  - kind: reliability
    params: {{input: "What is 12 times 7?", expected_tool_calls: [multiply]}}
"""


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[str, str]:
    """Results files of a lenient run (all pass) and a strict one (every case fails)."""
    for name, mode, code in (("lenient", "includes", 0), ("strict", "exact", 1)):
        (tmp_path / f"{name}.yaml").write_text(_run_file(mode))
        result = assay(tmp_path, "run", f"{name}.yaml", "--json")
        assert result.returncode == code, result.stdout + result.stderr
        (tmp_path / f"{name}.json").write_text(result.stdout)
    return "lenient.json", "strict.json"


def test_compare_of_results_files_shows_a_table_and_gates_ci(
    tmp_path: Path, two_runs: tuple[str, str]
):
    lenient, strict = two_runs
    shown = assay(tmp_path, "compare", lenient, strict)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "worse" in shown.stdout and "broken" in shown.stdout
    assert "What is 2 + 2?" in shown.stdout and "p (McNemar)" in shown.stdout

    gated = assay(tmp_path, "compare", lenient, strict, "--fail-if-worse")
    assert gated.returncode == 1, gated.stdout + gated.stderr
    improved = assay(tmp_path, "compare", strict, lenient, "--fail-if-worse", "--json")
    assert improved.returncode == 0, improved.stderr
    match, reliability = json.loads(improved.stdout)
    assert match["kind"] == "match" and match["overall"]["verdict"] == "better"
    # 7 cases fixed, none broken: exact p = 2 / 2**7
    assert match["overall"]["pass_fail"]["candidate_only"] == 7
    assert match["overall"]["pass_fail"]["p_value"] == pytest.approx(2 / 128)
    assert [p["key"] for p in match["pairs"]] == QUESTIONS
    assert reliability["overall"]["verdict"] == "no significant difference"


def test_compare_by_evaluation_id_and_its_bad_input_exits_2(
    tmp_path: Path, two_runs: tuple[str, str]
):
    lenient, strict = two_runs
    first = json.loads((tmp_path / lenient).read_text())
    second = json.loads((tmp_path / strict).read_text())
    by_id = assay(tmp_path, "compare", first[0]["id"], second[0]["id"], "--json")
    assert by_id.returncode == 0, by_id.stderr
    assert json.loads(by_id.stdout)["overall"]["verdict"] == "worse"

    kinds = assay(tmp_path, "compare", first[0]["id"], first[1]["id"])
    assert kinds.returncode == 2 and "same kind" in kinds.stderr
    unknown = assay(tmp_path, "compare", "no-such-evaluation", second[0]["id"])
    assert unknown.returncode == 2 and "no-such-evaluation" in unknown.stderr
    (tmp_path / "junk.json").write_text('{"hello": 1}')
    junk = assay(tmp_path, "compare", "junk.json", strict)
    assert junk.returncode == 2 and "assay run --json" in junk.stderr
    no_db = assay(tmp_path, "compare", lenient, strict, "--db", "missing.db")
    assert no_db.returncode == 2 and "missing.db" in no_db.stderr
