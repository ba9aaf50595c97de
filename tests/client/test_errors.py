"""Error mapping, waiting out 429s and keeping keys out of sight, on a mock transport."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

import assay
from assay.client import (
    APIConnectionError,
    AssayAPIError,
    Client,
    EvaluationFailedError,
    EvaluationNotFoundError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)


def answer(status: int, body: object = None, **headers: str) -> httpx.Response:
    content = body if isinstance(body, str) else json.dumps(body)
    return httpx.Response(status, content=content.encode(), headers=headers)


def client_for(*responses: httpx.Response, seen: list[httpx.Request] | None = None) -> Client:
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return queue.pop(0)

    return Client(
        "http://assay.test/v1/", "assay_secret_key", transport=httpx.MockTransport(handler)
    )


def test_errors_are_the_most_specific_class_of_the_envelope_or_status():
    envelope = {
        "code": 404,
        "detail": "evaluation 'x' not found",
        "type": "EvaluationNotFoundException",
    }
    with pytest.raises(EvaluationNotFoundError) as found:
        client_for(answer(404, envelope)).get_evaluation("x")
    assert (found.value.status, found.value.type) == (404, "EvaluationNotFoundException")
    assert found.value.detail == "evaluation 'x' not found"
    with pytest.raises(NotFoundError):
        client_for(answer(404, {"detail": "no route"})).get_evaluation("x")
    fastapi_style = {"detail": [{"loc": ["body", "harnesses"], "msg": "Field required"}]}
    with pytest.raises(InvalidRequestError, match="body.harnesses: Field required"):
        client_for(answer(422, fastapi_style)).create_evaluation(harnesses=["security"])
    with pytest.raises(ServerError, match="upstream exploded"):
        client_for(answer(502, "upstream exploded")).get_results("x")
    with pytest.raises(AssayAPIError) as teapot:
        client_for(answer(418, {"detail": "short and stout"})).get_results("x")
    assert type(teapot.value) is AssayAPIError and teapot.value.status == 418


def test_ids_are_quoted_into_one_path_segment():
    seen: list[httpx.Request] = []
    client = client_for(answer(200, {"id": "a/b", "status": "running"}), seen=seen)
    client.cancel_evaluation("a/b")
    assert seen[0].url.raw_path == b"/v1/evaluations/a%2Fb/cancel"


def test_wait_sits_out_rate_limits_and_raises_on_failure():
    limited = answer(
        429, {"code": 429, "detail": "slow down", "type": "RateLimitExceededException"}
    )
    limited.headers["Retry-After"] = "0.05"
    failed = {"id": "e", "status": "failed", "error": "the model answered 401"}
    with pytest.raises(EvaluationFailedError, match="answered 401"):
        client_for(limited, answer(200, failed)).wait("e", timeout=5, poll_interval=0.01)
    with pytest.raises(RateLimitedError) as raised:
        client_for(limited).get_evaluation("e")
    assert raised.value.retry_after == 0.05


def test_no_answer_is_a_connection_error():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = Client("http://assay.test", "k", transport=httpx.MockTransport(refuse))
    with pytest.raises(APIConnectionError, match="connection refused"):
        client.list_evaluations()


def test_keys_stay_out_of_reprs_and_errors():
    seen: list[httpx.Request] = []
    client = client_for(
        answer(400, {"detail": "bad hub", "type": "InvalidRequestException"}), seen=seen
    )
    with pytest.raises(InvalidRequestError) as raised:
        client.create_evaluation(
            harnesses="security", model_hub="nope", model_name="m", api_key_value="sk-never-shown"
        )
    assert seen[0].headers["authorization"] == "Bearer assay_secret_key"
    assert json.loads(seen[0].content)["harnesses"] == ["security"]
    shown = " ".join(
        [repr(client), str(raised.value), repr(raised.value), repr(client._http.headers)]
    )
    assert "assay_secret_key" not in shown and "sk-never-shown" not in shown


def test_importing_the_client_loads_no_server_code():
    code = (
        "import sys, assay; assert 'httpx' not in sys.modules; assay.Client; "
        "bad = [m for m in ('fastapi', 'sqlalchemy', 'openai', 'anthropic', 'assay.core') "
        "if m in sys.modules]; print(bad)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert assay.Client is Client
