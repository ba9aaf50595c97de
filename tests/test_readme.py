"""The README's commands and files, run as a newcomer would, so the README cannot drift.

Every fenced block of README.md is preceded by a marker comment that says what it is:

- ``<!-- readme: run -->``: shell commands, run offline in a fresh directory; they must exit 0.
- ``<!-- readme: file NAME -->``: the contents of NAME, written before the commands run.
- ``<!-- readme: server -->``: the set-up of a live server; its ``assay serve`` line is
  started in the background (on a free port), its other lines run first and what they
  export is seen by the blocks that use the server.
- ``<!-- readme: with-server expect=TEXT -->``: commands against that server (its
  ``127.0.0.1:8000`` becomes the free port); they must exit 0 and print TEXT.
- ``<!-- readme: output -->``: what a command prints, or a diagram; nothing to run.
- ``<!-- readme: skip: REASON -->``: needs what the test machine lacks (a key, a service,
  ids to fill in) or runs for long; the reason says what, and where it is tested instead.

A block without a marker fails the test, so no example is left out silently.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.factories import free_port

pytestmark = pytest.mark.timeout(300)

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
_FENCE = re.compile(r"^(\s*)```")
_MARKER = re.compile(r"^\s*<!-- readme: (.+?) -->\s*$")
_KINDS = ("run", "file", "server", "with-server", "output", "skip:")


@dataclass
class Block:
    line: int
    marker: str
    text: str

    @property
    def kind(self) -> str:
        return self.marker.split()[0]

    @property
    def argument(self) -> str:
        return self.marker.partition(" ")[2].strip()


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
        blocks.append(Block(start + 1, marker.group(1) if marker else "", "\n".join(body)))
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
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_every_readme_block_says_what_it_is():
    unmarked = [b.line for b in readme_blocks() if not b.marker.startswith(_KINDS)]
    assert not unmarked, f"README blocks without a <!-- readme: ... --> marker, lines {unmarked}"
    for block in readme_blocks():
        if block.kind == "skip:":
            assert block.argument, f"README line {block.line}: a skip says why"
        if block.kind in ("file", "with-server"):
            assert block.argument, f"README line {block.line}: {block.kind} needs its argument"


def test_readme_commands_and_files_work_offline(tmp_path: Path):
    blocks = readme_blocks()
    for block in blocks:
        if block.kind == "file":
            (tmp_path / block.argument).write_text(block.text + "\n")
    env = _env(tmp_path)
    runs = [b for b in blocks if b.kind == "run"]
    assert runs
    for block in runs:
        result = _bash(block.text, tmp_path, env)
        assert result.returncode == 0, f"README line {block.line}:\n{result.stdout}{result.stderr}"


def test_readme_server_examples_work_against_a_live_server(tmp_path: Path):
    blocks = readme_blocks()
    [setup] = [b for b in blocks if b.kind == "server"]
    port = free_port()
    env = _env(tmp_path)
    lines = setup.text.splitlines()
    serve = [line for line in lines if line.startswith("assay serve")]
    assert len(serve) == 1, setup.text
    exported = tmp_path / "exported.sh"
    prepared = _bash(
        "\n".join(line for line in lines if line not in serve) + f"\nexport -p > {exported}",
        tmp_path,
        env,
    )
    assert prepared.returncode == 0, prepared.stdout + prepared.stderr
    command = serve[0].split("#")[0].split() + ["--port", str(port)]
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(port, server)
        for block in (b for b in blocks if b.kind == "with-server"):
            script = f". {exported}\n" + block.text.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
            result = _bash(script, tmp_path, env)
            output = result.stdout + result.stderr
            assert result.returncode == 0, f"README line {block.line}:\n{output}"
            expected = block.argument.removeprefix("expect=")
            assert expected in result.stdout, f"README line {block.line}:\n{output}"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _wait_healthy(port: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        assert server.poll() is None, "assay serve exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("assay serve did not become healthy")
