"""Webhooks of terminal evaluations: signed, retried with backoff, recorded, and the CLI secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.trust_helpers import (
    create_harness,
    model_request,
    script_model,
    wait_for_deliveries,
    wait_for_status,
)
from tests.factories import make_settings, serve_assay
from tests.fakes.openai_server import FakeLLM
from tests.fakes.webhook_receiver import serve_webhook_receiver

pytestmark = pytest.mark.timeout(120)


def cli_secret(tmp_path: Path, org: str) -> str:
    """``assay webhooks secret --org ORG`` as an admin runs it, against the test's database."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "OPENAI_", "ANTHROPIC_"))
    }
    env |= {
        "ASSAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'assay.db'}",
        "ASSAY_DATA_DIR": str(tmp_path / "data"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "assay", "webhooks", "secret", "--org", org],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _settings(tmp_path: Path, fake_llm: FakeLLM, **overrides: object):
    return make_settings(tmp_path, fake_llm=fake_llm, webhook_backoff_seconds=0.05, **overrides)


async def test_completed_evaluation_posts_a_signed_webhook(tmp_path: Path, fake_llm: FakeLLM):
    script_model(fake_llm)
    with (
        serve_webhook_receiver() as receiver,
        serve_assay(_settings(tmp_path, fake_llm)) as running,
    ):
        async with running.client(await running.key("acme")) as client:
            await create_harness(client)
            created = await client.post(
                "/v1/evaluations",
                json=model_request(fake_llm, ["my-harness"], webhook_url=receiver.url),
            )
            evaluation_id = created.json()["id"]
            await wait_for_status(client, evaluation_id, "completed")
            [delivery] = await wait_for_deliveries(
                client, evaluation_id, lambda d: d and d[0]["status"] == "delivered"
            )
        await running.key("other-org")
        secret = cli_secret(tmp_path, "acme")
        assert cli_secret(tmp_path, "acme") == secret
        assert cli_secret(tmp_path, "other-org") != secret
    assert delivery["attempts"] == 1 and delivery["last_status_code"] == 200
    assert delivery["event"] == "evaluation.completed" and delivery["url"] == receiver.url
    [received] = receiver.received
    expected = "sha256=" + hmac.new(secret.encode(), received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(received.headers["x-assay-signature"], expected)
    assert received.headers["x-assay-event"] == "evaluation.completed"
    assert received.headers["x-assay-delivery"] == delivery["id"]
    body = json.loads(received.body)
    assert set(body) == {"event", "evaluation", "sent_at"}
    assert body["event"] == "evaluation.completed"
    evaluation = body["evaluation"]
    assert evaluation["id"] == evaluation_id and evaluation["kind"] == "harness"
    assert evaluation["status"] == "completed" and evaluation["security_score"] == 0.0
    assert evaluation["trust_score"] == pytest.approx(2 / 3, abs=1e-3)


async def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(
    tmp_path: Path, fake_llm: FakeLLM
):
    script_model(fake_llm)
    with (
        serve_webhook_receiver() as receiver,
        serve_assay(_settings(tmp_path, fake_llm)) as running,
    ):
        receiver.statuses.extend([500, 503])
        async with running.client(await running.key()) as client:
            await create_harness(client)
            created = await client.post(
                "/v1/evaluations",
                json=model_request(fake_llm, ["my-harness"], webhook_url=receiver.url),
            )
            evaluation_id = created.json()["id"]
            [delivery] = await wait_for_deliveries(
                client, evaluation_id, lambda d: d and d[0]["status"] == "delivered"
            )
    assert delivery["attempts"] == 3 and delivery["last_status_code"] == 200
    assert delivery["last_error"] is None and delivery["delivered_at"] is not None
    assert len(receiver.received) == 3
    # Every attempt is the same event under the same delivery id, each body signed anew.
    assert {r.headers["x-assay-delivery"] for r in receiver.received} == {delivery["id"]}


async def test_delivery_gives_up_after_the_maximum_attempts(tmp_path: Path, fake_llm: FakeLLM):
    script_model(fake_llm)
    settings = _settings(tmp_path, fake_llm, webhook_max_attempts=2)
    with serve_webhook_receiver() as receiver, serve_assay(settings) as running:
        receiver.statuses.extend([500, 500, 500])
        async with running.client(await running.key()) as client:
            await create_harness(client)
            created = await client.post(
                "/v1/evaluations",
                json=model_request(fake_llm, ["my-harness"], webhook_url=receiver.url),
            )
            [delivery] = await wait_for_deliveries(
                client, created.json()["id"], lambda d: d and d[0]["status"] == "failed"
            )
    assert delivery["attempts"] == 2 and delivery["last_status_code"] == 500
    assert "500" in delivery["last_error"] and len(receiver.received) == 2


async def test_cancelled_and_failed_evaluations_send_their_events(
    tmp_path: Path, fake_llm: FakeLLM
):
    with (
        serve_webhook_receiver() as receiver,
        serve_assay(_settings(tmp_path, fake_llm)) as running,
    ):
        async with running.client(await running.key()) as client:
            await create_harness(client)
            script_model(fake_llm, latency=2.0)
            slow = (
                await client.post(
                    "/v1/evaluations",
                    json=model_request(fake_llm, ["my-harness"], webhook_url=receiver.url),
                )
            ).json()
            await wait_for_status(client, slow["id"], "running")
            await client.post(f"/v1/evaluations/{slow['id']}/cancel")
            [cancelled] = await wait_for_deliveries(
                client, slow["id"], lambda d: d and d[0]["status"] == "delivered"
            )
            script_model(fake_llm, status=401)
            rejected = (
                await client.post(
                    "/v1/evaluations",
                    json=model_request(fake_llm, ["my-harness"], webhook_url=receiver.url),
                )
            ).json()
            [failed] = await wait_for_deliveries(
                client, rejected["id"], lambda d: d and d[0]["status"] == "delivered"
            )
    assert cancelled["event"] == "evaluation.cancelled"
    assert cancelled["payload"]["evaluation"]["status"] == "cancelled"
    assert failed["event"] == "evaluation.failed"
    assert failed["payload"]["evaluation"]["error"]["code"] == "invalid_api_key"
    events = sorted(json.loads(r.body)["event"] for r in receiver.received)
    assert events == ["evaluation.cancelled", "evaluation.failed"]


async def test_evaluations_without_a_webhook_url_have_no_deliveries(
    tmp_path: Path, fake_llm: FakeLLM
):
    script_model(fake_llm)
    with serve_assay(_settings(tmp_path, fake_llm)) as running:
        async with running.client(await running.key()) as client:
            await create_harness(client)
            created = (
                await client.post("/v1/evaluations", json=model_request(fake_llm, ["my-harness"]))
            ).json()
            await wait_for_status(client, created["id"], "completed")
            listed = (await client.get(f"/v1/evaluations/{created['id']}/webhooks")).json()
    assert listed == {"deliveries": []}


async def test_deleting_an_evaluation_deletes_its_deliveries(tmp_path: Path, fake_llm: FakeLLM):
    import sqlite3

    script_model(fake_llm)
    with (
        serve_webhook_receiver() as receiver,
        serve_assay(_settings(tmp_path, fake_llm)) as running,
    ):
        async with running.client(await running.key()) as client:
            await create_harness(client)
            created = (
                await client.post(
                    "/v1/evaluations",
                    json=model_request(fake_llm, ["my-harness"], webhook_url=receiver.url),
                )
            ).json()
            await wait_for_deliveries(
                client, created["id"], lambda d: d and d[0]["status"] == "delivered"
            )
            await client.delete(f"/v1/evaluations/{created['id']}")
    with sqlite3.connect(tmp_path / "assay.db") as db:
        left = db.execute(
            "select count(*) from webhook_deliveries where evaluation_id = ?", (created["id"],)
        ).fetchone()[0]
        items = db.execute(
            "select count(*) from items where evaluation_id = ?", (created["id"],)
        ).fetchone()[0]
    assert left == 0 and items == 0


async def test_the_secret_command_names_an_unknown_organization(tmp_path: Path):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "OPENAI_", "ANTHROPIC_"))
    }
    env |= {
        "ASSAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'assay.db'}",
        "ASSAY_DATA_DIR": str(tmp_path / "data"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "assay", "webhooks", "secret", "--org", "nobody"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "nobody" in result.stderr


async def test_trust_evaluation_webhook_and_quota_on_each_database(
    tmp_path: Path, fake_llm: FakeLLM, any_database_url: str
):
    script_model(fake_llm)
    settings = _settings(
        tmp_path, fake_llm, database_url=any_database_url, quota_daily_evaluations=1
    )
    with serve_webhook_receiver() as receiver, serve_assay(settings) as running:
        async with running.client(await running.key()) as client:
            await create_harness(client)
            created = await client.post(
                "/v1/evaluations",
                json=model_request(fake_llm, ["my-harness"], webhook_url=receiver.url),
            )
            assert created.status_code == 200, created.text
            evaluation_id = created.json()["id"]
            await wait_for_status(client, evaluation_id, "completed")
            [delivery] = await wait_for_deliveries(
                client, evaluation_id, lambda d: d and d[0]["status"] == "delivered"
            )
            over = await client.post(
                "/v1/evaluations", json=model_request(fake_llm, ["my-harness"])
            )
            deleted = await client.delete(f"/v1/evaluations/{evaluation_id}")
            gone = await client.get(f"/v1/evaluations/{evaluation_id}/webhooks")
    assert len(evaluation_id) == 41 and delivery["attempts"] == 1
    assert over.status_code == 429 and over.json()["type"] == "RateLimitExceededException"
    assert deleted.status_code == 200 and gone.status_code == 404
