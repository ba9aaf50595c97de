"""Assay's orchestration overhead, measured against a raw client in the same run.

One fake OpenAI-compatible server (``fake_openai.py``, its own process, fixed latency, fixed
answer) is called N times at a given concurrency by two clients, each in its own process so
that each one's CPU time and peak RSS are its own:

- **baseline**: raw ``asyncio`` + one ``aiohttp.ClientSession``: N POSTs under a semaphore,
  each response parsed and its answer checked. This is the least a client can do, and raw
  aiohttp is the fastest Python HTTP client measured on these machines, so the ratio to it is
  the price of everything Assay adds.
- **assay**: a ``match`` evaluation of N cases against an ``openai-chat`` target, run by the
  in-process engine over SQLite, from creation (planning, storing N items) to a stored
  summary: claiming, leases, retries machinery, scoring, batched writes, summarising.

Both sides warm up first (imports, first connections) and are then timed with
``time.perf_counter`` (wall) and ``time.process_time`` (CPU); peak RSS is
``getrusage(RUSAGE_SELF).ru_maxrss``. The ideal wall time is N / concurrency x latency.

The targets (Assay wall <= 2.5x baseline, Assay CPU <= 1.5 ms per item) are printed as met or
not met; they are not asserted. The script exits 0 whether or not they are met, and 1 only
when a side could not be measured.

Usage::

    .venv/bin/python benchmarks/orchestration.py [--n 2000] [--concurrency 100]
        [--latency 0.05] [--quick] [--profile FILE]

``--profile FILE`` runs Assay's timed evaluation under cProfile and prints the top functions.
Read its ``tottime`` column: SQLAlchemy's async layer switches greenlets, which makes the
cumulative times of anything that touches the database meaningless.

Each side runs as ``orchestration.py --side baseline|assay --url URL --n N --concurrency C``
and prints its result as one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
ANSWER = "42"
MODEL = "bench-model"
#: Requests (baseline) or cases (Assay) run once before timing.
WARMUP = 20
QUICK_N = 300
#: Targets: Assay's wall time relative to the baseline's, and its CPU per item.
WALL_RATIO_TARGET = 2.5
CPU_MS_PER_ITEM_TARGET = 1.5
#: How often the Assay side polls its evaluation, in seconds.


def peak_rss_kib() -> int:
    """This process's peak resident set size (KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def side_deadline(n: int, concurrency: int, latency: float) -> float:
    """Seconds a side may take before it is considered stuck."""
    return 60.0 + 50 * n / concurrency * latency


# -- baseline: raw aiohttp ------------------------------------------------------------------


async def run_baseline(url: str, n: int, concurrency: int) -> dict[str, Any]:
    """N chat completions through one aiohttp session, at most ``concurrency`` at once."""
    import aiohttp

    endpoint = f"{url}/v1/chat/completions"
    headers = {"Authorization": "Bearer bench"}
    semaphore = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)

    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def call(i: int) -> bool:
            payload = {"model": MODEL, "messages": [{"role": "user", "content": f"q{i}"}]}
            async with semaphore, session.post(endpoint, json=payload) as response:
                response.raise_for_status()
                body = await response.json()
            return body["choices"][0]["message"]["content"] == ANSWER

        await asyncio.gather(*(call(i) for i in range(WARMUP)))

        wall_start, cpu_start = time.perf_counter(), time.process_time()
        results = await asyncio.gather(*(call(i) for i in range(n)))
        wall, cpu = time.perf_counter() - wall_start, time.process_time() - cpu_start

    return {"wall_s": wall, "cpu_s": cpu, "passed": sum(results)}


# -- assay: a match evaluation --------------------------------------------------------------


def match_spec(url: str, n: int) -> Any:
    """A ``match`` evaluation of ``n`` cases, each expecting the fake server's answer."""
    from assay.core.spec import EvaluationSpec, TargetSpec

    return EvaluationSpec(
        kind="match",
        target=TargetSpec(
            kind="openai-chat", name="bench", config={"base_url": f"{url}/v1", "model": MODEL}
        ),
        params={
            "cases": [{"input": f"q{i}", "expected_output": ANSWER} for i in range(n)],
            "mode": "exact",
        },
    )


