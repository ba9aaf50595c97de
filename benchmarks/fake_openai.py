"""A fast fake OpenAI-compatible chat server for benchmarks.

It answers ``POST /v1/chat/completions`` after a fixed latency with a minimal valid
``chat.completion`` whose content is always the same reply, so a benchmark measures the
client's overhead and not a model (``GET /stats`` counts the completions served, so a
benchmark can check that a client made one call per item). It is built on ``aiohttp.web`` (much more throughput per
core than an ASGI stack) and meant to run in its own process, so that serving does not take
CPU from the process being measured.

Run it as ``python benchmarks/fake_openai.py [--latency 0.05] [--reply 42]``: it binds
127.0.0.1 on a free port, prints its base URL (``http://127.0.0.1:<port>``) as the first line
on stdout, and serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import signal
import time

from aiohttp import web

HOST = "127.0.0.1"


def make_app(latency: float, reply: str) -> web.Application:
    """The application: one route, a sleep, then a canned completion."""
    created = int(time.time())
    ids = itertools.count(1)
    served = {"chat_completions": 0}
    reply_tokens = max(1, len(reply.split()))

    async def chat_completions(request: web.Request) -> web.Response:
        body = await request.json()
        served["chat_completions"] += 1
        await asyncio.sleep(latency)
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        completion = {
            "id": f"chatcmpl-fake-{next(ids)}",
            "object": "chat.completion",
            "created": created,
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": reply_tokens,
                "total_tokens": prompt_tokens + reply_tokens,
            },
        }
        return web.Response(body=json.dumps(completion), content_type="application/json")

    async def stats(_: web.Request) -> web.Response:
        return web.json_response(served)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/stats", stats)
    return app


async def serve(latency: float, reply: str) -> None:
    """Serve until SIGTERM/SIGINT; the URL is printed once the socket is listening."""
    runner = web.AppRunner(make_app(latency, reply), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0, backlog=1024)
    await site.start()
    port = runner.addresses[0][1]
    print(f"http://{HOST}:{port}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds before answering")
    parser.add_argument("--reply", default="42", help="the assistant's fixed answer")
    args = parser.parse_args()
    asyncio.run(serve(args.latency, args.reply))


if __name__ == "__main__":
    main()
