"""The engine in a child process, so API requests never wait behind item work.

A thread of its own was not enough: the engine's loop and the API's share one interpreter
lock, and ten trust scans kept it busy, so a status poll still took seconds. In its own
process the engine has its own interpreter (and core), and the API process only parses
requests and reads the database.

The child is a fresh interpreter (multiprocessing's ``spawn``: no forked locks, loops or
connections); it gets the settings pickled and builds its own database engine and secret
box. One pipe joins the two. The API sends ``notify`` (work was queued), ``metrics`` (a
snapshot for ``/metrics``) and ``stop``; the child sends ``started`` or ``failed``,
``finished`` (evaluations it settled), ``metrics`` and ``log``: the child's log records are
handled by the API process's logging, so the server's log configuration (uvicorn's, or an
embedding application's) applies to the engine's records too.

The child follows the API process: it ignores SIGINT and SIGTERM (the API drains it), and
dies with it (``PR_SET_PDEATHSIG`` on Linux; elsewhere it stops when the pipe closes), as an
engine inside the API process would; leases bring back whatever it held. A child that exits
while the API runs is started again, after a pause that doubles up to half a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import logging.handlers
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from prometheus_client import Metric

from assay.metrics import engine_metrics
from assay.settings import Settings

log = logging.getLogger(__name__)

#: Longest wait for a new child to import, sweep and start claiming.
START_TIMEOUT = 120.0
#: Longest a ``/metrics`` request waits for the child's snapshot.
METRICS_TIMEOUT = 2.0
#: Pauses before starting a child that exited again; they start over once a child has run
#: for ``STABLE_SECONDS``, so one that dies soon after every start is not restarted each second.
RESTART_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
STABLE_SECONDS = 60.0
_PR_SET_PDEATHSIG = 1


class Channel:
    """One end of the pipe; sends are locked, as several threads send on either side."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._lock = threading.Lock()

    def send(self, message: str, payload: Any = None) -> bool:
        """Send; False when the other side is gone (its reader notices on its own)."""
        with self._lock:
            try:
                self.conn.send((message, payload))
            except (OSError, ValueError):
                return False
        return True

    def put_nowait(self, record: logging.LogRecord) -> None:
        """Send a log record; ``QueueHandler`` calls this with each record it prepared.

        Prepared means the message merged and no traceback object, so it pickles.
        """
        self.send("log", record)


