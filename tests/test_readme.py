"""The README's commands and files, run as a newcomer would, so the README cannot drift.

Every fenced block of README.md is preceded by a marker comment that says what it is:

- ``<!-- readme: run -->``: shell commands (or a ``python`` block), run offline in a fresh
  directory that holds a copy of the repository's ``examples/``, as a clone would; they must
  exit 0.
- ``<!-- readme: file NAME -->``: the contents of NAME, written before the commands run.
- ``<!-- readme: background URL [needs=SERVICE ...] -->``: its last line runs until stopped
  (``assay serve``, ``assay view``) after the lines before it, in one shell; it gets a free
  port (``--port`` is added and URL's port swapped), must answer URL with a 200, and is
  stopped, with whatever it started. ``needs=redis`` or ``needs=postgresql``: it skips when
  that service is not on 127.0.0.1, and fails under ``ASSAY_REQUIRE_SERVICES=1`` (as on CI);
  the README's database ``postgresql+asyncpg://postgres@127.0.0.1:5432/assay`` becomes a
  fresh one.
- ``<!-- readme: server -->``: the set-up of a live server; its ``assay serve`` line is
  started in the background (on a free port) after its other lines ran, with what they
  export.
- ``<!-- readme: with-server expect=TEXT -->``: commands (or a ``python`` block) against that
  server, in README order and as if pasted into one shell: what the server's set-up exports
  and what an earlier block defines (variables, functions, files) a later one sees. They must
  exit 0 and print TEXT.
- ``<!-- readme: output -->``: what a command prints, or a diagram; nothing to run.
- ``<!-- readme: skip: REASON -->``: needs what the test machine lacks (a key, a service,
  Docker) or runs for long; the reason says what, and where it is tested instead.

In every block that runs, ``127.0.0.1:8000`` (the server), ``127.0.0.1:11434`` (the model
server the README's examples evaluate, Ollama's address) and ``127.0.0.1:8900`` (the README's
webhook receiver) become the test's own (see ``_local``): the live server's port, the fake
OpenAI-compatible server, which also stands in for OpenAI (``OPENAI_BASE_URL``) for the
blocks that use the server, and a free port. ``run`` blocks get no key at all.

A block without a marker fails the test, so no example is left out silently.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.factories import free_port, postgres_reachable, redis_reachable
from tests.factories import fresh_postgres_database as fresh_database
from tests.fakes.openai_server import FakeLLM

pytestmark = pytest.mark.timeout(300)

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
_FENCE = re.compile(r"^(\s*)```(\w*)")
_MARKER = re.compile(r"^\s*<!-- readme: (.+?) -->\s*$")
_KINDS = ("run", "file", "background", "server", "with-server", "output", "skip:")
_SERVER = "127.0.0.1:8000"
_MODEL_SERVER = "127.0.0.1:11434"
_RECEIVER = "127.0.0.1:8900"
_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/assay"
_SERVICES = {"redis": redis_reachable, "postgresql": postgres_reachable}


@dataclass
class Block:
    line: int
    marker: str
    text: str
    language: str = ""

    @property
    def kind(self) -> str:
        return self.marker.split()[0]

    @property
    def argument(self) -> str:
        return self.marker.partition(" ")[2].strip()

    def script(self, local: dict[str, str]) -> str:
        """The block as bash runs it, with the README's addresses replaced by LOCAL's."""
        text = self.text
        for address, replacement in local.items():
            text = text.replace(address, replacement)
        if self.language == "python":
            return f"python - <<'README_PYTHON'\n{text}\nREADME_PYTHON"
        return text


def _local(fake_llm: FakeLLM, **addresses: str) -> dict[str, str]:
    """The README's addresses and what they are in this test: the model server is the fake
    one, and each of ADDRESSES (``server``, ``receiver``, ``database``) replaces its own."""
    names = {"server": _SERVER, "receiver": _RECEIVER, "database": _DATABASE}
    model_server = fake_llm.url.removeprefix("http://").removesuffix("/v1")
    return {_MODEL_SERVER: model_server} | {names[k]: v for k, v in addresses.items()}


def readme_blocks() -> list[Block]:
    """Every fenced block with the marker line before it ('' when there is none)."""
    lines = README.read_text().splitlines()
    blocks: list[Block] = []
    n = 0
    while n < len(lines):
        opened = _FENCE.match(lines[n])
        if not opened:
            n += 1
            continue
        indent = len(opened.group(1))
        start = n
        n += 1
        body: list[str] = []
        while not _FENCE.match(lines[n]):
            body.append(lines[n][indent:])
            n += 1
        marker = _MARKER.match(lines[start - 1]) if start else None
        text = "\n".join(body)
        blocks.append(Block(start + 1, marker.group(1) if marker else "", text, opened.group(2)))
        n += 1
    return blocks


def _env(tmp_path: Path) -> dict[str, str]:
    """A newcomer's shell: the venv's commands on PATH, no keys, a database of its own."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "OPENAI_", "ANTHROPIC_"))
    }
    return env | {
        "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
        "ASSAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'assay.db'}",
        "ASSAY_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "160",
    }


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """As a reader's shell runs it, but stopping at the first failure (no pipefail: a
    README's ``... | grep -q`` may end a pipe early, as it does in any shell). Whatever it
    left running in the background is stopped with it."""
    with subprocess.Popen(
        ["bash", "-eu", "-c", script],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=240)
        finally:
            _stop_group(process)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _stop_group(process: subprocess.Popen[str]) -> None:
    """Stop the process and everything it started (its own session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def test_every_readme_block_says_what_it_is():
    unmarked = [b.line for b in readme_blocks() if not b.marker.startswith(_KINDS)]
    assert not unmarked, f"README blocks without a <!-- readme: ... --> marker, lines {unmarked}"
    for block in readme_blocks():
        if block.kind == "skip:":
            assert block.argument, f"README line {block.line}: a skip says why"
        if block.kind in ("file", "with-server", "background"):
            assert block.argument, f"README line {block.line}: {block.kind} needs its argument"
        if block.kind == "background":
            options = block.argument.split()[1:]
            known = [o for o in options if o.removeprefix("needs=") in _SERVICES]
            assert options == known, f"README line {block.line}: needs= one of {list(_SERVICES)}"


def _write_files(blocks: list[Block], directory: Path) -> None:
    """The README's files, and the repository's ``examples/`` as a clone has them."""
    shutil.copytree(REPO / "examples", directory / "examples")
    for block in (b for b in blocks if b.kind == "file"):
        path = directory / block.argument
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.text + "\n")


def test_readme_commands_and_files_work_offline(tmp_path: Path, fake_llm: FakeLLM):
    blocks = readme_blocks()
    _write_files(blocks, tmp_path)
    env = _env(tmp_path)
    runs = [b for b in blocks if b.kind == "run"]
    assert runs
    for block in runs:
        result = _bash(block.script(_local(fake_llm)), tmp_path, env)
        assert result.returncode == 0, f"README line {block.line}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize(
    "block", [b for b in readme_blocks() if b.kind == "background"], ids=lambda b: f"line{b.line}"
)
async def test_readme_commands_that_run_until_stopped_answer(
    block: Block, tmp_path: Path, fake_llm: FakeLLM
) -> None:
    url, *options = block.argument.split()
    needs = [o.removeprefix("needs=") for o in options]
    for service in needs:
        if not _SERVICES[service]():
            if os.environ.get("ASSAY_REQUIRE_SERVICES") == "1":
                pytest.fail(f"README line {block.line} needs {service} (ASSAY_REQUIRE_SERVICES=1)")
            pytest.skip(f"README line {block.line} needs {service} on 127.0.0.1")
    async with contextlib.AsyncExitStack() as stack:
        local = _local(fake_llm)
        if "postgresql" in needs:
            local = _local(fake_llm, database=await stack.enter_async_context(fresh_database()))
        _answer_until_stopped(block, local, url, tmp_path)


def _answer_until_stopped(block: Block, local: dict[str, str], url: str, tmp_path: Path) -> None:
    port = free_port()
    url = re.sub(r"(//[^/:]+):\d+", rf"\g<1>:{port}", url, count=1)
    *before, command = block.script(local).strip().splitlines()
    script = "\n".join([*before, f"{command.split('#')[0].strip()} --port {port}"])
    log_path = tmp_path / "background.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            ["bash", "-eu", "-c", script],
            cwd=tmp_path,
            env=_env(tmp_path),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            _wait_answering(url, process, log_path)
        finally:
            _stop_group(process)


def test_readme_server_examples_work_against_a_live_server(tmp_path: Path, fake_llm: FakeLLM):
    blocks = readme_blocks()
    [setup] = [b for b in blocks if b.kind == "server"]
    port = free_port()
    _write_files(blocks, tmp_path)
    env = _env(tmp_path) | {"OPENAI_API_KEY": "sk-readme-fake", "OPENAI_BASE_URL": fake_llm.url}
    local = _local(fake_llm, server=f"127.0.0.1:{port}", receiver=f"127.0.0.1:{free_port()}")
    lines = setup.script(local).splitlines()
    serve = [line for line in lines if line.startswith("assay serve")]
    assert len(serve) == 1, setup.text
    shell = tmp_path / "shell.sh"
    prepared = _bash(
        "\n".join(line for line in lines if line not in serve) + f"\nexport -p > {shell}",
        tmp_path,
        env,
    )
    assert prepared.returncode == 0, prepared.stdout + prepared.stderr
    command = serve[0].split("#")[0].strip() + f" --port {port}"
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            ["bash", "-c", f". {shell}\nexec {command}"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            _wait_answering(f"http://127.0.0.1:{port}/healthz", server, log_path)
            for block in (b for b in blocks if b.kind == "with-server"):
                result = _bash(_in_one_shell(block.script(local), shell), tmp_path, env)
                output = result.stdout + result.stderr
                assert result.returncode == 0, f"README line {block.line}:\n{output}"
                expected = block.argument.removeprefix("expect=")
                assert expected in result.stdout, f"README line {block.line}:\n{output}"
        finally:
            server.terminate()
            server.wait(timeout=30)


def _in_one_shell(script: str, state: Path) -> str:
    """SCRIPT run with the variables and functions the blocks before it left in STATE, and
    leaving its own there for the next."""
    return f". {state}\nset -a\n{script}\nset +a\n{{ export -p; declare -f; }} > {state}"


def _wait_answering(url: str, process: subprocess.Popen[str], log: Path) -> None:
    """Until URL answers 200; a process that exits first fails with its output."""
    for _ in range(600):
        assert process.poll() is None, f"exited before {url} answered:\n{log.read_text()}"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer 200:\n{log.read_text()}")
