"""Data sets from files: the cases of a ``match`` check read from JSONL, CSV or YAML.

A run file's check may say ``cases_file: cases.jsonl`` (relative to the run file) instead of
listing ``cases:`` inline. Each case has an ``input`` and an ``expected_output``:

- ``.jsonl``: one JSON object per line; blank lines are skipped.
- ``.csv``: a header row naming the columns ``input`` and ``expected_output``, then one row
  per case.
- ``.yaml`` / ``.yml``: a list of mappings.

JSONL and CSV are read a line at a time, so a 100,000-case file is never held as one string;
YAML is parsed into nodes with libyaml (``CSafeLoader``) when it is installed and each case is
built from its node, so errors can name its line. Numbers are read as their text ("4"), since
the answers are compared as text. A bad row stops the load with the file and line in the
message, before anything runs.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from difflib import get_close_matches
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from assay.core.errors import ValidationFailed

if TYPE_CHECKING:
    from assay.services.runs import RunFile

FIELDS = ("input", "expected_output")
FORMATS = (".jsonl", ".csv", ".yaml", ".yml")

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _bad(path: Path, line: int, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"{path}:{line}: {message}",
        [{"loc": ["cases_file", str(path), line], "msg": message, "type": "value_error"}],
    )


def _case(path: Path, line: int, row: object) -> dict[str, str]:
    """One validated case; the error names the file, the line and the field."""
    if not isinstance(row, dict):
        raise _bad(path, line, f"a case must be a mapping with {' and '.join(FIELDS)}")
    unknown = [key for key in row if key not in FIELDS]
    if unknown:
        close = get_close_matches(str(unknown[0]), FIELDS, n=1)
        hint = (
            f" (did you mean {close[0]!r}?)" if close else f"; the fields are {', '.join(FIELDS)}"
        )
        raise _bad(path, line, f"unknown field {unknown[0]!r}{hint}")
    case = {}
    for field in FIELDS:
        value = row.get(field)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _bad(path, line, f"{field}: must be text, got {type(value).__name__}")
        case[field] = str(value)
    if not case["input"]:
        raise _bad(path, line, "input: must not be empty")
    return case


def _jsonl(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                raise _bad(path, line, f"not JSON: {exc.msg} (column {exc.colno})") from None
            yield _case(path, line, row)


def _csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [field for field in FIELDS if field not in (reader.fieldnames or [])]
        if missing:
            raise _bad(path, 1, f"the header row has no column {', '.join(missing)}")
        for row in reader:
            if None in row:  # more cells than the header has columns
                raise _bad(path, reader.line_num, "more cells than the header row has columns")
            yield _case(path, reader.line_num, {k: v for k, v in row.items() if v is not None})


def _yaml(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        loader = _Loader(handle)
        try:
            root = loader.get_single_node()
            if not isinstance(root, yaml.SequenceNode):
                line = root.start_mark.line + 1 if root is not None else 1
                raise _bad(path, line, "the file must be a list of cases")
            for node in root.value:
                yield _case(
                    path, node.start_mark.line + 1, loader.construct_object(node, deep=True)
                )
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            raise _bad(path, line, f"not YAML: {getattr(exc, 'problem', None) or exc}") from None
        finally:
            loader.dispose()


def read_cases(path: Path) -> Iterator[dict[str, str]]:
    """The cases of ``path`` one at a time, by its extension.

    Raises:
        ValidationFailed: the file is missing, of an unknown format, or a row is bad (the
            message names the file and line).
    """
    readers = {".jsonl": _jsonl, ".csv": _csv, ".yaml": _yaml, ".yml": _yaml}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise ValidationFailed.for_field(
            ("cases_file",), f"{path}: use one of {', '.join(FORMATS)}, got {path.suffix!r}"
        )
    if not path.is_file():
        raise ValidationFailed.for_field(("cases_file",), f"no file {path}")
    try:
        yield from reader(path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValidationFailed.for_field(
            ("cases_file",), f"{path}: cannot read it: {exc}"
        ) from None


def with_case_files(run: RunFile, folder: Path) -> RunFile:
    """The run file with each check's ``cases_file`` (relative to ``folder``) read into ``cases``.

    Raises:
        ValidationFailed: a check gives both ``cases`` and ``cases_file``, the file has no
            case, or a row is bad.
    """
    checks = []
    for index, check in enumerate(run.checks):
        if check.cases_file is None:
            checks.append(check)
            continue
        if "cases" in check.params:
            raise ValidationFailed.for_field(
                ("checks", index, "cases_file"), "give params.cases or cases_file, not both"
            )
        path = check.cases_file if check.cases_file.is_absolute() else folder / check.cases_file
        cases = list(read_cases(path))
        if not cases:
            raise ValidationFailed.for_field(("checks", index, "cases_file"), f"no case in {path}")
        checks.append(check.model_copy(update={"params": check.params | {"cases": cases}}))
    return run.model_copy(update={"checks": checks})
