"""The OpenAPI document declares the error answers the server really sends, and 405s say Allow.

Each dialect renders its own envelope (``api/errors.py``); the document must name that shape
for the status each bad request gets, so a generated client can parse every answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest

from tests.factories import RunningAssay, make_settings, serve_assay


@pytest.fixture
def served(tmp_path: Path) -> Iterator[RunningAssay]:
    with serve_assay(make_settings(tmp_path), run_workers=False) as running:
        yield running


def assert_documented(doc: dict[str, Any], path: str, method: str, response: httpx.Response):
    """``response`` has a status the operation declares, and a body matching its schema."""
    responses = doc["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in responses, (path, method, status, sorted(responses))
    schema = responses[status]["content"]["application/json"]["schema"]
    validator = jsonschema_rs.validator_for({**schema, "components": doc["components"]})
    errors = [e.message for e in validator.iter_errors(response.json())]
    assert not errors, (path, method, status, response.text, errors)


#: (documented path, method, request path, body) that each dialect answers with an error.
BAD_REQUESTS = [
    ("/v1/agents", "post", "/v1/agents", {"kind": "nope"}),
    ("/v1/evaluations", "post", "/v1/evaluations", {"harnesses": []}),
    ("/v1/harnesses", "post", "/v1/harnesses", {"name": ""}),
    ("/eval-runs", "post", "/eval-runs", {"eval_type": "accuracy"}),
    ("/eval-runs/{eval_run_id}", "patch", "/eval-runs/x", {"name": ""}),
    (
        "/api/projects/{project_id}/personas",
        "post",
        "/api/projects/default/personas",
        {"traits": {"language": ""}},
    ),
    ("/api/projects/{project_id}/evals", "post", "/api/projects/default/evals", {"name": 1}),
    ("/v1/agents/{agent_id}", "get", "/v1/agents/missing", None),
    ("/v1/evaluations/{evaluation_id}", "get", "/v1/evaluations/missing", None),
    ("/api/projects/{project_id}/runs", "get", "/api/projects/missing/runs", None),
]


async def test_every_error_answer_is_declared_with_its_dialects_shape(served: RunningAssay):
    async with served.client(await served.key()) as client:
        doc = (await client.get("/openapi.json")).json()
        for path, method, url, body in BAD_REQUESTS:
            response = await client.request(method, url, json=body)
            assert 400 <= response.status_code < 500, response.text
            assert_documented(doc, path, method, response)
        async with served.client(None) as anonymous:
            for path, method, url, body in BAD_REQUESTS:
                response = await anonymous.request(method, url, json=body)
                assert response.status_code == 401, response.text
                assert_documented(doc, path, method, response)


async def test_no_operation_declares_fastapis_unsent_validation_shape(served: RunningAssay):
    async with served.client(None) as client:
        doc = (await client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    native_create = doc["paths"]["/v1/evaluations"]["post"]["responses"]
    assert "422" not in native_create and "400" in native_create
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            declared = set(operation["responses"])
            if path != "/healthz":
                assert {"400", "401", "403", "404", "429"} <= declared, (path, method)
            if "requestBody" in operation:
                assert "413" in declared, (path, method)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/agents", {"GET", "POST"}),
        ("PUT", "/v1/evaluations", {"GET", "POST"}),
        ("PUT", "/eval-runs", {"GET", "POST", "DELETE"}),
        ("POST", "/api/projects/default", {"GET", "PUT"}),
    ],
)
async def test_method_not_allowed_names_the_allowed_methods(
    served: RunningAssay, method: str, path: str, allowed: set[str]
):
    async with served.client(await served.key()) as client:
        response = await client.request(method, path)
    assert response.status_code == 405, response.text
    assert {m.strip() for m in response.headers["Allow"].split(",")} >= allowed
