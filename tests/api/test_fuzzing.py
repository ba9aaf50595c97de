"""Schemathesis against a live Assay: every operation of ``/openapi.json``, on each database.

A real server (uvicorn on 127.0.0.1) is fuzzed over HTTP with an admin key: schemathesis
generates valid and invalid requests from the document, and every answer must be below 500
and match what the document declares (status, content type, body schema, headers). Runs are
reproducible (``derandomize``) and bounded (``MAX_EXAMPLES`` per operation and mode); the
server runs no workers, so nothing a generated request names (URLs, models) is ever called.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import RunningAssay, make_settings, serve_assay

log = logging.getLogger(__name__)

#: Examples per operation and generation mode; about 40 s per database on two cores.
MAX_EXAMPLES = 5
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@dataclass
class FuzzReport:
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    #: Statuses of valid requests, which always carry the key (negative cases may drop it).
    positive_statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


@pytest.fixture
def fuzzed(tmp_path: Path, any_database_url: str) -> Iterator[RunningAssay]:
    settings_ = make_settings(
        tmp_path,
        database_url=any_database_url,
        eval_run_wait_seconds=0.01,
        quota_concurrent_evaluations=0,
        quota_daily_evaluations=0,
        check_connectors=False,  # a generated connector's URL is never asked either
    )
    with serve_assay(settings_, run_workers=False) as running:
        yield running


@dataclass
class Target:
    url: str
    session: requests.Session
    headers: dict[str, str]


def fuzz_operation(
    operation: APIOperation, mode: GenerationMode, target: Target, report: FuzzReport
) -> None:
    """``MAX_EXAMPLES`` generated requests to one operation; failures go to the report."""
    # Seed 004's routes are only reachable in a project that exists.
    pinned = {"project_id": "default"} if "{project_id}" in operation.path else None

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy(generation_mode=mode, path_parameters=pinned))
    def run(case: schemathesis.Case) -> None:
        response = case.call(base_url=target.url, session=target.session, headers=target.headers)
        report.cases += 1
        report.statuses[response.status_code] += 1
        if mode is GenerationMode.POSITIVE:
            report.positive_statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=target.headers)
        except FailureGroup as failures:
            report.failures.append(f"{operation.label} ({mode.value}): {failures}")

    try:
        run()
    except Unsatisfiable:
        pass  # nothing to negate (no parameters, or all of them pinned)


def fuzz(url: str, key: str) -> FuzzReport:
    """Every operation in both generation modes."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    report = FuzzReport()
    with requests.Session() as session:
        target = Target(url, session, {"Authorization": f"Bearer {key}"})
        for result in schema.get_all_operations():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                fuzz_operation(result.ok(), mode, target, report)
    return report


@pytest.mark.timeout(150)
async def test_every_operation_answers_below_500_and_as_documented(fuzzed: RunningAssay):
    key = await fuzzed.key()
    report = await asyncio.to_thread(fuzz, fuzzed.url, key)
    log.info(
        "schemathesis: %d cases, %d 5xx, statuses %s",
        report.cases,
        report.server_errors,
        dict(sorted(report.statuses.items())),
    )
    assert report.cases > 300
    assert report.positive_statuses[401] == 0, "the key was not sent"
    assert report.positive_statuses[200] + report.positive_statuses[201] > 50
    assert not report.failures, "\n\n".join(report.failures[:5])
    assert report.server_errors == 0
