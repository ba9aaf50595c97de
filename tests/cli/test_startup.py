"""What a one-item `assay run` loads: start-up is most of its time, and imports most of that."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeLLM

pytestmark = pytest.mark.timeout(120)

#: Modules `assay run` against an OpenAI-compatible agent has no use for (server, web UI,
#: SDKs, migrations on a new database, the HTML report, metrics, another database's dialect,
#: the rate-limit library when no rate is set).
UNNEEDED = [
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "alembic",
    "openai",
    "anthropic",
    "httpx",
    "prometheus_client",
    "sqlalchemy.dialects.postgresql",
    "rich.progress",
    "limits",
]

#: Runs the `assay` program in this process, then prints its exit code and what it imported.
PROGRAM = """
import json, sys
from assay.cli.main import app
sys.argv = ["assay", *sys.argv[1:]]
try:
    app()
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "loaded": [m for m in UNNEEDED if m in sys.modules]}))
"""


def test_a_local_run_on_a_new_database_loads_no_server_sdk_or_migration_code(
    tmp_path: Path, fake_llm: FakeLLM
):
    run = {
        "target": {"kind": "openai-chat", "config": {"base_url": fake_llm.url, "model": "m"}},
        "checks": [
            {"kind": "match", "params": {"cases": [{"input": "hi", "expected_output": "echo: hi"}]}}
        ],
    }
    (tmp_path / "run.yaml").write_text(json.dumps(run))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "OPENAI_"))}
    env |= {
        "ASSAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'assay.db'}",
        "ASSAY_DATA_DIR": str(tmp_path / "data"),
        "OPENAI_API_KEY": "test",
    }
    result = subprocess.run(
        [sys.executable, "-c", f"UNNEEDED = {UNNEEDED!r}\n{PROGRAM}", "run", "run.yaml"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report == {"code": 0, "loaded": []}, result.stdout
    assert len(fake_llm.requests) == 1
