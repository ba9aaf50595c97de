"""The task_benchmark kind through the real engine: real bwrap sandboxes, a real store.

Evaluations are created through the services and run by the in-process engine of a container
in the test's loop; the react agent talks to the fake OpenAI server over HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from assay.core.spec import EvaluationSpec, Limits, ModelRef, TargetSpec
from assay.kinds.task_benchmark import TaskBenchmarkKind
from assay.services import evaluations as evaluation_service
from assay.services.container import Container, open_container
from assay.services.runs import local_principal
from assay.settings import get_settings
from assay.store.repositories import events as event_rows
from assay.store.tables import Item
from tests.factories import make_settings
from tests.fakes.openai_server import FakeLLM, FakeReply
from tests.sandbox.test_bwrap_isolation import _processes_with

pytestmark = pytest.mark.timeout(90)

SECRET = "tok-" + uuid.uuid4().hex


@pytest.fixture
def sandbox_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The server's sandbox work root, set the way an operator sets it (the environment)."""
    root = tmp_path / "sandboxes"
    monkeypatch.setenv("ASSAY_SANDBOX_ROOT", str(root))
    get_settings.cache_clear()
    yield root
    get_settings.cache_clear()


@pytest.fixture
async def container(
    tmp_path: Path, sandbox_root: Path, fake_llm: FakeLLM
) -> AsyncIterator[Container]:
    opened = await open_container(make_settings(tmp_path, fake_llm=fake_llm))
    await opened.start_engine()
    try:
        yield opened
    finally:
        await opened.aclose()


async def _run(
    container: Container, secrets: dict[str, str] | None = None, **params: Any
) -> tuple[Any, list[Any]]:
    spec = EvaluationSpec(
        kind="task_benchmark",
        target=TargetSpec(kind="model", model=ModelRef.parse("mock/echo")),
        params=params,
        limits=Limits(item_timeout_s=60),
    )
    principal = await local_principal(container)
    view = await evaluation_service.create_evaluation(
        container, principal, spec, secrets={"tasks": secrets or {}}
    )
    done = await evaluation_service.wait_for_evaluation(container, principal, view.id, timeout=60)
    async with container.db.connect() as conn:
        rows = await conn.execute(
            select(Item).where(Item.evaluation_id == view.id).order_by(Item.seq)
        )
        items = list(rows.all())
    return done, items


async def _events(container: Container, item_id: str) -> list[Any]:
    async with container.db.connect() as conn:
        return list(await event_rows.item_events(conn, [item_id]))


SHIPPED = ["base64-once", "patch-sql-injection", "audit-timeline", "harden-sshd-config"]


async def test_the_oracle_passes_shipped_tasks_and_the_summary_has_the_analytics(
    container: Container, sandbox_root: Path
):
    done, items = await _run(container, dataset={"builtin": "security"}, task_names=SHIPPED)
    assert [i.state for i in items] == ["passed"] * 4
    summary = done.summary
    assert summary["overall"]["pass_rate"] == 1.0
    assert summary["overall"]["pass_rate_ci95"][1] == 1.0
    assert summary["overall"]["pass_rate_ci95"][0] < 1.0
    assert set(summary["by_capability"]) == {"encoding", "vuln-patch", "forensics", "config-audit"}
    assert summary["by_difficulty"]["easy"]["passed"] == 2
    for phase in ("sandbox_start", "provisioning", "agent", "verifying"):
        assert summary["durations_s"][phase]["n"] == 4
        assert summary["durations_s"][phase]["p50"] <= summary["durations_s"][phase]["p95"]
    assert summary["cleanup_failures"] == 0
    assert summary["infra_errors"] == 0
    assert list(sandbox_root.iterdir()) == []


def _inline_task(**overrides: Any) -> dict[str, Any]:
    task = {
        "name": "echo-token",
        "instruction": "Copy the API token into answer.txt.",
        "capability": "secrets",
        "difficulty": "easy",
        "files": {"readme.txt": "hello"},
        "solution": 'printf %s "$API_TOKEN" > answer.txt\n',
        "verifier": {
            "type": "test",
            "script": '[ -n "$API_TOKEN" ] && [ "$(cat answer.txt)" = "$API_TOKEN" ]\n',
        },
    }
    return task | overrides


