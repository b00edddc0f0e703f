"""The local grading pool: graders run in worker processes with a hard time limit per job.

Why processes: math-verify (and other graders) time themselves out with `signal.alarm`, which only
works in a process's main thread, and a grader stuck in C code (a regex, sympy) cannot be
interrupted at all. pebble's ProcessPool kills the worker of a job that overruns its limit and
starts a new one, so one sample can never stall a run.

Start method: workers are forked from a forkserver (spawn on platforms without one), never forked
from the caller. The caller may hold threads (asyncio runners, vLLM, progress bars) whose locks a
plain fork would copy mid-use; a forkserver child starts from a clean single-threaded process that
has already imported the graders, so a killed worker is replaced in milliseconds. As with spawn
(which vLLM uses), workers import the caller's main module, so a script that creates a pool at
import time needs an `if __name__ == "__main__":` guard; the reward API, called from scripts,
hosts its pool in a process of its own instead (evalkit.graders.host).

Every future this pool returns resolves to a value and never raises: a job that overruns is a
`timeout` Score, a crashed worker or a grader exception is an `error` Score saying what failed
(evalkit.graders.jobs). The memo of cache keys and class voting are shared with the Ray pool
(evalkit.graders.pooling).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from typing import Any

from evalkit.errors import EvalkitError
from evalkit.graders.jobs import PoolStopped, WorkerLost
from evalkit.graders.pooling import PoolBase, reject, resolve

_TERMINATE_WAIT_S = 5.0

# Imported once in the forkserver so every worker starts with them loaded (a module that is missing
# is skipped by multiprocessing); evalkit.graders.warmup also exercises the math parser once.
_PRELOAD = [
    "evalkit.graders.base",
    "evalkit.graders.jobs",
    "evalkit.graders.math",
    "evalkit.graders.choice",
    "evalkit.graders.ifeval",
    "evalkit.graders.warmup",
]


class LocalGradingPool(PoolBase):
    """A process pool for graders. Use as a context manager, or call `close()`."""

    def __init__(self, workers: int | None = None) -> None:
        super().__init__()
        count = workers if workers is not None else (os.cpu_count() or 1)
        if count < 1:
            raise EvalkitError(f"The grading pool needs at least 1 worker, got {count}; pass a positive number.")
        from pebble import ProcessPool

        self.workers = count
        context = _mp_context()
        if context.get_start_method() == "forkserver":
            # Starting the forkserver imports sympy and math-verify (seconds). Doing it now, off the
            # caller's thread, overlaps it with generation instead of stalling the first submit.
            from multiprocessing import forkserver

            threading.Thread(target=forkserver.ensure_running, name="evalkit-forkserver", daemon=True).start()
        self._pool = ProcessPool(max_workers=count, context=context)
        # Our futures not resolved yet (pebble's stop() leaves its own futures of running and queued
        # jobs unresolved; stop() fails ours instead).
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def _start(self, function: Callable[..., Any], args: tuple[Any, ...], timeout_s: float) -> Future[Any]:
        from pebble import ProcessExpired

        out: Future[Any] = Future()
        out.set_running_or_notify_cancel()
        with self._lock:
            self._pending.add(out)

        def on_done(f: Future[Any]) -> None:
            with self._lock:
                self._pending.discard(out)
            try:
                resolve(out, f.result())
            except ProcessExpired as exc:
                reject(out, WorkerLost(f"exit code {exc.exitcode}"))
            except CancelledError:
                reject(out, PoolStopped())
            except BaseException as exc:
                reject(out, exc)

        self._pool.schedule(function, args=args, timeout=timeout_s).add_done_callback(on_done)
        return out

    def close(self) -> None:
        """Finish the submitted jobs, then stop the workers."""
        self._pool.close()  # type: ignore[no-untyped-call]
        self._pool.join()

    def stop(self) -> None:
        """Stop now: pending jobs resolve to `error` Scores."""
        self._pool.stop()  # type: ignore[no-untyped-call]
        self._terminate_workers()
        self._pool.join()
        with self._lock:
            pending, self._pending = self._pending, set()
        for out in pending:
            reject(out, PoolStopped())

    def _terminate_workers(self) -> None:
        """Terminate the workers before pebble's join tears the pool down.

        pebble unlinks its channel's semaphores before it terminates the workers, and a worker still
        starting (a pool stopped right after its first job, say on a full disk) opens them by name: it
        then dies printing a FileNotFoundError traceback onto the user's terminal next to evalkit's
        clear error. Terminated first, it dies silently. This reaches into pebble's private state
        (pebble has no hook for it); if that state is not found, pebble's own order applies.
        """
        manager_loop = getattr(self._pool, "_pool_manager_loop", None)
        workers = getattr(getattr(getattr(self._pool, "_pool_manager", None), "worker_manager", None), "workers", None)
        if manager_loop is None or not isinstance(workers, dict):
            return
        manager_loop.join()  # it starts workers until it sees the pool stopped
        processes = list(workers.values())
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(_TERMINATE_WAIT_S)


def _mp_context() -> Any:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # Affects the process-wide forkserver only if it has not started yet; harmless otherwise.
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx
