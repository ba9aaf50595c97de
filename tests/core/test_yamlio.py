"""Run files and data sets read as YAML: JSON documents through ``json``, the same values."""

from __future__ import annotations

import json

import pytest
import yaml

from assay.core.yamlio import load_yaml

DOCUMENT = {
    "name": "bench",
    "target": {"kind": "openai-chat", "config": {"base_url": "http://127.0.0.1:1/v1"}},
    "checks": [
        {
            "kind": "match",
            "params": {
                "mode": "exact",
                "case_sensitive": False,
                "num_iterations": 2,
                "cases": [{"input": f"q{i}", "expected_output": "4.0"} for i in range(3)],
            },
        }
    ],
}


@pytest.mark.parametrize(
    "text",
    [json.dumps(DOCUMENT), json.dumps(DOCUMENT, indent=2), yaml.safe_dump(DOCUMENT)],
    ids=["json", "indented-json", "yaml"],
)
def test_a_document_reads_the_same_whether_written_as_json_or_yaml(text: str):
    assert load_yaml(text) == DOCUMENT


def test_flow_style_yaml_that_is_not_json_is_still_read_as_yaml():
    assert load_yaml("{name: bench, checks: [{kind: match}]}  # a comment") == {
        "name": "bench",
        "checks": [{"kind": "match"}],
    }


def test_a_broken_document_is_a_yaml_error():
    with pytest.raises(yaml.YAMLError):
        load_yaml('{"name": "bench", "checks": [')


def test_a_json_document_nested_too_deeply_is_a_yaml_error_not_a_crash():
    with pytest.raises(yaml.YAMLError, match="nested too deeply"):
        load_yaml('{"a": ' * 100_000 + "1" + "}" * 100_000)
