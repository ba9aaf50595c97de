"""Data sets from files: JSONL, CSV and YAML cases, read a row at a time, bad rows named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.core.errors import ValidationFailed
from assay.services import items as item_service
from assay.services.case_files import read_cases
from assay.services.container import open_container
from assay.services.evaluations import ITEM_INSERT_BATCH
from assay.services.runs import load_run_file, start_checks
from tests.factories import make_settings

EXPECTED = [
    {"input": "What is 2+2?", "expected_output": "4"},
    {"input": "Say hi, politely", "expected_output": "hi"},
]


def test_each_format_gives_the_same_cases_and_numbers_as_text(tmp_path: Path):
    jsonl = tmp_path / "cases.jsonl"
    jsonl.write_text(
        '{"input": "What is 2+2?", "expected_output": 4}\n\n'
        '{"input": "Say hi, politely", "expected_output": "hi"}\n'
    )
    table = tmp_path / "cases.csv"
    table.write_text('input,expected_output\nWhat is 2+2?,4\n"Say hi, politely",hi\n')
    listed = tmp_path / "cases.yaml"
    listed.write_text(
        "- {input: 'What is 2+2?', expected_output: 4}\n"
        "- input: Say hi, politely\n  expected_output: hi\n"
    )
    for path in (jsonl, table, listed):
        assert list(read_cases(path)) == EXPECTED, path.name


@pytest.mark.parametrize(
    ("name", "text", "line", "says"),
    [
        ("a.jsonl", '{"input": "a", "expected_output": "b"}\n\n{"input": "a",\n', 3, "not JSON"),
        ("b.jsonl", '{"input": "a", "expected": "b"}\n', 1, "did you mean 'expected_output'"),
        ("c.jsonl", '["a", "b"]\n', 1, "must be a mapping"),
        ("d.csv", "input,expected_output\na,b\nc,d,e\n", 3, "more cells than the header"),
        ("e.csv", "question,answer\na,b\n", 1, "no column input, expected_output"),
        ("f.yaml", "- {input: a, expected_output: b}\n- {input: c}\n", 2, "expected_output"),
        ("g.yaml", "input: a\n", 1, "must be a list of cases"),
        ("h.yml", "- {input: a, expected_output: b}\n- [unclosed\n", 3, "not YAML"),
        ("i.jsonl", '{"input": "", "expected_output": "b"}\n', 1, "input: must not be empty"),
    ],
)
def test_a_bad_row_names_the_file_and_line(
    tmp_path: Path, name: str, text: str, line: int, says: str
):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValidationFailed) as caught:
        list(read_cases(path))
    assert caught.value.message.startswith(f"{path}:{line}: ")
    assert says in caught.value.message


def test_unknown_formats_and_missing_files_are_named(tmp_path: Path):
    with pytest.raises(ValidationFailed, match=r"use one of \.jsonl, \.csv"):
        list(read_cases(tmp_path / "cases.txt"))
    with pytest.raises(ValidationFailed, match="no file"):
        list(read_cases(tmp_path / "absent.jsonl"))


def test_a_large_jsonl_is_read_row_by_row(tmp_path: Path):
    """The first case comes out before the reader reaches a bad last line of 100,000."""
    path = tmp_path / "big.jsonl"
    row = json.dumps({"input": "q", "expected_output": "a"}) + "\n"
    with path.open("w") as handle:
        handle.writelines(row for _ in range(99_999))
        handle.write("not json\n")
    cases = read_cases(path)
    assert next(cases) == {"input": "q", "expected_output": "a"}
    with pytest.raises(ValidationFailed, match=":100000: not JSON"):
        for _ in cases:
            pass


async def test_a_run_file_check_reads_its_cases_file_into_numbered_items(tmp_path: Path):
    rows = ITEM_INSERT_BATCH + 7  # more than one insert batch
    (tmp_path / "data").mkdir()
    with (tmp_path / "data" / "sums.jsonl").open("w") as handle:
        for n in range(rows):
            handle.write(json.dumps({"input": f"What is {n}+1?", "expected_output": n + 1}) + "\n")
    run_path = tmp_path / "assay-sums.yaml"
    run_path.write_text(
        "target: {kind: python, config: {callable: 'assay.examples.calculator:agent'}}\n"
        "checks:\n  - {kind: match, cases_file: data/sums.jsonl, params: {mode: includes}}\n"
    )
    run = load_run_file(run_path)
    assert len(run.checks[0].params["cases"]) == rows
    assert run.checks[0].params["cases"][-1] == {
        "input": f"What is {rows - 1}+1?",
        "expected_output": str(rows),
    }
    container = await open_container(make_settings(tmp_path))
    try:
        principal, [view] = await start_checks(container, run)
        page = await item_service.list_items(
            container, principal, view.id, limit=rows + 10, offset=0
        )
    finally:
        await container.aclose()
    assert view.total_items == page.total == rows
    assert sorted(item.seq for item in page.items) == list(range(rows))


def test_cases_and_cases_file_together_are_refused(tmp_path: Path):
    (tmp_path / "c.csv").write_text("input,expected_output\na,b\n")
    run_path = tmp_path / "assay.yaml"
    run_path.write_text(
        "target: {model: mock/m}\n"
        "checks:\n  - kind: match\n    cases_file: c.csv\n"
        "    params: {cases: [{input: a, expected_output: b}]}\n"
    )
    with pytest.raises(ValidationFailed, match=r"checks\.0\.cases_file: give params.cases or"):
        load_run_file(run_path)
