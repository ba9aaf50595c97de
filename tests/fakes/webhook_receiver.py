"""A webhook receiver on 127.0.0.1 that records every POST and answers scripted statuses."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request, Response

from tests.fakes.openai_server import serve_in_thread


@dataclass(frozen=True)
class Received:
    body: bytes
    headers: dict[str, str]


class WebhookReceiver:
    def __init__(self) -> None:
        #: Statuses to answer, in order; 200 once they run out.
        self.statuses: deque[int] = deque()
        self.received: list[Received] = []
        self.url = ""
        self._lock = threading.Lock()

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            body = await request.body()
            with self._lock:
                self.received.append(Received(body, dict(request.headers)))
                status = self.statuses.popleft() if self.statuses else 200
            return Response(status_code=status)

        return app


@contextmanager
def serve_webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    with serve_in_thread(receiver.app()) as base:
        receiver.url = f"{base}/hook"
        yield receiver
