"""The pytest plugin: run files collected as tests, and the ``assay_checks`` fixture.

Each test runs a real pytest session in a subprocess (``pytester.runpytest_subprocess``) with
the plugin loaded from its entry point, against the fake OpenAI-compatible server.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeLLM, FakeReply

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def session_env(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, fake_llm: FakeLLM):
    """The inner session's environment (cleared of ASSAY_* by conftest): a key for the fake
    server, which answers "Paris"."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    fake_llm.handler = lambda body: FakeReply(content="The capital of France is Paris.")
    return fake_llm


def run_file(url: str) -> str:
    return f"""\
name: geography
target:
  model: openai/fake-model
  base_url: {url}
checks:
  - kind: match
    name: capital
    params:
      cases: [{{input: "Capital of France?", expected_output: "Paris"}}]
      mode: includes
  - kind: match
    name: wrong on purpose
    params:
      cases: [{{input: "Capital of France?", expected_output: "Lyon"}}]
      mode: includes
"""


def test_run_files_are_collected_and_each_check_is_a_test(
    pytester: pytest.Pytester, session_env: FakeLLM
):
    pytester.makefile(".yaml", **{"assay-geography": run_file(session_env.url)})
    pytester.makefile(".yaml", **{"other": "not: collected\n"})
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--junitxml={junit}")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*assay check 2 match: wrong on purpose*",
            "0% passed (CI 0-79%) n=1 (needs pass rate >= 100%)",
        ]
    )
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert set(cases) == {"1 match: capital", "2 match: wrong on purpose"}
    assert cases["1 match: capital"].find("failure") is None
    failure = cases["2 match: wrong on purpose"].find("failure")
    assert failure is not None
    assert (failure.get("message") or "").startswith("0% passed (CI 0-79%) n=1 (needs pass rate")
    assert not (pytester.path / "assay.db").exists()  # a temporary database per session
    assert len(session_env.requests) == 2

    only = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "capital")
    only.assert_outcomes(passed=1, deselected=1)


def test_a_bad_run_file_is_a_collection_error_and_a_bad_target_a_failure_naming_the_field(
    pytester: pytest.Pytester, session_env: FakeLLM
):
    pytester.makefile(
        ".yml",
        **{
            "assay-bad": "target: {model: openai/m}\nchecks:\n  - {kind: match, min_pass_rat: 50}\n"
        },
    )
    pytester.makefile(
        ".yaml",
        **{
            "assay-nobody": "target: {agent: nobody}\nchecks:\n"
            "  - {kind: match, params: {cases: [{input: a, expected_output: b}]}}\n"
        },
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--continue-on-collection-errors"
    )
    result.assert_outcomes(errors=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*checks.0.min_pass_rat: unknown key (did you mean 'min_pass_rate'?)*"]
    )
    result.stdout.fnmatch_lines(["*assay-nobody.yaml: target.agent: agent 'nobody' not found"])


def test_the_assay_checks_fixture_runs_a_check_from_sync_and_async_tests(
    pytester: pytest.Pytester, session_env: FakeLLM
):
    pytester.makepyfile(
        f"""
        import pytest

        TARGET = {{"model": "openai/fake-model", "base_url": "{session_env.url}"}}
        CHECK = {{
            "kind": "match",
            "min_pass_rate": 100,
            "params": {{"cases": [{{"input": "Capital?", "expected_output": "Paris"}}],
                        "mode": "includes", "num_iterations": 2}},
        }}

        def test_sync(assay_checks):
            result = assay_checks.run(CHECK, target=TARGET)
            assert result.verdict.passed, result.verdict.result
            assert result.evaluation.summary["pass_k"]["k"] == 2

        @pytest.mark.asyncio
        async def test_async(assay_checks):
            result = await assay_checks.arun(CHECK | {{"params": {{"cases": CHECK["params"]["cases"],
                                                "mode": "exact"}}}}, target=TARGET)
            assert not result.verdict.passed
            assert result.verdict.result.startswith("0% passed")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert len(session_env.requests) == 3


def test_the_readme_fixture_example_passes_as_written(
    pytester: pytest.Pytester, session_env: FakeLLM
):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = readme.index("def test_calculator_multiplies(assay_checks):")
    pytester.makepyfile(test_readme=readme[start : readme.index("```", start)])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
