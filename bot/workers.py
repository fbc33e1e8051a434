"""Answering in worker processes, so that one server uses every core (HELPDESK_WORKERS).

Each worker process builds its own components once (`build_components`: models load once per process) and
answers one question at a time. Every worker has a pipe of its own: a worker that dies (killed, out of memory)
takes only the question it was answering with it; that caller gets a clear `WorkerLost`, and a fresh worker
replaces it while the others go on answering.

Why not a library pool: `concurrent.futures.ProcessPoolExecutor` marks the whole pool broken when one worker
dies (every in-flight answer fails and the pool must be rebuilt, models and all), `multiprocessing.Pool` never
completes a task whose worker died, and pebble's pool shares one task channel guarded by a cross-process lock
that a worker killed while holding it leaves taken. One pipe per worker needs no shared lock at all.
Just over 300 lines because the pool, its replacement of lost workers and the Assistant stand-in that
routes to it are one mechanism.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from bot import errors
from bot.errors import HelpdeskError
from bot.settings import Settings
from bot.types import Answer, Filters

log = logging.getLogger(__name__)

START_TIMEOUT = 180.0  # seconds for a worker to build its components (a busy 2-core machine, a cold disk cache)
ANSWER_TIMEOUT = 120.0  # seconds for one answer before its worker is deemed stuck and replaced
WAIT_TIMEOUT = 60.0  # seconds a request waits for a free worker

# errors a worker may send back by name, rebuilt in the server with their message
_ERRORS = {
    cls.__name__: cls
    for cls in (
        errors.HelpdeskError,
        errors.StoreUnavailable,
        errors.IndexMismatch,
        errors.LLMUnavailable,
        errors.QuestionRejected,
    )
}


class WorkerLost(HelpdeskError):
    """The process answering this question stopped; a new one is being started."""


class AnswerTimeout(HelpdeskError):
    """An answer took far longer than any answer should; its worker was replaced."""


def resolve_workers(requested: int) -> int:
    """HELPDESK_WORKERS as a count: 0 means one per CPU core."""
    return requested if requested > 0 else max(1, os.cpu_count() or 1)


# ---- the worker process --------------------------------------------------------------------------


def _build(settings: Settings) -> Any:
    from bot.components import build_components

    comps = build_components(settings, use_llm=False)
    comps.assistant.warm_up()
    return comps


def _model_inherited(settings: Settings) -> bool:
    """True when this worker's embedding model came loaded from the fork server (bot/worker_preload.py)."""
    from bot.models import load_embedder

    with contextlib.suppress(HelpdeskError):
        return load_embedder(settings.embed_model, settings.embed_batch_size).loaded
    return False