class EngineProcess:
    """An ``ExecutionBackend`` whose in-process engine runs in a supervised child process."""

    def __init__(
        self, settings: Settings, on_finished: Callable[[list[str]], Any] | None = None
    ) -> None:
        self._settings = settings
        self._on_finished = on_finished
        self._context = multiprocessing.get_context("spawn")
        self._process: multiprocessing.process.BaseProcess | None = None
        self._channel: Channel | None = None
        self._started: asyncio.Future[None] | None = None
        self._metrics: list[tuple[threading.Event, list[list[Metric]]]] = []
        self._stopping = False
        #: Whether the child said it started (and has not gone since), and when it did.
        self._up = False
        self._up_since = 0.0
        self._restarts = 0
        self._restarting: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._spawn()
        engine_metrics.source = self._child_metrics

    def notify(self) -> None:
        if self._channel is not None:
            self._channel.send("notify")

    async def stop(self, grace: float = 5.0) -> None:
        """Drain the child (running items get ``grace`` seconds), then reap it; safe twice."""
        self._stopping = True
        engine_metrics.source = None
        if self._restarting is not None:
            self._restarting.cancel()
        process = self._process
        if process is None:
            return
        if self._channel is not None:
            self._channel.send("stop", grace)
        await asyncio.to_thread(process.join, grace + 15.0)
        if process.is_alive():
            log.error("the engine process did not stop in time; killing it")
            process.kill()
            await asyncio.to_thread(process.join, 5.0)
        self._detach()

    # -- the child's lifetime ---------------------------------------------------------------

    async def _spawn(self) -> None:
        loop = asyncio.get_running_loop()
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=_child_main,
            args=(self._settings, theirs, _log_levels()),
            name="assay-engine",
            daemon=True,
        )
        process.start()
        theirs.close()
        self._process, self._channel = process, Channel(ours)
        self._started = loop.create_future()
        loop.add_reader(ours.fileno(), self._receive)
        try:
            await asyncio.wait_for(asyncio.shield(self._started), START_TIMEOUT)
        except BaseException:
            process.kill()
            await asyncio.to_thread(process.join, 5.0)
            self._detach()
            raise

    def _receive(self) -> None:
        """Handle what the child sent; notice when it has gone."""
        assert self._channel is not None
        conn = self._channel.conn
        try:
            while conn.poll():
                message, payload = conn.recv()
                self._handle(message, payload)
        except (EOFError, OSError):
            self._child_gone()

    def _handle(self, message: str, payload: Any) -> None:
        if message == "log":
            logging.getLogger(payload.name).handle(payload)
        elif message == "finished" and self._on_finished is not None:
            self._on_finished(payload)
        elif message == "metrics":
            if self._metrics:
                done, box = self._metrics.pop(0)
                box.append(payload)
                done.set()
        elif message == "started" and self._started is not None:
            self._up, self._up_since = True, asyncio.get_running_loop().time()
            self._started.set_result(None)
        elif message == "failed" and self._started is not None:
            self._started.set_exception(RuntimeError(f"the engine could not start: {payload}"))

    def _child_gone(self) -> None:
        process, was_up = self._process, self._up
        self._up = False
        self._detach()
        started, self._started = self._started, None
        if started is not None and not started.done():
            code = process.exitcode if process is not None else None
            started.set_exception(RuntimeError(f"the engine process exited on start ({code})"))
            return
        if self._stopping or not was_up or process is None:
            return  # a child that failed to start: whoever started it has the error
        if asyncio.get_running_loop().time() - self._up_since >= STABLE_SECONDS:
            self._restarts = 0
        delay = RESTART_DELAYS[min(self._restarts, len(RESTART_DELAYS) - 1)]
        self._restarts += 1
        self._restarting = asyncio.get_running_loop().create_task(self._respawn(process, delay))

    async def _respawn(self, gone: multiprocessing.process.BaseProcess, delay: float) -> None:
        await asyncio.to_thread(gone.join, 5.0)
        log.error(
            "the engine process exited (code %s); starting it again in %.0f s",
            gone.exitcode,
            delay,
        )
        while not self._stopping:
            await asyncio.sleep(delay)
            try:
                await self._spawn()
                return
            except Exception:
                log.exception("the engine process could not be started again")
                delay = RESTART_DELAYS[-1]

    def _detach(self) -> None:
        channel, self._channel = self._channel, None
        self._process = None
        if channel is not None:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(channel.conn.fileno())
            channel.conn.close()
        for done, _ in self._metrics:
            done.set()
        self._metrics.clear()

    def _child_metrics(self) -> list[Metric]:
        """The child's engine metrics; none while it is down.

        Called from ``/metrics``, which runs in a worker thread: the reply arrives through
        the API's loop, which this must not block.
        """
        done, box = threading.Event(), list[list[Metric]]()
        entry = (done, box)
        self._metrics.append(entry)
        sent = self._channel is not None and self._channel.send("metrics")
        if not sent or not done.wait(METRICS_TIMEOUT):
            with contextlib.suppress(ValueError):
                self._metrics.remove(entry)
            return []
        return box[0] if box else []


# -- the child --------------------------------------------------------------------------------


def _log_levels() -> tuple[int, int]:
    """The API process's levels for the root logger and Assay's, for the child to filter by."""
    return logging.getLogger().getEffectiveLevel(), logging.getLogger("assay").getEffectiveLevel()


def _child_main(settings: Settings, conn: Connection, levels: tuple[int, int]) -> None:
    """The child's entry point: run the in-process engine until told to stop or orphaned."""
    channel = Channel(conn)
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(channel)]  # type: ignore[arg-type]
    root.setLevel(levels[0])
    logging.getLogger("assay").setLevel(levels[1])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent()
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:
        return  # the API process died before we could ask to die with it
    try:
        asyncio.run(_serve(settings, channel))
    finally:
        conn.close()


async def _serve(settings: Settings, channel: Channel) -> None:
    from assay.engine.backends.inprocess import InProcessBackend
    from assay.metrics import ENGINE_REGISTRY
    from assay.store.db import create_engine
    from assay.store.secrets import load_secret_box

    loop = asyncio.get_running_loop()
    stop: asyncio.Future[float] = loop.create_future()
    db = create_engine(settings.database_url)
    try:
        backend = InProcessBackend(
            settings, db, load_secret_box(settings), lambda ids: channel.send("finished", ids)
        )
        await backend.start()
    except Exception as exc:
        channel.send("failed", f"{type(exc).__name__}: {exc}")
        await db.dispose()
        raise

    conn = channel.conn

    def receive() -> None:
        try:
            while conn.poll():
                message, payload = conn.recv()
                if message == "notify":
                    backend.notify()
                elif message == "metrics":
                    channel.send("metrics", list(ENGINE_REGISTRY.collect()))
                elif message == "stop" and not stop.done():
                    stop.set_result(float(payload))
        except (EOFError, OSError):  # the API process is gone: drain as if told to stop
            loop.remove_reader(conn.fileno())
            if not stop.done():
                stop.set_result(5.0)

    loop.add_reader(conn.fileno(), receive)
    channel.send("started")
    try:
        await backend.stop(await stop)
    finally:
        await db.dispose()


def _die_with_parent() -> None:
    """Ask Linux to kill this process when the API process dies, however it dies."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
