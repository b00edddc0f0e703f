"""Grading as Ray tasks across a cluster, with the contract of the local pool (evalkit.graders.jobs).

Same guarantees as the local pool, and the same memo and class voting (evalkit.graders.pooling):
every future resolves to a value and never raises; a job that runs longer than its limit is a
`timeout` Score (its worker is killed), a grader exception or a worker lost for good is an `error`
Score. A Ray worker that dies mid-job loses only that job, and Ray runs it again (`max_retries`), so
a node going away does not cost the run its grades.

At most `workers` jobs run at once (default: the cluster's CPUs); the rest wait here, so a job's
time limit starts when it starts running rather than when it was queued. The pool joins the cluster
the caller connected to (`ray.init`, or evalkit.cluster.connect for a run).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from evalkit.errors import EvalkitError, MissingExtraError
from evalkit.graders.jobs import PoolStopped, WorkerLost
from evalkit.graders.pooling import PoolBase, reject, resolve

# Slack over a job's limit before its worker is killed: Ray may need to start a worker first.
_START_SLACK_S = 10.0
_WORKER_RETRIES = 3
_POLL_S = 0.05


@dataclass
class _Job:
    remote: Any  # a ray.remote function
    args: tuple[Any, ...]
    timeout_s: float
    future: Future[Any]
    deadline: float = 0.0


class RayGradingPool(PoolBase):
    """Grades on the connected Ray cluster. Use as a context manager, or call `close()`."""

    def __init__(self, workers: int | None = None) -> None:
        super().__init__()
        try:
            import ray
        except ImportError as exc:
            raise MissingExtraError("grading on Ray", "ray", "ray[default]") from exc
        if not ray.is_initialized():
            raise EvalkitError(
                "Grading on Ray needs a connected Ray cluster: call ray.init() (or "
                "evalkit.cluster.connect) before creating the pool."
            )
        self._ray: Any = ray
        cpus = int(self._ray.cluster_resources().get("CPU", 1))
        self.workers = workers if workers is not None else max(1, cpus)
        if self.workers < 1:
            raise EvalkitError(f"The grading pool needs at least 1 worker, got {self.workers}; pass a positive number.")
        self._remote = self._ray.remote(num_cpus=1, max_retries=_WORKER_RETRIES, retry_exceptions=False)
        self._remotes: dict[Callable[..., Any], Any] = {}
        self._queue: deque[_Job] = deque()
        self._running: dict[Any, _Job] = {}
        self._cond = threading.Condition()
        self._closing = False
        self._stopping = False
        self._thread = threading.Thread(target=self._dispatch, name="evalkit-ray-grading", daemon=True)
        self._thread.start()

    def _start(self, function: Callable[..., Any], args: tuple[Any, ...], timeout_s: float) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_running_or_notify_cancel()
        with self._cond:
            if self._closing:
                raise EvalkitError("This grading pool is closed; create a new one to grade more.")
            remote = self._remotes.get(function)
            if remote is None:
                remote = self._remotes[function] = self._remote(function)
            self._queue.append(_Job(remote, args, timeout_s, future))
            self._cond.notify()
        return future

    def _dispatch(self) -> None:
        ray = self._ray
        while True:
            with self._cond:
                while not self._queue and not self._running and not self._closing:
                    self._cond.wait()
                if self._closing and not self._queue and not self._running:
                    return
                now = time.monotonic()
                while self._queue and len(self._running) < self.workers:
                    job = self._queue.popleft()
                    job.deadline = now + job.timeout_s + _START_SLACK_S
                    self._running[job.remote.remote(*job.args)] = job
            refs = list(self._running)
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=_POLL_S)
            for ref in ready:
                job = self._running.pop(ref)
                try:
                    resolve(job.future, ray.get(ref))
                except ray.exceptions.RayTaskError as exc:  # the function raised: that exception
                    reject(job.future, exc.cause if isinstance(exc.cause, BaseException) else exc)
                except ray.exceptions.RayError as exc:  # the worker died more often than Ray retries
                    reject(job.future, WorkerLost(f"Ray: {type(exc).__name__}"))
            now = time.monotonic()
            for ref, job in list(self._running.items()):
                if self._stopping:
                    ray.cancel(ref, force=True)
                    del self._running[ref]
                    reject(job.future, PoolStopped())
                elif now > job.deadline:
                    # Kills the worker: a grader stuck in C code cannot be interrupted any other way.
                    ray.cancel(ref, force=True)
                    del self._running[ref]
                    reject(job.future, TimeoutError())

    def close(self) -> None:
        """Finish the submitted jobs, then stop the dispatcher."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join()

    def stop(self) -> None:
        """Stop now: queued and running jobs resolve to `error` Scores."""
        with self._cond:
            self._closing = self._stopping = True
            queued = list(self._queue)
            self._queue.clear()
            self._cond.notify()
        for job in queued:
            reject(job.future, PoolStopped())
        self._thread.join()