def worker_main(conn: Connection, settings: Settings, threads: int = 0) -> None:
    """A worker's life: build the components, say ready, then answer (question, history, filters) until told to stop.

    `threads`: how many threads its models may compute with (its share of the cores).

    A store that cannot be reached at start does not stop the worker: it tries again on each question, and
    each question meanwhile gets the store's own clear error.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the server stops us
    if threads:
        from bot.models import set_compute_threads

        set_compute_threads(threads)
    shared = _model_inherited(settings)
    comps = None
    with contextlib.suppress(HelpdeskError):
        comps = _build(settings)
    conn.send(("ready", os.getpid(), shared))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return  # the server went away
        if request is None:
            return
        question, history, filters, exclude = request
        try:
            if comps is None:
                comps = _build(settings)
            reply: tuple[Any, ...] = ("ok", comps.assistant.ask(question, history, filters, exclude=exclude))
        except HelpdeskError as exc:
            name = type(exc).__name__ if type(exc).__name__ in _ERRORS else "HelpdeskError"
            reply = ("error", name, str(exc))
        except Exception:  # a bug: logged here with its traceback, a plain sentence for the user
            log.exception("answering failed in worker %s", os.getpid())
            reply = ("error", "HelpdeskError", "The answer could not be made (an internal error, logged by the app).")
        conn.send(reply)


# ---- the pool, in the server process -------------------------------------------------------------


def _closed(conn: Connection) -> bool:
    try:
        return conn.poll(0)
    except (EOFError, OSError):
        return True


@dataclass
class _Worker:
    process: Any
    conn: Connection

    @property
    def pid(self) -> int:
        return int(self.process.pid or 0)


class AnswerPool:
    """`size` worker processes answering questions; a dead or stuck worker is replaced in the background."""

    def __init__(self, settings: Settings, size: int, answer_timeout: float = ANSWER_TIMEOUT) -> None:
        # forkserver: workers start from a small clean process, never a copy of this one with its threads
        self._ctx = multiprocessing.get_context("forkserver")
        # imported once in the fork server: each worker (and each replacement) starts with the modules and the
        # embedding model already loaded (see bot/worker_preload.py)
        self._ctx.set_forkserver_preload(["bot.worker_preload"])
        self.settings = settings
        self.size = size
        self.answer_timeout = answer_timeout
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._workers: dict[int, _Worker] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._starting: list[_Worker] = []
        self.replaced = 0
        self.models_shared = False  # the last worker to start inherited its embedding model (health, tests)

    def start(self) -> AnswerPool:
        """Start every worker (each builds its components meanwhile: see `wait_ready`)."""
        self._starting = [self._spawn() for _ in range(self.size)]
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> AnswerPool:
        """Wait until every started worker has built its components (HelpdeskError if one cannot)."""
        deadline = time.monotonic() + timeout
        starting, self._starting = self._starting, []
        for worker in starting:
            self._await_ready(worker, max(1.0, deadline - time.monotonic()))
        return self

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        # the cores are shared: each worker's models compute with its share of them
        threads = max(1, (os.cpu_count() or 1) // self.size)
        process = self._ctx.Process(target=worker_main, args=(child, self.settings, threads), name="helpdesk-answer")
        process.daemon = True
        process.start()
        child.close()
        worker = _Worker(process, parent)
        with self._lock:
            self._workers[worker.pid] = worker
        return worker

    def _await_ready(self, worker: _Worker, timeout: float) -> None:
        ready = wait([worker.conn, worker.process.sentinel], timeout)
        try:
            message = worker.conn.recv() if worker.conn in ready else ()
            ok = message[0] == "ready"
            self.models_shared = ok and bool(message[2])
        except (EOFError, OSError, IndexError):
            ok = False
        if not ok:
            self._discard(worker)
            raise HelpdeskError(
                f"an answering worker did not start within {timeout:.0f} s (exit code {worker.process.exitcode}); "
                "see the log above"
            )
        self._idle.put(worker)

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._workers.pop(worker.pid, None)
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(5)
        worker.conn.close()

    def _replace(self, worker: _Worker) -> None:
        """Discard `worker` and start another in the background (its model loading must not block a request)."""
        self._discard(worker)
        if self._closed:
            return
        self.replaced += 1

        def restart() -> None:
            delay = 1.0
            while not self._closed:
                try:
                    self._await_ready(self._spawn(), START_TIMEOUT)
                    return
                except (HelpdeskError, OSError) as exc:
                    log.warning("could not start a replacement answering worker: %s; retrying", exc)
                    time.sleep(delay)
                    delay = min(delay * 2, 30.0)

        threading.Thread(target=restart, name="helpdesk-worker-restart", daemon=True).start()

    def ask(
        self,
        question: str,
        history: list[dict[str, str]] | None = None,
        filters: Filters | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> Answer:
        """The Answer from a free worker; HelpdeskErrors raised there are raised here with the same message."""
        if self._closed:
            raise HelpdeskError("The app is shutting down; please ask again in a moment.")
        worker = self._take()
        timed_out = False
        try:
            worker.conn.send((question, history, filters, exclude))
            ready = wait([worker.conn, worker.process.sentinel], self.answer_timeout)
            timed_out = not ready
            reply = worker.conn.recv() if worker.conn in ready else None
        except (EOFError, OSError):  # the worker died (its end of the pipe closed with it)
            reply = None
        if reply is None:
            self._replace(worker)
            if timed_out:
                raise AnswerTimeout(
                    f"The answer took longer than {self.answer_timeout:.0f} s and was stopped; please ask again."
                )
            raise WorkerLost(
                "The process answering your question stopped unexpectedly; a new one is starting. "
                "Please ask again in a moment."
            )
        self._idle.put(worker)
        if reply[0] == "ok":
            return reply[1]
        raise _ERRORS.get(reply[1], HelpdeskError)(reply[2])

    def _take(self) -> _Worker:
        """A free, live worker (one that died while idle is replaced, and the question goes to another)."""
        deadline = time.monotonic() + WAIT_TIMEOUT
        while True:
            try:
                worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise HelpdeskError("Every answering worker is busy; please ask again in a moment.") from None
            # an idle worker never writes: a readable pipe is its end closing, which the kernel does at once
            # when it dies (the fork server reports the exit code a moment later)
            if worker.process.is_alive() and not _closed(worker.conn):
                return worker
            self._replace(worker)

    def pids(self) -> list[int]:
        """Process ids of the live workers (health check, tests)."""
        with self._lock:
            return sorted(pid for pid, w in self._workers.items() if w.process.is_alive())

    def close(self) -> None:
        """Ask every worker to stop, then make sure it has."""
        self._closed = True
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        for worker in workers:
            worker.process.join(5)
            self._discard(worker)


class PooledAssistant:
    """The Assistant, with `ask` and `ask_stream` done by the worker pool.

    Everything else (retriever, config, drafting's and the transfer finder's use of it) is the server's own
    Assistant, `local()`: it may still be loading while the pool already answers (bot/deferred.py). The server
    pools answering only when no language model answers (bot.server.start_components): a model's answer is
    written in the model's own process, and streams to the UI from the server's Assistant.
    """

    def __init__(self, local: Callable[[], Any], pool: AnswerPool) -> None:
        self.local = local
        self.pool = pool

    def __getattr__(self, name: str) -> Any:
        return getattr(self.local(), name)

    def ask(
        self,
        question: str,
        history: list[dict[str, str]] | None = None,
        filters: Filters | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> Answer:
        """Answer in a worker process."""
        return self.pool.ask(question, history, filters, exclude)

    def ask_stream(
        self,
        question: str,
        history: list[dict[str, str]] | None = None,
        filters: Filters | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> Iterator[Answer]:
        """The offline answer comes whole: one item, from a worker."""
        yield self.pool.ask(question, history, filters, exclude)
