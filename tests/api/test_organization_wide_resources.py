"""Organization-wide agents and harnesses: every key of the organization reads and runs them,
only an organization-wide admin key creates or deletes them, and no id is shadowed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assay.core.principal import Role
from tests.factories import make_settings, serve_assay
from tests.fakes.openai_server import FakeLLM

ORG = "acme"
PROBE = {"prompt": "Say hi", "detector": {"name": "refusal"}, "category": "safety"}


def _agent(agent_id: str, llm_url: str, **extra: Any) -> dict[str, Any]:
    config = {"base_url": llm_url, "model": "m"}
    return {"id": agent_id, "kind": "openai-chat", "config": config} | extra


def _harness(harness_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": harness_id, "name": harness_id, "probes": [PROBE]} | extra


#: Keys by name: (organization, role, workspace).
KEYS = {
    "admin": (ORG, Role.ADMIN, None),
    "member": (ORG, Role.MEMBER, None),
    "ws1_admin": (ORG, Role.ADMIN, "ws1"),
    "ws1_member": (ORG, Role.MEMBER, "ws1"),
    "ws1_reviewer": (ORG, Role.REVIEWER, "ws1"),
    "ws2_member": (ORG, Role.MEMBER, "ws2"),
    "other_org": ("evil", Role.ADMIN, None),
}


def _steps(url: str) -> list[tuple[str, str, str, dict[str, Any] | None, int, str | None]]:
    """(key, method, path, body, status, the answer's ``workspace`` when it is 201), in order."""
    return [
        ("admin", "POST", "/v1/agents", _agent("shared-agent", url), 201, None),
        ("admin", "POST", "/v1/harnesses", _harness("shared-harness"), 201, None),
        # Every key of the organization reads and runs them; another organization does not.
        ("ws1_reviewer", "GET", "/v1/agents/shared-agent", None, 200, None),
        ("ws2_member", "GET", "/v1/harnesses/shared-harness", None, 200, None),
        (
            "ws1_member",
            "POST",
            "/v1/evaluations",
            {"agent_id": "shared-agent", "harnesses": ["shared-harness"]},
            200,
            None,
        ),
        ("other_org", "GET", "/v1/agents/shared-agent", None, 404, None),
        ("other_org", "GET", "/v1/harnesses/shared-harness", None, 404, None),
        # Only an organization-wide admin key changes them.
        ("ws1_reviewer", "DELETE", "/v1/agents/shared-agent", None, 403, None),
        ("ws1_member", "DELETE", "/v1/agents/shared-agent", None, 403, None),
        ("ws1_admin", "DELETE", "/v1/agents/shared-agent", None, 403, None),
        ("member", "DELETE", "/v1/agents/shared-agent", None, 403, None),
        ("ws1_admin", "DELETE", "/v1/harnesses/shared-harness", None, 403, None),
        ("member", "DELETE", "/v1/harnesses/shared-harness", None, 403, None),
        ("member", "POST", "/v1/agents", _agent("member-agent", url), 201, "default"),
        ("ws1_admin", "POST", "/v1/harnesses", _harness("ws1-admins"), 201, "ws1"),
        # New resources go to the key's workspace, or to a workspace an org-wide key names.
        ("ws1_member", "POST", "/v1/agents", _agent("ws1-agent", url), 201, "ws1"),
        ("ws1_member", "POST", "/v1/harnesses", _harness("ws1-harness"), 201, "ws1"),
        ("ws1_member", "POST", "/v1/agents", _agent("x", url, workspace="ws2"), 403, None),
        ("member", "POST", "/v1/agents", _agent("ws2-agent", url, workspace="ws2"), 201, "ws2"),
        ("admin", "POST", "/v1/agents", _agent("y", url, workspace="nowhere"), 422, None),
        ("ws1_member", "GET", "/v1/agents/ws2-agent", None, 404, None),
        ("ws2_member", "GET", "/v1/agents/ws2-agent", None, 200, None),
        # An id names one agent (harness) in the organization: nobody shadows another's.
        ("ws1_member", "POST", "/v1/agents", _agent("shared-agent", url), 409, None),
        ("ws2_member", "POST", "/v1/harnesses", _harness("shared-harness"), 409, None),
        ("admin", "POST", "/v1/agents", _agent("ws1-agent", url), 409, None),
        ("admin", "POST", "/v1/harnesses", _harness("ws1-harness"), 409, None),
        ("admin", "DELETE", "/v1/agents/shared-agent", None, 204, None),
        ("admin", "DELETE", "/v1/harnesses/shared-harness", None, 204, None),
        ("ws1_member", "GET", "/v1/agents/shared-agent", None, 404, None),
    ]


async def test_organization_wide_resources_are_shared_but_changed_only_by_org_admins(
    tmp_path: Path, fake_llm: FakeLLM, any_database_url: str
):
    settings = make_settings(tmp_path, database_url=any_database_url, fake_llm=fake_llm)
    with serve_assay(settings, run_workers=False) as assay:
        keys = {name: await assay.key(o, r, workspace=w) for name, (o, r, w) in KEYS.items()}
        wrong = []
        for key, method, path, body, status, workspace in _steps(fake_llm.url):
            async with assay.client(keys[key]) as client:
                response = await client.request(method, path, json=body)
            step = f"{key} {method} {path} {body and body.get('id')}"
            if response.status_code != status:
                wrong.append(f"{step}: {response.status_code} {response.text[:200]}")
            elif status == 201 and response.json()["workspace"] != workspace:
                wrong.append(f"{step}: filed in {response.json()['workspace']!r}")
        assert not wrong, "\n".join(wrong)


async def test_an_unknown_workspace_names_the_field(tmp_path: Path, fake_llm: FakeLLM):
    with serve_assay(make_settings(tmp_path, fake_llm=fake_llm), run_workers=False) as assay:
        async with assay.client(await assay.key(ORG)) as admin:
            response = await admin.post(
                "/v1/agents", json=_agent("a", fake_llm.url, workspace="nowhere")
            )
            listed = (await admin.get("/v1/agents")).json()
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["workspace"]
    assert "nowhere" in response.json()["detail"] and listed["total"] == 0
