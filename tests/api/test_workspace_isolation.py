"""Every tenant resource, by every verb of every API surface, stays inside its workspace.

A member of workspace ``ws1`` of organization ``acme`` owns one of everything: an agent, a
custom harness, a native evaluation, an eval run, and in its project (seed 004) a connector,
a persona, a scenario, an eval and its runs. ``CASES`` is one request per resource and verb,
with the status the owner gets. The property, for each caller:

- ``owner``: every request in order gets its status (so each request is well-formed and
  addresses a real resource, and a 404 below means isolation, not a typo);
- ``other_org`` (an admin of another organization) and ``other_workspace`` (an admin of
  ``acme``'s ``ws2``): every request is 404, lists answer without the owner's ids, and
  afterwards the owner finds everything unchanged;
- ``reviewer`` (a reviewer of ``ws1``): every write is 403, and nothing changed.

The engine does not run (``run_workers=False``): the property is about who may see and
change what, and pending evaluations are enough for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from assay.core.principal import Role
from tests.factories import RunningAssay, make_settings, serve_assay
from tests.fakes.openai_server import FakeLLM

ORG, WS1, WS2 = "acme", "ws1", "ws2"
#: Written by every hostile request; the owner must never see it.
MARK = "pwned"


@dataclass(frozen=True)
class Case:
    method: str
    #: Formatted with the owner's ids (``{agent}``, ``{project}``, ...).
    path: str
    body: dict[str, Any] | None = None
    #: The owner's status.
    owner: int = 200
    #: For a list of the whole key's scope: the id an outsider's 200 answer must not hold.
    hides: str | None = None
    #: What an outsider gets; 404 except where the API ignores ids it cannot see.
    outsider: int = 404

    @property
    def write(self) -> bool:
        return self.method != "GET"

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


PROJECT = "/api/projects/{project}"
CASES = [
    # -- reads --
    Case("GET", "/v1/agents/{agent}"),
    Case("GET", "/v1/agents", hides="{agent}"),
    Case("GET", "/v1/harnesses/{harness}"),
    Case("GET", "/v1/harnesses", hides="{harness}"),
    Case("GET", "/v1/evaluations/{evaluation}"),
    Case("GET", "/v1/evaluations/{evaluation}/results", owner=409),
    Case("GET", "/v1/evaluations/{evaluation}/webhooks"),
    Case("GET", "/v1/evaluations", hides="{evaluation}"),
    Case("GET", "/eval-runs/{eval_run}"),
    Case("GET", "/eval-runs", hides="{eval_run}"),
    Case("GET", "/api/projects", hides="{project}"),
    Case("GET", PROJECT),
    Case("GET", PROJECT + "/connectors"),
    Case("GET", PROJECT + "/connectors/{connector}"),
    Case("GET", PROJECT + "/personas"),
    Case("GET", PROJECT + "/personas/{persona}"),
    Case("GET", PROJECT + "/scenarios"),
    Case("GET", PROJECT + "/scenarios/{scenario}"),
    Case("GET", PROJECT + "/evals"),
    Case("GET", PROJECT + "/evals/{eval}"),
    Case("GET", PROJECT + "/evals/{eval}/matrix"),
    Case("GET", PROJECT + "/evals/{eval}/runs"),
    Case("GET", PROJECT + "/runs"),
    Case("GET", PROJECT + "/runs/{run}"),
    # -- uses: creating something that refers to the owner's resources --
    Case("POST", "/v1/evaluations", {"agent_id": "{agent}", "harnesses": ["security"]}),
    Case(
        "POST",
        "/v1/evaluations",
        {"model_hub": "openai", "model_name": "m", "harnesses": ["{harness}"]},
    ),
    Case(
        "POST",
        "/eval-runs",
        {"eval_type": "accuracy", "input": "q", "expected_output": "a", "agent_id": "{agent}"},
        owner=202,
    ),
    Case(
        "POST",
        PROJECT + "/connectors",
        {
            "name": MARK,
            "type": "langgraph",
            "baseUrl": "http://127.0.0.1:9",
            "config": {"assistantId": "a"},
        },
        owner=201,
    ),
    Case("POST", PROJECT + "/personas", {"name": MARK, "description": MARK}, owner=201),
    Case(
        "POST",
        PROJECT + "/scenarios",
        {"name": MARK, "instructions": MARK, "personaIds": ["{persona}"]},
        owner=201,
    ),
    Case(
        "POST",
        PROJECT + "/evals",
        {"name": MARK, "connectorId": "{connector}", "scenarioIds": ["{scenario}"]},
        owner=201,
    ),
    Case("POST", PROJECT + "/evals/{eval}/runs", {}, owner=201),
    # -- changes --
    Case("PATCH", "/eval-runs/{eval_run}", {"name": MARK}),
    Case("PUT", PROJECT, {"name": MARK}),
    Case("PUT", PROJECT + "/connectors/{connector}", {"name": MARK}),
    Case("PUT", PROJECT + "/personas/{persona}", {"name": MARK}),
    Case("PUT", PROJECT + "/scenarios/{scenario}", {"name": MARK}),
    Case("PUT", PROJECT + "/evals/{eval}", {"name": MARK}),
    Case("POST", "/v1/evaluations/{evaluation}/cancel"),
    # -- deletes, the ones others depend on last --
    Case("DELETE", "/eval-runs", {"eval_run_ids": ["{eval_run}"]}, owner=204, outsider=204),
    Case("DELETE", "/v1/evaluations/{evaluation}"),
    Case("DELETE", PROJECT + "/evals/{eval}", owner=204),
    # Still in use by the scenario and eval that the creates above made: found, and refused.
    Case("DELETE", PROJECT + "/scenarios/{scenario}", owner=409),
    Case("DELETE", PROJECT + "/personas/{persona}", owner=409),
    Case("DELETE", PROJECT + "/connectors/{connector}", owner=409),
    Case("DELETE", "/v1/harnesses/{harness}", owner=204),
    Case("DELETE", "/v1/agents/{agent}", owner=204),
]


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


async def _send(client: httpx.AsyncClient, case: Case, ids: dict[str, str]) -> httpx.Response:
    return await client.request(
        case.method,
        _fill(case.path, ids),
        json=_fill(case.body, ids) if case.body is not None else None,
    )


async def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201, 202), response.text
    body = response.json()
    return dict(body[0] if isinstance(body, list) else body)


async def _owners_world(owner: httpx.AsyncClient, llm_url: str) -> dict[str, str]:
    """One of everything, made by the owner; returns their ids by name."""
    agent = await owner.post(
        "/v1/agents",
        json={
            "id": "ws1-agent",
            "kind": "openai-chat",
            "config": {"base_url": llm_url, "model": "m"},
            "secrets": {"api_key": "sk-ws1"},
        },
    )
    probe = {"prompt": "Say hi", "detector": {"name": "refusal"}, "category": "safety"}
    harness = await owner.post(
        "/v1/harnesses", json={"id": "ws1-harness", "name": "ws1 probes", "probes": [probe]}
    )
    ids = {"agent": (await _created(agent))["id"], "harness": (await _created(harness))["id"]}
    evaluation = await owner.post(
        "/v1/evaluations", json={"agent_id": ids["agent"], "harnesses": [ids["harness"]]}
    )
    eval_run = await owner.post(
        "/eval-runs",
        json={
            "eval_type": "accuracy",
            "input": "q",
            "expected_output": "a",
            "agent_id": "ws1-agent",
        },
    )
    ids |= {
        "evaluation": (await _created(evaluation))["id"],
        "eval_run": (await _created(eval_run))["id"],
    }
    projects = (await owner.get("/api/projects")).json()
    assert len(projects) == 1, projects
    ids["project"] = project = projects[0]["id"]
    base = f"/api/projects/{project}"
    connector = await owner.post(
        f"{base}/connectors",
        json={
            "name": "bot",
            "type": "langgraph",
            "baseUrl": "http://127.0.0.1:9",
            "config": {"assistantId": "a"},
        },
    )
    persona = await owner.post(f"{base}/personas", json={"name": "Ann", "description": "A user"})
    ids |= {
        "connector": (await _created(connector))["id"],
        "persona": (await _created(persona))["id"],
    }
    scenario = await owner.post(
        f"{base}/scenarios",
        json={"name": "Cancel", "instructions": "Cancel it", "personaIds": [ids["persona"]]},
    )
    ids["scenario"] = (await _created(scenario))["id"]
    eval_ = await owner.post(
        f"{base}/evals",
        json={"name": "Booking", "connectorId": ids["connector"], "scenarioIds": [ids["scenario"]]},
    )
    ids["eval"] = (await _created(eval_))["id"]
    run = await owner.post(f"{base}/evals/{ids['eval']}/runs", json={})
    ids["run"] = (await _created(run))["id"]
    return ids


async def _assert_untouched(owner: httpx.AsyncClient, ids: dict[str, str]) -> None:
    """The owner still reads every resource as before, and no hostile write landed."""
    for case in CASES:
        if case.write:
            continue
        response = await _send(owner, case, ids)
        assert response.status_code == case.owner, f"{case}: {response.text}"
        assert MARK not in response.text, f"{case}: a hostile write landed: {response.text}"


def _key_of(caller: str) -> tuple[str, Role, str | None]:
    return {
        "other_org": ("evil", Role.ADMIN, None),
        "other_workspace": (ORG, Role.ADMIN, WS2),
        "reviewer": (ORG, Role.REVIEWER, WS1),
    }[caller]


@pytest.mark.parametrize("caller", ["owner", "other_org", "other_workspace", "reviewer"])
async def test_every_resource_and_verb_is_isolated(
    caller: str, tmp_path: Path, fake_llm: FakeLLM, any_database_url: str
):
    settings = make_settings(
        tmp_path, database_url=any_database_url, fake_llm=fake_llm, eval_run_wait_seconds=0.05
    )
    with serve_assay(settings, run_workers=False) as assay:
        await _check_caller(assay, caller, fake_llm.url)


async def _check_caller(assay: RunningAssay, caller: str, llm_url: str) -> None:
    owner_key = await assay.key(ORG, Role.MEMBER, workspace=WS1)
    async with assay.client(owner_key) as owner:
        ids = await _owners_world(owner, llm_url)
        if caller == "owner":
            wrong = [
                f"{case}: {r.status_code} {r.text[:200]}"
                for case in CASES
                if (r := await _send(owner, case, ids)).status_code != case.owner
            ]
            assert not wrong, "\n".join(wrong)
            return
        org, role, workspace = _key_of(caller)
        async with assay.client(await assay.key(org, role, workspace=workspace)) as other:
            wrong = []
            for case in CASES:
                if caller == "reviewer" and not case.write:
                    continue
                response = await _send(other, case, ids)
                expected = 403 if caller == "reviewer" else case.outsider
                if case.hides is not None and caller != "reviewer":
                    expected = 200
                    if _fill(case.hides, ids) in response.text:
                        wrong.append(f"{case}: lists the owner's {case.hides}")
                if response.status_code != expected:
                    wrong.append(f"{case}: {response.status_code} {response.text[:200]}")
            assert not wrong, "\n".join(wrong)
        await _assert_untouched(owner, ids)
