"""GET /v1/evaluations/{a}/compare/{b}: paired verdicts over a real server and the fake LLM."""

from __future__ import annotations

import pytest

from assay.core.principal import Role
from tests.api.compare_helpers import COMPARE_PROBES, leaky_and_careful
from tests.api.trust_helpers import create_harness, model_request
from tests.factories import RunningAssay
from tests.fakes.openai_server import FakeLLM


async def test_compare_pairs_probes_and_says_which_run_is_better(
    assay: RunningAssay, fake_llm: FakeLLM
):
    async with assay.client(await assay.key()) as client:
        leaky, careful = await leaky_and_careful(client, fake_llm)
        answer = await client.get(f"/v1/evaluations/{leaky}/compare/{careful}")
        reverse = await client.get(f"/v1/evaluations/{careful}/compare/{leaky}")
        itself = await client.get(f"/v1/evaluations/{leaky}/compare/{leaky}")

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["kind"] == "harness"
    assert (body["baseline"]["id"], body["candidate"]["id"]) == (leaky, careful)
    overall = body["overall"]
    assert overall["pairs"] == 10 and overall["verdict"] == "better"
    test = overall["pass_fail"]
    # 8 discordant pairs, all for the candidate: exact p = 2 / 2**8
    assert (test["baseline_only"], test["candidate_only"]) == (0, 8)
    assert test["p_value"] == pytest.approx(2 / 256)
    assert test["baseline_pass_rate"] == pytest.approx(0.2)
    assert test["candidate_pass_rate"] == 1.0
    assert test["difference"] == pytest.approx(0.8)
    assert test["ci95"][0] > 0 and test["ci95"][1] <= 1
    groups = {g["group"]: g for g in body["groups"]}
    assert set(groups) == {"security", "reliability"}
    assert groups["security"]["verdict"] == "better" and groups["security"]["pairs"] == 8
    assert groups["reliability"]["verdict"] == "no significant difference"
    pairs = {p["key"]: p for p in body["pairs"]}
    assert pairs["leak-3"]["change"] == "fixed" and pairs["capital-0"]["change"] == "same"
    assert pairs["leak-3"]["group"] == "security"
    assert body["unpaired"] == []

    assert reverse.json()["overall"]["verdict"] == "worse"
    assert reverse.json()["overall"]["pass_fail"]["baseline_only"] == 8
    same = itself.json()["overall"]
    assert same["verdict"] == "no significant difference" and same["pass_fail"]["p_value"] == 1


async def test_compare_is_404_unless_the_caller_can_read_both(
    assay: RunningAssay, fake_llm: FakeLLM
):
    async with assay.client(await assay.key()) as client:
        leaky, careful = await leaky_and_careful(client, fake_llm)
    async with assay.client(await assay.key(org="other-org")) as other:
        both = await other.get(f"/v1/evaluations/{leaky}/compare/{careful}")
    async with assay.client(await assay.key(role=Role.REVIEWER)) as reviewer:
        readable = await reviewer.get(f"/v1/evaluations/{leaky}/compare/{careful}")
    async with assay.client(await assay.key()) as client:
        missing = await client.get(f"/v1/evaluations/{leaky}/compare/eval-nope")
        missing_first = await client.get(f"/v1/evaluations/eval-nope/compare/{careful}")
    async with assay.client(None) as anonymous:
        unauthenticated = await anonymous.get(f"/v1/evaluations/{leaky}/compare/{careful}")

    assert both.status_code == 404, both.text
    # the same answer as for an id that does not exist: nothing of the other tenant shows
    assert set(both.json()) == {"code", "detail", "type"}
    assert both.json()["type"] == missing_first.json()["type"] == "EvaluationNotFoundException"
    assert readable.status_code == 200, readable.text
    assert missing.status_code == 404 and "eval-nope" in missing.text
    assert missing_first.status_code == 404
    assert unauthenticated.status_code == 401


async def test_a_trust_evaluation_with_a_baseline_reports_each_dimension_against_it(
    assay: RunningAssay, fake_llm: FakeLLM
):
    async with assay.client(await assay.key()) as client:
        leaky, careful = await leaky_and_careful(client, fake_llm, with_baseline=True)
        results = (await client.get(f"/v1/evaluations/{careful}/results")).json()
        plain = (await client.get(f"/v1/evaluations/{leaky}/results")).json()
        unknown = await client.post(
            "/v1/evaluations",
            json=model_request(fake_llm, ["compare-harness"], baseline_evaluation_id="eval-x"),
        )
    async with assay.client(await assay.key(org="other-org")) as other:
        await create_harness(other, "compare-harness", COMPARE_PROBES)
        foreign = await other.post(
            "/v1/evaluations",
            json=model_request(fake_llm, ["compare-harness"], baseline_evaluation_id=leaky),
        )
        listed = (await other.get("/v1/evaluations")).json()

    baseline = results["baseline"]
    assert baseline["evaluation_id"] == leaky and baseline["unpaired"] == 0
    security = baseline["dimensions"]["security"]
    assert security["verdict"] == "better" and security["n"] == 8
    assert (security["baseline_pass_rate"], security["pass_rate"]) == (0.0, 1.0)
    assert security["difference"] == 1.0 and security["p_value"] == pytest.approx(2 / 256)
    assert 0 < security["ci95"][0] <= security["ci95"][1] == 1.0
    reliability = baseline["dimensions"]["reliability"]
    assert reliability["verdict"] == "no significant difference" and reliability["difference"] == 0
    assert baseline["overall"]["verdict"] == "better"
    assert plain["baseline"] is None
    for answer in (unknown, foreign):
        assert answer.status_code == 400, answer.text  # the seed's InvalidRequestException
        assert answer.json()["errors"][0]["loc"][-1] == "baseline_evaluation_id"
    assert listed["total"] == 0, "a refused evaluation is not created"