async def test_the_command_agent_gets_the_instruction_and_secrets_and_the_trace_hides_them(
    container: Container,
):
    script = (
        "cat > stdin.txt; "
        'test "$(cat stdin.txt)" = "$ASSAY_TASK_INSTRUCTION" || exit 3; '
        'test -f readme.txt || exit 4; printf %s "$API_TOKEN" > answer.txt; echo "token $API_TOKEN"'
    )
    done, [item] = await _run(
        container,
        secrets={"API_TOKEN": SECRET},
        dataset={"tasks": [_inline_task()]},
        agent_type="command",
        task_config={"agent_command": ["sh", "-c", script]},
    )
    assert item.state == "passed", item.error
    events = await _events(container, item.id)
    [command] = [e for e in events if e.kind == "command"]
    assert command.payload["exit_code"] == 0
    assert "token " in command.payload["stdout"]
    stored = repr([e.payload for e in events]) + repr(item.outcome) + repr(done.summary)
    assert SECRET not in stored


async def test_an_agent_that_does_nothing_fails(container: Container):
    _, items = await _run(
        container,
        secrets={"API_TOKEN": SECRET},
        dataset={"tasks": [_inline_task()]},
        agent_type="command",
        task_config={"agent_command": ["true"]},
    )
    assert [i.state for i in items] == ["failed"]


async def test_an_agent_past_its_timeout_is_timed_out_and_leaves_no_process(
    container: Container, sandbox_root: Path
):
    token = f"assay-slow-agent-{uuid.uuid4().hex}"
    done, [item] = await _run(
        container,
        dataset={"tasks": [_inline_task()]},
        agent_type="command",
        task_config={"agent_command": ["python3", "-c", f"import time; time.sleep(60)  # {token}"]},
        task_timeout_sec=0.5,
    )
    assert item.state == "timed_out"
    assert done.summary["overall"]["scored"] == 1
    assert done.summary["overall"]["passed"] == 0
    assert _processes_with(token) == []
    assert list(sandbox_root.iterdir()) == []


async def test_a_crashing_agent_is_errored(container: Container):
    _, [item] = await _run(
        container,
        dataset={"tasks": [_inline_task()]},
        agent_type="command",
        task_config={"agent_command": ["/no/such/agent"]},
    )
    assert item.state == "errored"


async def test_a_sandbox_that_cannot_be_made_is_an_infra_error_not_a_failure(
    tmp_path: Path, sandbox_root: Path, fake_llm: FakeLLM
):
    sandbox_root.parent.mkdir(parents=True, exist_ok=True)
    sandbox_root.write_text("a file where the sandbox root should be")
    opened = await open_container(make_settings(tmp_path, fake_llm=fake_llm))
    await opened.start_engine()
    try:
        done, [item] = await _run(opened, dataset={"tasks": [_inline_task()]})
    finally:
        await opened.aclose()
    assert item.state == "infra_error"
    assert item.error["code"] == "sandbox_error"
    assert done.summary["infra_errors"] == 1
    assert done.summary["overall"]["scored"] == 0
    assert done.summary["overall"]["pass_rate"] is None


@pytest.mark.parametrize(
    ("policy", "agent", "kept"),
    [
        ("always", ["true"], False),
        ("never", ["true"], True),
        ("on_success", ["true"], True),
        ("on_success", ["sh", "-c", 'printf %s "$API_TOKEN" > answer.txt'], False),
    ],
)
async def test_cleanup_follows_the_policy(
    container: Container, sandbox_root: Path, policy: str, agent: list[str], kept: bool
):
    _, [item] = await _run(
        container,
        secrets={"API_TOKEN": SECRET},
        dataset={"tasks": [_inline_task()]},
        agent_type="command",
        task_config={"agent_command": agent},
        cleanup_policy=policy,
    )
    left = list(sandbox_root.iterdir())
    assert bool(left) == kept
    assert item.outcome["data"]["cleanup"] == {"failed": False, "error": None, "kept_files": kept}
    if kept:
        assert (left[0] / "readme.txt").read_text() == "hello"


def _call(name: str, **arguments: Any) -> FakeReply:
    return FakeReply(tool_calls=[{"name": name, "arguments": arguments}])


