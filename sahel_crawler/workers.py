"""A small pool of worker processes for CPU-heavy, crash-prone page work (extraction).

Why not `concurrent.futures.ProcessPoolExecutor`: when one of its workers dies the whole pool
breaks and every page in flight fails with it, and a task that hangs cannot be stopped without
tearing the pool down. Here each worker process runs one page at a time under its own dispatch
thread, so a page that crashes its worker or runs past the time limit is known exactly: that
worker is killed and replaced, that page fails, and every other page carries on.

Why not `pebble.ProcessPool`, which has per-task timeouts: its workers share one task pipe behind
a lock held across processes, and a worker killed while holding it (out of memory, SIGKILL) can
leave the whole pool waiting forever (pebble issue 163). Here every worker has a pipe of its own.

Workers are forked from a forkserver (never from the crawler, whose threads make a plain fork
unsafe). The server preloads nothing (a server holding trafilatura would hold its memory for the whole
crawl): each worker imports what it needs when it starts.

Workers die with the crawler, however it dies (kill -9 included): each holds the read end of a
pipe whose only write end is the crawler's, and a thread of the worker waits for its EOF. A busy
worker never reads its task pipe, so without this it would run on to the page's time limit, and
the fork server with it (every worker holds the server's own "alive" pipe open). Not prctl's
PR_SET_PDEATHSIG: a worker's parent is that fork server, which stays up as long as any worker does;
the signal also fires when the forking *thread* exits, and it is Linux only.
Threads are used only to wait on the workers: extraction itself never runs in a thread (trafilatura
is not thread-safe).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

# Seconds a worker is given to exit on its own at shutdown before it is killed.
_STOP_GRACE = 2.0
# Seconds a new worker may take to start and warm up (imports, models) before it counts as dead.
_START_TIMEOUT = 120.0


class PageTimeout(Exception):
    """The page ran past the time limit; its worker was killed and replaced."""


class WorkerDied(Exception):
    """The worker process died on the page (segfault, os._exit, out of memory) and was replaced."""


class TaskError(Exception):
    """The task raised an exception inside the worker; the worker lives on."""


def _exit_with_crawler(alive: Connection) -> None:
    """Wait, off the page's thread, for the crawler's end of `alive` to close; then exit at once."""
    with contextlib.suppress(EOFError, OSError):
        alive.recv_bytes()  # nothing is ever sent: this returns only when the crawler is gone
    os._exit(1)


def _worker_main(
    conn: Connection, alive: Connection, initializer: Callable[..., Any] | None, initargs: tuple[Any, ...]
) -> None:
    """Worker loop: run each received call, send back ("ok", result) or ("error", message)."""
    # First of all: a crawler killed during the warm-up or a page must not leave this process behind.
    threading.Thread(target=_exit_with_crawler, args=(alive,), name="sahel-crawler-watch", daemon=True).start()
    # Ctrl-C, and a scheduler's SIGTERM to the crawl's process group, reach us too: the crawler
    # shuts down gracefully and stops us after the page in hand (dying mid-page would record a
    # false extraction failure). A worker that must go is killed (SIGKILL) by the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if initializer is not None:
        initializer(*initargs)
    # Only now does the page time limit start to count: warming up is not the page's fault.
    conn.send("ready")
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the crawler is gone
            return
        if message is None:
            return
        func, args = message
        try:
            reply = ("ok", func(*args))
        except Exception as exc:  # reported for this page only
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return


class _Worker:
    """One worker process and the crawler's end of its pipe."""

    def __init__(
        self,
        context: Any,
        alive: Connection,
        initializer: Callable[..., Any] | None,
        initargs: tuple[Any, ...],
    ) -> None:
        self.conn, child = context.Pipe(duplex=True)
        self.process = context.Process(
            target=_worker_main, args=(child, alive, initializer, initargs), name="sahel-extract", daemon=True
        )
        self.process.start()
        child.close()
        self.ready = False

    def wait_ready(self) -> None:
        """Block until the worker has warmed up; raise WorkerDied when it cannot start."""
        try:
            if self.conn.poll(_START_TIMEOUT) and self.conn.recv() == "ready":
                self.ready = True
                return
        except (EOFError, OSError):
            pass
        self.stop(kill=True)
        raise WorkerDied(f"worker process did not start (exit code {self.process.exitcode})")

    def call(self, func: Callable[..., Any], args: tuple[Any, ...], timeout: float | None) -> Any:
        if not self.ready:
            self.wait_ready()
        try:
            self.conn.send((func, args))
            if not self.conn.poll(timeout):
                raise PageTimeout(f"no result after {timeout:g} s")
            status, value = self.conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError) as exc:
            self.process.join(timeout=1)
            raise WorkerDied(f"worker process died (exit code {self.process.exitcode})") from exc
        if status == "error":
            raise TaskError(value)
        return value

    def stop(self, *, kill: bool = False) -> None:
        if not kill:
            with contextlib.suppress(OSError):
                self.conn.send(None)
            self.process.join(timeout=_STOP_GRACE)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=_STOP_GRACE)
        self.conn.close()


class WorkerPool:
    """Run picklable module-level functions in `size` worker processes, one call per worker at a time.

    `submit(func, *args)` returns a `concurrent.futures.Future`; it fails with PageTimeout after
    `timeout` seconds (None: no limit), WorkerDied when the worker crashed, TaskError when `func`
    raised. `initializer(*initargs)` runs once in every worker (e.g. to warm up models).
    """

    def __init__(
        self,
        size: int,
        *,
        timeout: float | None = None,
        initializer: Callable[..., Any] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.size = size
        self.timeout = timeout
        self._initializer = initializer
        self._initargs = initargs
        self._context = multiprocessing.get_context("forkserver")
        # Replaces the default ["__main__"]: the crawler's entry point must not run in the server.
        self._context.set_forkserver_preload([])
        # Only this process ever holds the write end: its EOF in a worker means the crawler is gone.
        self._alive_r, self._alive_w = self._context.Pipe(duplex=False)
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._threads = ThreadPoolExecutor(max_workers=size, thread_name_prefix="sahel-extract-wait")
        self.replaced = 0  # workers killed or found dead and replaced
        for _ in range(size):
            self._idle.put(self._start())

    def _start(self) -> _Worker:
        worker = _Worker(self._context, self._alive_r, self._initializer, self._initargs)
        with self._lock:
            self._workers.append(worker)
        return worker

    def _replace(self, worker: _Worker) -> _Worker:
        worker.stop(kill=True)
        with self._lock:
            self._workers.remove(worker)
            self.replaced += 1
        return self._start()

    def submit(self, func: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run `func(*args)` in a worker; the future holds its result or the failure."""
        return self._threads.submit(self._run, func, args)

    def _run(self, func: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        # As many dispatch threads as workers: an idle worker is always there for this thread.
        # A new worker warms up here, in the dispatch thread, never on the reactor thread.
        worker = self._idle.get()
        try:
            return worker.call(func, args, self.timeout)
        except (PageTimeout, WorkerDied):
            worker = self._replace(worker)
            raise
        finally:
            self._idle.put(worker)

    def close(self) -> None:
        """Wait for the calls in flight, then stop every worker."""
        self._threads.shutdown(wait=True)
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.stop()
        self._alive_r.close()
        self._alive_w.close()
