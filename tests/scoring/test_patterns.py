"""Tenant patterns run on RE2: linear time whatever the pattern, flags kept, the rest refused."""

from __future__ import annotations

import pytest

from assay.core.errors import ValidationFailed
from assay.kinds.match import MatchKind, matches
from assay.scoring.detectors import detect
from assay.scoring.patterns import compile_pattern


def test_a_backtracking_pattern_answers_at_once_on_a_huge_answer():
    # Under ``re`` this search takes longer than the test's timeout (about 2**40 paths).
    answer = "a" * 40 + "!"
    assert compile_pattern(r"^(a+)+$").search(answer) is None
    assert compile_pattern(r"(x+x+)+y").search("x" * 1_000_000) is None


def test_case_insensitivity_is_kept():
    assert compile_pattern("HELLO", case_sensitive=False).search("say hello") is not None
    assert compile_pattern("HELLO").search("say hello") is None
    assert compile_pattern("(?i)ÉTÉ").search("un été") is not None


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?P<x>a)(?P=x)", r"a(?=b)", r"(?<=a)b", "("])
def test_patterns_re2_cannot_run_are_refused_with_the_reason(pattern: str):
    with pytest.raises(ValueError, match="RE2"):
        compile_pattern(pattern)


def test_the_match_kind_refuses_such_patterns_naming_the_case():
    params = {
        "mode": "regex",
        "cases": [
            {"input": "q", "expected_output": "ok"},
            {"input": "q", "expected_output": r"(?<!not )fine"},
        ],
    }
    with pytest.raises(ValidationFailed) as caught:
        MatchKind().validate_params(params)
    assert caught.value.errors[0]["loc"] == ["cases", 1, "expected_output"]
    assert "lookaround" in caught.value.message


def test_the_match_kind_keeps_its_case_flag():
    assert matches("The Answer is 42", r"answer is \d+", "regex", case_sensitive=False)
    assert not matches("The Answer is 42", r"answer is \d+", "regex", case_sensitive=True)


def test_agreement_over_huge_numeric_answers_is_not_quadratic():
    # 100,000 numbers each, none shared: the old pairwise scan took 10**10 comparisons.
    first = " ".join(str(n) for n in range(1_000_000, 1_200_000, 2))
    second = " ".join(str(n) for n in range(2_000_001, 2_200_000, 2))
    result = detect("agreement", {}, [first, second])
    assert result.passed is False


def test_json_valid_survives_deeply_nested_answers():
    answer = '{"a": [' * 5_000
    assert detect("json_valid", {}, [answer]).passed is False