async def test_the_react_agent_solves_a_task_with_scripted_tool_calls(
    container: Container, fake_llm: FakeLLM
):
    fake_llm.push(
        _call("shell", command="base64 -d message.txt"),
        _call("read_file", path="message.txt"),
        _call("write_file", path="notes.txt", content="decoded"),
        _call("submit", answer="ASSAY{base64_is_not_encryption}"),
    )
    done, [item] = await _run(
        container,
        dataset={"builtin": "security"},
        task_names=["base64-once"],
        agent_type="react",
        model="openai/scripted",
    )
    assert item.state == "passed", item.error
    tools = [e.payload for e in await _events(container, item.id) if e.kind == "tool"]
    assert [t["tool"] for t in tools] == ["shell", "read_file", "write_file", "submit"]
    assert tools[0]["stdout"] == "ASSAY{base64_is_not_encryption}"
    assert tools[0]["exit_code"] == 0
    # The model saw the tool's output: the second request carries the shell result.
    second = fake_llm.requests[1]["messages"]
    assert any(m["role"] == "tool" and "base64_is_not_encryption" in m["content"] for m in second)
    assert fake_llm.requests[0]["tools"][0]["function"]["name"] == "shell"
    assert done.summary["usage"]["input_tokens"] == 40


async def test_the_react_agent_that_never_submits_fails(container: Container, fake_llm: FakeLLM):
    fake_llm.handler = lambda body: _call("shell", command="ls")
    _, [item] = await _run(
        container,
        dataset={"builtin": "security"},
        task_names=["base64-once"],
        agent_type="react",
        model="openai/scripted",
        max_steps=3,
    )
    assert item.state == "failed"
    assert item.outcome["data"]["agent"]["steps"] == 3


def test_the_item_view_names_a_queued_task_and_shows_a_finished_one():
    kind = TaskBenchmarkKind()
    queued = kind.item_view(None, [], {"task": _inline_task()})
    assert queued["task_name"] == "echo-token"
    assert queued["capability"] == "secrets"
    assert queued["reason"] is None and queued["verifier"] is None
    outcome = {
        "scores": [{"name": "task", "value": 0.0, "reason": "the test script exited 1"}],
        "trace": {"verifier": {"exit_code": 1}},
        "data": {"task": "echo-token", "difficulty": "hard", "timings": {"agent_s": 0.5}},
    }
    finished = kind.item_view(outcome, [], {"task": _inline_task()})
    assert finished["reason"] == "the test script exited 1"
    assert finished["verifier"] == {"exit_code": 1}
    assert finished["difficulty"] == "hard"
    assert finished["timings"] == {"agent_s": 0.5}


#: A Harbor-style verifier: it always exits 0 and decides through reward.txt.
_REWARD_VERIFIER = {
    "type": "test",
    "script": (
        'if [ "$(cat answer.txt 2>/dev/null)" = "right" ]; then echo 1 > reward.txt; '
        "else echo 0 > reward.txt; fi; exit 0\n"
    ),
}
#: Plants a passing reward and a fake verifier, makes them and the work directory read-only
#: (a root without capabilities cannot then replace them), and leaves a process behind that
#: kills any test script and rewrites the reward.
_TAMPER = (
    "echo 1 > reward.txt; chmod 444 reward.txt; "
    "mkdir -p .assay-tests && printf 'echo 1 > reward.txt\\n' > .assay-tests/test.sh; "
    "chmod -R 555 .assay-tests; chmod 555 .; "
    "setsid sh -c 'while :; do pkill -f test.sh; echo 1 > reward.txt; sleep 0.01; done' "
    ">/dev/null 2>&1 < /dev/null &"
)


@pytest.mark.parametrize(
    ("script", "state"), [(_TAMPER, "failed"), ("echo right > answer.txt", "passed")]
)
async def test_the_verifier_runs_apart_so_tampering_cannot_pass_a_task(
    container: Container, sandbox_root: Path, script: str, state: str
):
    """The attack works on a verifier in the agent's own sandbox (the planted read-only reward
    survives there); a fresh sandbox over a copy of the work directory defeats it."""
    _, [item] = await _run(
        container,
        dataset={"tasks": [_inline_task(verifier=_REWARD_VERIFIER, solution=None)]},
        agent_type="command",
        task_config={"agent_command": ["sh", "-c", script]},
    )
    assert item.state == state, item.outcome
    if state == "failed":
        assert item.outcome["scores"][0]["reason"] == "the test script wrote reward '0'"
    assert item.outcome["data"]["timings"]["verifier_start_s"] >= 0
    assert list(sandbox_root.iterdir()) == []
