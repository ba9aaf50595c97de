"""The user's path, measured whole-process against a raw client in the same run.

Every figure here is a whole process started the way a user starts it, timed from ``exec`` to
exit, with its CPU time and peak RSS read from ``wait4`` (so imports, start-up, planning,
storing and summarising all count):

- **raw**: this file's ``--side raw``: ``asyncio`` + one ``aiohttp`` session posting N chat
  completions under a semaphore and checking each answer. The least a client can do.
- **assay run**: ``assay run FILE.yaml`` with a ``match`` check of N cases against an
  ``openai-chat`` target, in a fresh directory (its own SQLite database), concurrency through
  ``ASSAY_WORKERS``.
- **assay scan**: ``assay scan openai/MODEL --base-url ... -H trust_score`` against the raw
  client making the same number of calls at the same concurrency.
- **status**: ``assay serve`` with evaluations running, ``GET /v1/evaluations/{id}`` at a fixed
  rate from this process; latency percentiles, the API process's CPU per request (the engine
  runs in a child process of its own, ``ASSAY_ENGINE=process``), and the same read's CPU on
  an idle server.

Configurations (each on its own fake server, ``fake_openai.py``, in its own process):

======== ======== ============ ========= ===============================
name     items    concurrency  latency   goal (against raw, same round)
======== ======== ============ ========= ===============================
start-up 1        1            0 ms      assay run <= 0.8 s
A        2,000    100          50 ms     wall <= 1.5x, CPU <= 2x
B        5,000    500          200 ms    wall <= 2x
C        2,000    10           0 ms      wall <= 2x
scale    100,000  100          5 ms      time per item within 15% of 2,000's; RSS <= 250 MB
======== ======== ============ ========= ===============================

Rounds are interleaved (raw, then Assay, config after config, round after round) and each
figure is printed as min / median / max over the rounds: the machine is shared and noisy, so
only the ratio of medians measured in the same run means anything. Goals are printed as met or
not met, never asserted. Exit status 1 only when a side failed (an Assay item that did not
pass, a command that exited non-zero).

Usage::

    .venv/bin/python benchmarks/user_path.py [--rounds 3] [--scale-n 100000] [--quick]
        [--only A,C,...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from orchestration import ANSWER, MODEL, served, start_server, stop_process  # noqa: E402

ASSAY = str(Path(sys.executable).with_name("assay"))


@dataclass(frozen=True)
class Config:
    name: str
    n: int
    concurrency: int
    latency: float


@dataclass
class Measured:
    """One whole process: wall seconds, CPU seconds (user + system), peak RSS in MiB."""

    wall: float
    cpu: float
    rss_mib: float


@dataclass
class Series:
    runs: list[Measured] = field(default_factory=list)

    def stat(self, pick: Callable[[Measured], float]) -> tuple[float, float, float]:
        values = [pick(r) for r in self.runs]
        return min(values), statistics.median(values), max(values)


def timed(command: Sequence[str], env: dict[str, str], cwd: Path, log: Path) -> Measured:
    """Run ``command`` to its end; its own wall, CPU and peak RSS.

    Raises:
        RuntimeError: it exited non-zero (its log is in the message).
    """
    started = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=out)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(command[:3])}... exited {process.returncode}:\n{tail}")
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


# -- the raw client ---------------------------------------------------------------------------


async def raw_client(url: str, n: int, concurrency: int) -> int:
    """N chat completions at most ``concurrency`` at once; how many answered right."""
    import aiohttp

    endpoint = f"{url}/v1/chat/completions"
    semaphore = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Authorization": "Bearer bench"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def call(i: int) -> bool:
            payload = {"model": MODEL, "messages": [{"role": "user", "content": f"q{i}"}]}
            async with semaphore, session.post(endpoint, json=payload) as response:
                response.raise_for_status()
                body = await response.json()
            return bool(body["choices"][0]["message"]["content"] == ANSWER)

        return sum(await asyncio.gather(*(call(i) for i in range(n))))


def raw_command(url: str, n: int, concurrency: int) -> list[str]:
    here = str(Path(__file__).resolve())
    return [
        sys.executable,
        here,
        "--side",
        "raw",
        "--url",
        url,
        "--n",
        str(n),
        "-c",
        str(concurrency),
    ]


# -- assay run / assay scan -------------------------------------------------------------------


def write_run_file(path: Path, url: str, n: int) -> None:
    """A run file with one ``match`` check of ``n`` cases (JSON is valid YAML, and fast to write)."""
    cases = [{"input": f"q{i}", "expected_output": ANSWER} for i in range(n)]
    run = {
        "name": "bench",
        "target": {"kind": "openai-chat", "config": {"base_url": f"{url}/v1", "model": MODEL}},
        "checks": [{"kind": "match", "params": {"mode": "exact", "cases": cases}}],
    }
    path.write_text(json.dumps(run))


def assay_env(tmp: Path, concurrency: int) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "OPENAI_"))}
    return keep | {
        "ASSAY_DATA_DIR": str(tmp / "data"),
        "ASSAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/assay.db",
        "ASSAY_WORKERS": str(concurrency),
        "OPENAI_API_KEY": "bench",
        "NO_COLOR": "1",
    }


class Bench:
    """Servers per latency, a scratch directory, and the series measured so far."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.servers: dict[float, tuple[subprocess.Popen[str], str]] = {}
        self.series: dict[str, Series] = {}
        self.runs = 0

    def url(self, latency: float) -> str:
        if latency not in self.servers:
            self.servers[latency] = start_server(latency)
        return self.servers[latency][1]

    def close(self) -> None:
        for server, _ in self.servers.values():
            stop_process(server)

    def scratch(self) -> Path:
        self.runs += 1
        path = self.work / f"run{self.runs}"
        path.mkdir()
        return path

    def add(self, key: str, measured: Measured) -> None:
        self.series.setdefault(key, Series()).runs.append(measured)

    def raw(self, key: str, url: str, n: int, concurrency: int) -> None:
        tmp = self.scratch()
        measured = timed(raw_command(url, n, concurrency), dict(os.environ), tmp, tmp / "log")
        self.add(key, measured)

    def assay_run(self, key: str, config: Config) -> None:
        url = self.url(config.latency)
        tmp = self.scratch()
        write_run_file(tmp / "bench.yaml", url, config.n)
        before = served(url)
        command = [ASSAY, "run", "bench.yaml"]
        self.add(key, timed(command, assay_env(tmp, config.concurrency), tmp, tmp / "log"))
        calls = served(url) - before
        if calls != config.n:
            raise RuntimeError(f"assay run made {calls} calls for {config.n} items")

    def assay_scan(self, key: str, url: str) -> int:
        """One trust scan; the calls it made (the raw side makes as many)."""
        tmp = self.scratch()
        before = served(url)
        command = [ASSAY, "scan", f"openai/{MODEL}", "--base-url", f"{url}/v1", "-H", "trust_score"]
        self.add(key, timed(command, assay_env(tmp, 100), tmp, tmp / "log"))
        return served(url) - before