async def evaluate(container: Any, principal: Any, spec: Any, deadline: float) -> Any:
    """Create the evaluation and wait for its summary, as `POST /eval-runs` does."""
    from assay.services.evaluations import create_evaluation, wait_for_evaluation

    view = await create_evaluation(
        container, principal, spec, secrets={"target": {"api_key": "bench"}}
    )
    return await wait_for_evaluation(container, principal, view.id, timeout=deadline)


async def run_assay(
    url: str, n: int, concurrency: int, deadline: float, profile: str | None = None
) -> dict[str, Any]:
    """One warm-up evaluation, then one timed evaluation of ``n`` cases.

    With ``profile``, the timed evaluation runs under cProfile and its stats go to that file.
    """
    from assay.services.container import open_container
    from assay.services.runs import local_principal
    from assay.settings import Settings

    with tempfile.TemporaryDirectory(prefix="assay-bench-") as tmp:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp}/bench.db",
            data_dir=Path(tmp),
            workers=concurrency,
            poll_interval=0.05,
            outbound_allow="127.0.0.0/8",  # the fake server is on loopback, as for `assay run`
        )
        container = await open_container(settings)
        try:
            await container.start_engine()
            principal = await local_principal(container)
            await evaluate(container, principal, match_spec(url, WARMUP), deadline)

            spec = match_spec(url, n)  # built outside the timed span, like the baseline's loop
            profiler = cProfile.Profile() if profile else None
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            view = await evaluate(container, principal, spec, deadline)
            if profiler:
                profiler.disable()
                profiler.dump_stats(profile)
            wall, cpu = time.perf_counter() - wall_start, time.process_time() - cpu_start
        finally:
            await container.aclose()

    counts = (view.summary or {}).get("counts", {})
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "passed": counts.get("passed", 0),
        "status": view.status.value,
        "counts": counts,
    }


