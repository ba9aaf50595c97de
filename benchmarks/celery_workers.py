"""Items per second and CPU per item: the in-process engine beside 1, 2 and 4 Celery workers.

One fake OpenAI-compatible server (``fake_openai.py``, its own process) answers a ``match``
evaluation of N cases, each one chat completion. Every configuration runs in the same
invocation on the same fresh PostgreSQL database, in interleaved rounds (each round runs
every configuration once, so a change of the machine's load reaches all of them alike), and
each figure is reported as min / median / max over the rounds:

- **inprocess**: this process's in-process engine (``ASSAY_WORKERS`` slots) runs the items;
- **celery-K**: this process publishes item ids to Redis (the server's side) and K
  `assay worker` processes (``slots`` each) run them.

Wall time runs from the evaluation's creation to its stored summary. CPU is this process's
plus, for Celery, every worker process's user+system time over the same span (read from
``/proc``), so the Celery figures include the broker round trips, the claims by id and the
publishing. Workers are started (and warmed up on a first evaluation) before timing.

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and Redis on 127.0.0.1:6379::

    .venv/bin/python benchmarks/celery_workers.py [--n 1000] [--slots 50] [--latency 0.05]
        [--rounds 3] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from orchestration import WARMUP, match_spec, start_server, stop_process  # noqa: E402

REDIS = "redis://127.0.0.1:6379/0"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def fresh_database() -> str:
    import asyncpg

    name = f"assay_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(host="127.0.0.1", user="postgres", database="postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def timed_evaluation(container: Any, url: str, n: int, pids: list[int]) -> dict[str, Any]:
    from assay.services.evaluations import create_evaluation, wait_for_evaluation
    from assay.services.runs import local_principal

    principal = await local_principal(container)
    spec = match_spec(url, n)
    secrets = {"target": {"api_key": "bench"}}
    cpu_start = time.process_time() + sum(cpu_seconds(p) for p in pids)
    wall_start = time.perf_counter()
    view = await create_evaluation(container, principal, spec, secrets=secrets)
    view = await wait_for_evaluation(container, principal, view.id, timeout=600)
    wall = time.perf_counter() - wall_start
    cpu = time.process_time() + sum(cpu_seconds(p) for p in pids) - cpu_start
    counts = (view.summary or {}).get("counts", {})
    return {"wall_s": wall, "cpu_s": cpu, "passed": counts.get("passed", 0), "n": n}


async def run_config(
    url: str, database_url: str, tmp: Path, workers: int, n: int, slots: int
) -> dict[str, Any]:
    """One configuration: ``workers`` 0 is the in-process engine, else that many Celery workers."""
    from assay.services.container import open_container
    from assay.settings import Settings

    queue = f"assay-bench-{uuid.uuid4().hex[:8]}"
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": tmp / "data",
        "workers": slots,
        "poll_interval": 0.05,
        "outbound_allow": "127.0.0.0/8",
    }
    if workers:
        values |= {"broker_url": REDIS, "broker_queue": queue}
    settings = Settings(**values)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env |= {
        "ASSAY_DATABASE_URL": database_url,
        "ASSAY_DATA_DIR": str(tmp / "data"),
        "ASSAY_BROKER_URL": REDIS,
        "ASSAY_BROKER_QUEUE": queue,
        "ASSAY_OUTBOUND_ALLOW": "127.0.0.0/8",
        "ASSAY_POLL_INTERVAL": "0.05",
    }
    processes = []
    container = await open_container(settings)
    try:
        for i in range(workers):
            log = (tmp / f"{queue}-{i}.log").open("wb")
            command = [sys.executable, "-m", "assay", "worker", "--workers", str(slots)]
            processes.append(
                subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
        await container.start_engine()
        await timed_evaluation(container, url, WARMUP * max(1, workers), [])
        result = await timed_evaluation(container, url, n, [p.pid for p in processes])
    finally:
        await container.aclose()
        for process in processes:
            process.terminate()
            process.wait(timeout=60)
    name = f"celery-{workers}" if workers else "inprocess"
    return {"config": name, **result}


def spread(values: list[float]) -> str:
    """The smallest, median and largest value, for one column of the table."""
    return f"{min(values):7.1f} {statistics.median(values):7.1f} {max(values):7.1f}"


async def main(args: argparse.Namespace) -> int:
    configs = [0, *(int(w) for w in args.workers.split(","))]
    runs: dict[str, list[dict[str, Any]]] = {}
    server, url = start_server(args.latency)
    try:
        database_url = await fresh_database()
        with tempfile.TemporaryDirectory(prefix="assay-bench-") as tmp:
            for _ in range(args.rounds):
                for workers in configs:
                    r = await run_config(url, database_url, Path(tmp), workers, args.n, args.slots)
                    runs.setdefault(r["config"], []).append(r)
                    rate, cpu_ms = r["n"] / r["wall_s"], 1000 * r["cpu_s"] / r["n"]
                    print(
                        f"  {r['config']}: {rate:.1f} items/s, {cpu_ms:.2f} CPU ms/item", flush=True
                    )
    finally:
        stop_process(server)
    print(
        f"{args.n} items, {args.slots} slots per process, {args.latency * 1000:.0f} ms latency, "
        f"{args.rounds} rounds, {os.cpu_count()} cores; min / median / max"
    )
    print(f"{'config':<10} {'items/s':>23} {'CPU ms/item':>23} {'passed':>7}")
    cpu_ms: dict[str, float] = {}
    for name, results in runs.items():
        rates = [r["n"] / r["wall_s"] for r in results]
        cpus = [1000 * r["cpu_s"] / r["n"] for r in results]
        cpu_ms[name] = statistics.median(cpus)
        passed = min(r["passed"] for r in results)
        print(f"{name:<10} {spread(rates):>23} {spread(cpus):>23} {passed:>7}")
    for name, median in cpu_ms.items():
        if name != "inprocess":
            extra = median - cpu_ms["inprocess"]
            print(f"{name} adds {extra:.2f} ms CPU per item over the in-process engine (medians)")
    every = [r for results in runs.values() for r in results]
    return 0 if all(r["passed"] == r["n"] for r in every) else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--slots", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", default="1,2,4", help="Celery worker counts, comma-separated")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