CONFIGS = [
    Config("start-up", 1, 1, 0.0),
    Config("A", 2000, 100, 0.05),
    Config("B", 5000, 500, 0.2),
    Config("C", 2000, 10, 0.0),
]


def run_rounds(bench: Bench, configs: list[Config], scale_n: int, rounds: int) -> None:
    scale = [Config("scale-2k", 2000, 100, 0.005), Config("scale", scale_n, 100, 0.005)]
    for round_number in range(1, rounds + 1):
        print(f"round {round_number}/{rounds}", file=sys.stderr, flush=True)
        for config in configs:
            bench.raw(f"{config.name}/raw", bench.url(config.latency), config.n, config.concurrency)
            bench.assay_run(f"{config.name}/assay", config)
        if scale_n:
            for config in scale:
                bench.assay_run(f"{config.name}/assay", config)
        scan_url = bench.url(0.05)
        calls = bench.assay_scan("scan/assay", scan_url)
        bench.raw("scan/raw", scan_url, calls, 100)


# -- status reads under load ------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children_cpu(pid: int) -> float:
    """CPU seconds used so far by the running children of ``pid`` (the engine process)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    total += process_cpu(int(entry.name))
            except (OSError, ValueError):
                continue
    return total


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a running process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def status_load(bench: Bench, running: int, rate: float, seconds: float) -> dict[str, float]:
    """Latencies of status reads at ``rate`` per second while trust evaluations run.

    One ``assay serve``; ``running`` trust evaluations against a 50 ms model; the server's
    CPU per request is measured over the window (engine work included).
    """
    import aiohttp

    url = bench.url(0.05)
    tmp = bench.scratch()
    env = assay_env(tmp, 100) | {"ASSAY_OUTBOUND_ALLOW": "*"}
    init = subprocess.run([ASSAY, "init"], env=env, cwd=tmp, capture_output=True, text=True)
    key = next(w for w in init.stdout.split() if w.startswith("assay_"))
    port = free_port()
    log = (tmp / "serve.log").open("wb")
    server = subprocess.Popen(
        [ASSAY, "serve", "--port", str(port)], env=env, cwd=tmp, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:
            for _ in range(300):
                try:
                    async with session.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            body = {
                "harnesses": ["trust_score"],
                "model_hub": "custom",
                "model_name": MODEL,
                "model_params": {"base_url": f"{url}/v1"},
                "api_key_value": "bench",
            }
            ids = []
            for _ in range(running):
                async with session.post(f"{base}/v1/evaluations", json=body) as response:
                    ids.append((await response.json())["id"])
            latencies: list[float] = []
            errors = 0

            async def one(evaluation_id: str) -> None:
                nonlocal errors
                started = time.perf_counter()
                try:
                    async with session.get(f"{base}/v1/evaluations/{evaluation_id}") as response:
                        await response.read()
                        errors += response.status != 200
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

            cpu_before = process_cpu(server.pid)
            engine_before = children_cpu(server.pid)
            tasks = []
            started = time.perf_counter()
            for i in range(int(rate * seconds)):
                tasks.append(asyncio.create_task(one(ids[i % len(ids)])))
                await asyncio.sleep(max(0.0, started + (i + 1) / rate - time.perf_counter()))
            await asyncio.gather(*tasks)
            cpu = process_cpu(server.pid) - cpu_before
            engine_cpu = children_cpu(server.pid) - engine_before

            # The same read with nothing else running: its own cost, one request at a time.
            for evaluation_id in ids:  # wait until every scan has ended (at most a minute)
                for _ in range(600):
                    async with session.get(f"{base}/v1/evaluations/{evaluation_id}") as response:
                        if (await response.json())["status"] in ("completed", "failed"):
                            break
                    await asyncio.sleep(0.1)
            idle_before = process_cpu(server.pid)
            idle_n = 1000
            for i in range(idle_n):
                async with session.get(f"{base}/v1/evaluations/{ids[i % len(ids)]}") as response:
                    await response.read()
                    errors += response.status != 200
            idle_cpu = process_cpu(server.pid) - idle_before
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    latencies.sort()
    return {
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "requests": len(latencies),
        "errors": errors,
        "api_cpu_ms_per_request": cpu * 1000 / len(latencies),
        "engine_cpu_s": engine_cpu,
        "idle_cpu_ms_per_request": idle_cpu * 1000 / idle_n,
    }


# -- report -----------------------------------------------------------------------------------


def line(label: str, triple: tuple[float, float, float], unit: str, fmt: str = ".2f") -> str:
    low, mid, high = triple
    return f"  {label:<22}{low:>9{fmt}}{mid:>9{fmt}}{high:>9{fmt}} {unit}"


def verdict(value: float, goal: float) -> str:
    return f"goal <= {goal:g}: {'met' if value <= goal else 'NOT met'}"


def report_status(results: list[dict[str, float]]) -> None:
    print("status: GET /v1/evaluations/{id} at 200/s on one assay serve, 10 trust scans running")
    rows = (
        ("p50_ms", "p50", "ms", ".1f"),
        ("p99_ms", "p99", "ms", ".1f"),
        ("api_cpu_ms_per_request", "API CPU/request", "ms", ".2f"),
        ("engine_cpu_s", "engine process CPU", "s", ".1f"),
        ("idle_cpu_ms_per_request", "idle CPU/request", "ms", ".2f"),
    )
    for key, label, unit, fmt in rows:
        values = [r[key] for r in results]
        print(line(label, (min(values), statistics.median(values), max(values)), unit, fmt))
    p99 = statistics.median(r["p99_ms"] for r in results)
    idle = statistics.median(r["idle_cpu_ms_per_request"] for r in results)
    print(f"  -> p99 {p99:.1f} ms ({verdict(p99, 50)}); errors {sum(r['errors'] for r in results)}")
    print(f"  -> CPU of one status read {idle:.2f} ms ({verdict(idle, 1)})")


def report(bench: Bench, configs: list[Config], scale_n: int) -> None:
    s = bench.series
    print(f"\n{'':24}{'min':>9}{'median':>9}{'max':>9}")
    for config in configs:
        raw, assay = s[f"{config.name}/raw"], s[f"{config.name}/assay"]
        print(
            f"{config.name}: {config.n} items, C={config.concurrency}, {config.latency * 1000:g} ms"
        )
        print(line("raw wall", raw.stat(lambda r: r.wall), "s"))
        print(line("assay run wall", assay.stat(lambda r: r.wall), "s"))
        print(line("raw CPU/item", raw.stat(lambda r, n=config.n: r.cpu * 1000 / n), "ms", ".3f"))
        print(
            line("assay CPU/item", assay.stat(lambda r, n=config.n: r.cpu * 1000 / n), "ms", ".3f")
        )
        print(line("assay peak RSS", assay.stat(lambda r: r.rss_mib), "MiB", ".0f"))
        wall_ratio = assay.stat(lambda r: r.wall)[1] / raw.stat(lambda r: r.wall)[1]
        cpu_ratio = assay.stat(lambda r: r.cpu)[1] / raw.stat(lambda r: r.cpu)[1]
        if config.name == "start-up":
            goal = verdict(assay.stat(lambda r: r.wall)[1], 0.8)
            print(f"  -> assay run start-up {assay.stat(lambda r: r.wall)[1]:.2f} s ({goal})")
            continue
        wall_goal = 1.5 if config.name == "A" else 2.0
        print(f"  -> wall {wall_ratio:.2f}x raw ({verdict(wall_ratio, wall_goal)})")
        if config.name == "A":
            print(f"  -> CPU {cpu_ratio:.2f}x raw ({verdict(cpu_ratio, 2.0)})")
    if scale_n:
        small, large = s["scale-2k/assay"], s["scale/assay"]
        per_small = small.stat(lambda r: r.wall / 2000)[1]
        per_large = large.stat(lambda r: r.wall / scale_n)[1]
        print(f"scale: {scale_n} items against 2,000, C=100, 5 ms")
        print(line("2,000 wall/item", small.stat(lambda r: r.wall * 1000 / 2000), "ms", ".3f"))
        print(
            line(f"{scale_n} wall/item", large.stat(lambda r: r.wall * 1000 / scale_n), "ms", ".3f")
        )
        print(line(f"{scale_n} peak RSS", large.stat(lambda r: r.rss_mib), "MiB", ".0f"))
        growth = per_large / per_small
        print(f"  -> time per item {growth:.2f}x the 2,000-item run's ({verdict(growth, 1.15)})")
        rss = large.stat(lambda r: r.rss_mib)[1]
        print(f"  -> peak RSS {rss:.0f} MiB ({verdict(rss, 250)})")
    raw, assay = s["scan/raw"], s["scan/assay"]
    print("scan: assay scan -H trust_score against the raw client making the same calls, 50 ms")
    print(line("raw wall", raw.stat(lambda r: r.wall), "s"))
    print(line("assay scan wall", assay.stat(lambda r: r.wall), "s"))
    ratio = assay.stat(lambda r: r.wall)[1] / raw.stat(lambda r: r.wall)[1]
    print(f"  -> wall {ratio:.2f}x raw ({verdict(ratio, 2.0)})")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale-n", type=int, default=100000, help="0 skips the scale run")
    parser.add_argument("--only", default="", help="comma-separated config names (start-up,A,B,C)")
    parser.add_argument("--quick", action="store_true", help="one round, no scale run")
    parser.add_argument("--no-status", action="store_true", help="skip the status load test")
    parser.add_argument("--side", choices=["raw"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("-c", type=int, dest="concurrency", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.scale_n = 1, 0
    return args


def main() -> int:
    args = parse_args()
    if args.side == "raw":
        passed = asyncio.run(raw_client(args.url, args.n, args.concurrency))
        return 0 if passed == args.n else 1
    names = set(filter(None, args.only.split(",")))
    configs = [c for c in CONFIGS if not names or c.name in names]
    with tempfile.TemporaryDirectory(prefix="assay-bench-") as work:
        bench = Bench(Path(work))
        status: list[dict[str, float]] = []
        try:
            run_rounds(bench, configs, args.scale_n, args.rounds)
            if not args.no_status:
                for _ in range(args.rounds):
                    status.append(asyncio.run(status_load(bench, 10, 200.0, 10.0)))
        except (RuntimeError, OSError, StopIteration) as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
        finally:
            bench.close()
    report(bench, configs, args.scale_n)
    if status:
        report_status(status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
