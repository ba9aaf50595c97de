"""`assay secrets rotate-key` as an operator runs it: a real server stores secrets in every
encrypted column, the real command re-encrypts them, and the server, restarted on the new
key, still opens them while the old key alone opens none."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select, update

from assay.core.errors import ConfigurationError
from assay.services.container import open_container
from assay.services.webhooks import org_webhook_secret
from assay.settings import Settings
from assay.store.db import create_engine
from assay.store.key_rotation import encrypted_columns
from assay.store.secrets import SecretBox, key_file, read_key_file, write_key_file
from assay.store.tables import Agent, Evaluation
from tests.factories import assay_env, make_settings, serve_assay
from tests.fakes.http_agent import HTTPAgent, serve_http_agent

pytestmark = pytest.mark.timeout(120)

AGENT_TOKEN = "agent-token-7e3a9c1b"
COLUMNS = {
    "organizations.webhook_secret_enc",
    "projects.llm_api_key_enc",
    "agents.secrets_enc",
    "evaluations.secrets_enc",
    "connectors.credentials_enc",
    "bench_secrets.value_enc",
}


@pytest.fixture
def http_agent() -> Iterator[HTTPAgent]:
    with serve_http_agent() as agent:
        yield agent


async def _evaluate(client: httpx.AsyncClient) -> None:
    """One evaluation of the agent: the server must decrypt its secret header to run it."""
    response = await client.post(
        "/eval-runs",
        json={
            "eval_type": "reliability",
            "input": "hi",
            "agent_id": "echo",
            "expected_tool_calls": ["multiply"],
        },
    )
    assert response.status_code == 200, response.text


async def _store_secrets(settings: Settings, agent: HTTPAgent) -> str:
    """A real server writes a secret into every encrypted column; returns the webhook secret."""
    with serve_assay(settings) as running:
        async with running.client(await running.key()) as client:
            for path, body in [
                (
                    "/v1/agents",
                    {
                        "id": "echo",
                        "kind": "http",
                        "config": {"url": agent.url},
                        "secrets": {"headers": {"Authorization": f"Bearer {AGENT_TOKEN}"}},
                    },
                ),
                (
                    "/api/v1/org/default/ws/default/secrets",
                    {"name": "SANDBOX_TOKEN", "value": "sandbox-token-4567"},
                ),
                (
                    "/api/projects/default/connectors",
                    {
                        "name": "c",
                        "type": "http",
                        "baseUrl": agent.url,
                        "credentials": {"apiKey": "conn-key-123456"},
                    },
                ),
            ]:
                response = await client.post(path, json=body)
                assert response.status_code == 201, response.text
            response = await client.put(
                "/api/projects/default", json={"llmSettings": {"apiKey": "sk-project-789"}}
            )
            assert response.status_code == 200, response.text
            await _evaluate(client)
        return await _webhook_secret(settings)


async def _webhook_secret(settings: Settings) -> str:
    container = await open_container(settings)
    try:
        return await org_webhook_secret(container, "default")
    finally:
        await container.aclose()


async def _tokens(settings: Settings) -> dict[str, list[str]]:
    """Every stored token, by column."""
    db = create_engine(settings.database_url)
    try:
        async with db.connect() as conn:
            return {
                f"{table.name}.{column.name}": list(
                    (await conn.execute(select(column).where(column.is_not(None)))).scalars()
                )
                for table, column in encrypted_columns()
            }
    finally:
        await db.dispose()


def _rotate(settings: Settings, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assay", "secrets", "rotate-key"],
        env=assay_env(settings, COLUMNS="200", **env),
        capture_output=True,
        text=True,
        timeout=100,
    )


def _assert_only_key_opens(tokens: dict[str, list[str]], key: str, old: str) -> None:
    assert set(tokens) == COLUMNS and all(tokens.values())
    for token in (t for column in tokens.values() for t in column):
        assert SecretBox(key).open(token)
        with pytest.raises(ConfigurationError):
            SecretBox(old).open(token)


async def _server_still_decrypts(settings: Settings, agent: HTTPAgent, webhook_secret: str) -> None:
    agent.requests.clear()
    with serve_assay(settings) as running:
        async with running.client(await running.key()) as client:
            await _evaluate(client)
    assert agent.requests and all(
        r.headers["authorization"] == f"Bearer {AGENT_TOKEN}" for r in agent.requests
    )
    assert await _webhook_secret(settings) == webhook_secret


async def test_a_key_file_is_rotated_in_one_run(
    tmp_path: Path, any_database_url: str, http_agent: HTTPAgent
):
    settings = make_settings(tmp_path, any_database_url)
    webhook_secret = await _store_secrets(settings, http_agent)
    (old,) = read_key_file(key_file(settings))
    count = sum(len(v) for v in (await _tokens(settings)).values())

    result = _rotate(settings)

    assert result.returncode == 0, result.stderr
    assert f"re-encrypted {count} of {count} stored secrets" in result.stdout
    (new,) = read_key_file(key_file(settings))
    assert new != old
    _assert_only_key_opens(await _tokens(settings), new, old)
    await _server_still_decrypts(settings, http_agent, webhook_secret)


async def test_an_interrupted_rotation_is_finished_by_the_next_run(
    tmp_path: Path, any_database_url: str, http_agent: HTTPAgent
):
    settings = make_settings(tmp_path, any_database_url)
    webhook_secret = await _store_secrets(settings, http_agent)
    path = key_file(settings)
    (old,) = read_key_file(path)
    # The state a crash leaves: the new key first in the file, the agents already re-encrypted,
    # and (to make it harder) one evaluation sealed under a key nobody configured.
    new, stranger = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    write_key_file(path, [new, old])
    db = create_engine(settings.database_url)
    try:
        async with db.begin() as conn:
            for agent_id, token in (await conn.execute(select(Agent.id, Agent.secrets_enc))).all():
                resealed = SecretBox(new, [old]).reseal(token)
                await conn.execute(
                    update(Agent).where(Agent.id == agent_id).values(secrets_enc=resealed)
                )
            first = (await conn.execute(select(Evaluation.id, Evaluation.secrets_enc))).first()
            assert first is not None
            await conn.execute(
                update(Evaluation)
                .where(Evaluation.id == first.id)
                .values(secrets_enc=SecretBox(stranger).seal({"target": {"k": "v"}}))
            )
    finally:
        await db.dispose()
    count = sum(len(v) for v in (await _tokens(settings)).values())

    stuck = _rotate(settings)

    assert stuck.returncode == 2
    assert "evaluations.secrets_enc" in stuck.stderr and "ASSAY_SECRET_KEY_PREVIOUS" in stuck.stderr
    assert read_key_file(path) == [new, old]  # both keys kept: nothing became unreadable

    before = await _tokens(settings)
    pending = sum(not SecretBox(new).is_current(t) for c in before.values() for t in c)

    done = _rotate(settings, ASSAY_SECRET_KEY_PREVIOUS=stranger)

    assert done.returncode == 0, done.stderr
    assert f"re-encrypted {pending} of {count} stored secrets" in done.stdout
    # Rows already under the new key (the agents) are detected and left as they were.
    assert (await _tokens(settings))["agents.secrets_enc"] == before["agents.secrets_enc"]
    assert read_key_file(path) == [new]
    _assert_only_key_opens(await _tokens(settings), new, old)
    await _server_still_decrypts(settings, http_agent, webhook_secret)


async def test_an_environment_key_is_rotated_in_two_runs(
    tmp_path: Path, any_database_url: str, http_agent: HTTPAgent
):
    old = Fernet.generate_key().decode()
    settings = make_settings(tmp_path, any_database_url, secret_key=old)
    webhook_secret = await _store_secrets(settings, http_agent)
    before = await _tokens(settings)
    count = sum(len(v) for v in before.values())

    proposal = _rotate(settings, ASSAY_SECRET_KEY=old)

    assert proposal.returncode == 0, proposal.stderr
    new = proposal.stdout.strip()
    assert proposal.stdout == new + "\n" and Fernet(new.encode())
    assert "ASSAY_SECRET_KEY_PREVIOUS" in proposal.stderr
    assert await _tokens(settings) == before  # the first run changes nothing
    assert not key_file(settings).exists()

    rotated = _rotate(settings, ASSAY_SECRET_KEY=new, ASSAY_SECRET_KEY_PREVIOUS=old)
    again = _rotate(settings, ASSAY_SECRET_KEY=new, ASSAY_SECRET_KEY_PREVIOUS=old)

    assert rotated.returncode == 0, rotated.stderr
    assert f"re-encrypted {count} of {count} stored secrets" in rotated.stdout
    assert "remove ASSAY_SECRET_KEY_PREVIOUS" in rotated.stdout
    assert f"re-encrypted 0 of {count} stored secrets" in again.stdout
    _assert_only_key_opens(await _tokens(settings), new, old)
    await _server_still_decrypts(
        settings.model_copy(update={"secret_key": SecretStr(new)}), http_agent, webhook_secret
    )