async def cancelled_by_sigterm(work: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """Run ``work`` so that SIGTERM cancels it and its cleanup (``finally``) still runs."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await work


def side_main(args: argparse.Namespace) -> None:
    """Run one side in this process and print its result as one JSON line."""
    deadline = side_deadline(args.n, args.concurrency, args.latency)
    if args.side == "baseline":
        work = run_baseline(args.url, args.n, args.concurrency)
    else:
        work = run_assay(args.url, args.n, args.concurrency, deadline, args.profile)
    result = asyncio.run(cancelled_by_sigterm(work))
    result.update(side=args.side, n=args.n, peak_rss_kib=peak_rss_kib())
    print(json.dumps(result), flush=True)


# -- parent: server, sides, report ----------------------------------------------------------


def start_server(latency: float) -> tuple[subprocess.Popen[str], str]:
    """Start the fake server and read its URL from its first line of output."""
    command = [sys.executable, str(HERE / "fake_openai.py"), "--latency", str(latency)]
    server = subprocess.Popen([*command, "--reply", ANSWER], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    if not url.startswith(f"http://{HOST}:"):
        stop_process(server)
        raise RuntimeError(f"the fake server did not start (printed {url!r})")
    return server, url


def stop_process(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Terminate ``process`` (kill it if it lingers), reap it and drain its pipes."""
    if process.poll() is None:
        process.terminate()
    try:
        stdout, stderr = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    return stdout or "", stderr or ""


def served(url: str) -> int:
    """Chat completions the fake server has answered so far."""
    with urllib.request.urlopen(f"{url}/stats", timeout=10) as response:
        return int(json.load(response)["chat_completions"])


def run_side(side: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one side in a subprocess; its last stdout line is its JSON result.

    The result gains ``requests``: the completions the server answered for this side,
    warm-up included.
    """
    before = served(url)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        *("--side", side, "--url", url),
        *("--n", str(args.n), "--concurrency", str(args.concurrency)),
        *("--latency", str(args.latency)),
        *(
            ("--profile", str(Path(args.profile).resolve()))
            if args.profile and side == "assay"
            else ()
        ),
    ]
    timeout = 2 * side_deadline(args.n, args.concurrency, args.latency)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        stop_process(process)  # a no-op once it has exited; on timeout or Ctrl-C it ends it
    lines = stdout.strip().splitlines()
    if process.returncode != 0 or not lines:
        raise RuntimeError(
            f"the {side} side exited {process.returncode}:\n{stderr.strip()[-3000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    result["requests"] = served(url) - before
    return result


def mark(met: bool) -> str:
    return "met" if met else "NOT met"


def report(args: argparse.Namespace, results: dict[str, dict[str, Any]]) -> None:
    ideal = args.n / args.concurrency * args.latency
    print(
        f"\nN={args.n} items, concurrency {args.concurrency}, server latency "
        f"{args.latency * 1000:g} ms -> ideal wall {ideal:.2f} s\n"
    )
    header = (
        f"{'side':<10}{'wall s':>8}{'wall/ideal':>12}{'CPU ms/item':>13}{'peak RSS MiB':>14}"
        f"{'calls/item':>12}  passed"
    )
    print(header)
    print("-" * len(header))
    for side, r in results.items():
        calls_per_item = (r["requests"] - WARMUP) / args.n  # the server counts warm-up calls too
        all_passed = "" if r["passed"] == args.n else "  (not all passed!)"
        print(
            f"{side:<10}{r['wall_s']:>8.2f}{r['wall_s'] / ideal:>11.2f}x"
            f"{r['cpu_s'] * 1000 / args.n:>13.3f}{r['peak_rss_kib'] / 1024:>14.1f}"
            f"{calls_per_item:>12.2f}  {r['passed']}/{args.n}{all_passed}"
        )
    assay = results["assay"]
    if "status" in assay:
        print(f"\nAssay evaluation: {assay['status']}, counts {assay['counts']}")

    wall_ratio = assay["wall_s"] / results["baseline"]["wall_s"]
    cpu_per_item = assay["cpu_s"] * 1000 / args.n
    print()
    print(
        f"Assay wall / baseline wall: {wall_ratio:.2f}x  "
        f"(target <= {WALL_RATIO_TARGET}x)  {mark(wall_ratio <= WALL_RATIO_TARGET)}"
    )
    print(
        f"Assay CPU per item (ms):    {cpu_per_item:.3f}  "
        f"(target <= {CPU_MS_PER_ITEM_TARGET})  {mark(cpu_per_item <= CPU_MS_PER_ITEM_TARGET)}"
    )


def print_profile(path: str, top: int = 25) -> None:
    """The profiled functions that took the most time, by own time and by cumulative time."""
    for order in ("tottime", "cumulative"):
        print(f"\n=== Assay timed evaluation, top {top} by {order} (profile: {path}) ===")
        pstats.Stats(path).strip_dirs().sort_stats(order).print_stats(top)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="items (requests) per side")
    parser.add_argument("--concurrency", type=int, default=100, help="requests in flight")
    parser.add_argument("--latency", type=float, default=0.05, help="server latency, seconds")
    parser.add_argument("--quick", action="store_true", help=f"a fast sanity run (n={QUICK_N})")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="run Assay's timed evaluation under cProfile, save the stats to FILE and print "
        "the top functions (profiling slows it: its numbers are not the benchmark's)",
    )
    parser.add_argument("--side", choices=["baseline", "assay"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.n = QUICK_N
    return args


def exit_on_sigterm(signum: int, _frame: object) -> None:
    """SIGTERM unwinds the parent like an error, so the server and a running side are stopped."""
    raise SystemExit(128 + signum)


def main() -> int:
    args = parse_args()
    if args.side:
        side_main(args)
        return 0

    signal.signal(signal.SIGTERM, exit_on_sigterm)
    server, url = start_server(args.latency)
    try:
        results = {side: run_side(side, url, args) for side in ("baseline", "assay")}
    except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stop_process(server)
    report(args, results)
    if args.profile:
        print_profile(args.profile)
    if results["assay"]["passed"] != args.n:
        print("benchmark failed: not every Assay item passed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
