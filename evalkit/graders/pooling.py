"""What every grading pool shares: the memo of cache keys, class voting and the Score of each job.

A pool implementation (local processes, Ray tasks) only starts worker-side functions
(evalkit.graders.jobs) and reports how each ended; `PoolBase` turns that into the `GradingPool`
contract, so both pools reuse graded keys, vote and map failures alike.
"""

from __future__ import annotations

import contextlib
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future, InvalidStateError
from types import TracebackType
from typing import Any, TypeVar

from evalkit.graders.base import GraderRef, grader_target, make_grader
from evalkit.graders.jobs import GradeJob, class_job, grade_job, job_score
from evalkit.types import Sample, Score

T = TypeVar("T")
P = TypeVar("P", bound="PoolBase")

# Distinct cache keys remembered per pool (a key is about the size of a gold plus an answer).
MEMO_SIZE = 65_536


class PoolBase(ABC):
    """The shared half of a grading pool. Subclasses implement `_start`, `close` and `stop`."""

    workers: int

    def __init__(self) -> None:
        # cache key -> the future of the first job with that key while it runs, then its Score (see
        # submit). Only the Score is kept once known: a finished future would hold on to every
        # callback ever added to it, and with them the generations of all the jobs that followed it.
        self._memo: OrderedDict[Hashable, Future[Score] | Score] = OrderedDict()
        self._memo_lock = threading.Lock()

    @abstractmethod
    def _start(self, function: Callable[..., Any], args: tuple[Any, ...], timeout_s: float) -> Future[Any]:
        """Run `function(*args)` in a worker with a hard limit of `timeout_s`. The future resolves to
        its value, or fails with TimeoutError (killed at the limit), jobs.WorkerLost (the worker
        died), jobs.PoolStopped (stopped first) or the exception that stopped it."""

    @abstractmethod
    def close(self) -> None:
        """Finish the submitted jobs, then stop the workers."""

    @abstractmethod
    def stop(self) -> None:
        """Stop now: jobs not finished resolve to `error` Scores."""

    def submit(self, job: GradeJob) -> Future[Score]:
        """Grade `job` in a worker. The future always resolves to a Score, never raises.

        A job whose grader gives the same `cache_key` as an earlier job is not sent again: its future
        follows the earlier one (n=64 samples with a handful of distinct answers cost a handful of
        checks). Timeouts and errors are not reused.
        """
        target = grader_target(job.grader.name)
        key = _memo_key(job, target)
        if key is not None:
            with self._memo_lock:
                first = self._memo.get(key)
                if first is not None:
                    self._memo.move_to_end(key)
            if isinstance(first, Score):
                return _done(first)
            if first is not None:
                return _follow(first)
        out = _chain(
            self._start(grade_job, (job, target), job.timeout_s),
            lambda value, error: job_score(value, error, job.timeout_s),
        )
        if key is not None:
            with self._memo_lock:
                self._memo[key] = out
                if len(self._memo) > MEMO_SIZE:
                    self._memo.popitem(last=False)
            out.add_done_callback(lambda f: self._settle(key, f))
        return out

    def _settle(self, key: Hashable, done: Future[Score]) -> None:
        """Keep the first job's Score for its key, or forget the key when the job failed (a timeout
        or an error is never reused)."""
        with self._memo_lock:
            if self._memo.get(key) is not done:
                return
            if done.exception() is None and done.result().verdict not in ("timeout", "error"):
                self._memo[key] = done.result()
            else:
                del self._memo[key]

    def same_class(
        self, grader: GraderRef, sample: Sample, keys: Sequence[str], timeout_s: float = 20.0
    ) -> Future[list[int]]:
        """Group one problem's vote keys into equivalence classes with `grader.same_class`.

        Returns one class index per key (equal keys share one). Classes are numbered in order of
        first appearance. If the job fails or overruns `timeout_s`, every distinct key is its own class.
        """
        distinct = list(dict.fromkeys(keys))
        if len(distinct) <= 1:
            return _done([0] * len(keys))
        raw = self._start(class_job, (grader, grader_target(grader.name), sample, distinct), timeout_s)

        def expand(value: Any, error: BaseException | None) -> list[int]:
            per_distinct = list(range(len(distinct))) if error is not None else value
            index = dict(zip(distinct, per_distinct, strict=True))
            return [index[k] for k in keys]

        return _chain(raw, expand)

    def __enter__(self: P) -> P:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.stop()


def _memo_key(job: GradeJob, target: str) -> Hashable | None:
    """The grader's `cache_key` for `job`, computed here in the caller, with everything else that
    decides the Score; None when the grader gives none."""
    options = repr(sorted(job.grader.options.items()))
    try:
        grader = make_grader(job.grader)
        key = grader.cache_key(job.sample, job.generation, job.think)
    except Exception:  # a grader that cannot key a job here is still graded, only without reuse
        return None
    if key is None:
        return None
    return (job.grader.name, target, options, grader.version, job.timeout_s, key)


def _chain(source: Future[Any], convert: Callable[[Any, BaseException | None], T]) -> Future[T]:
    """A future resolved with `convert(value, error)` once `source` is done."""
    out: Future[T] = Future()
    out.set_running_or_notify_cancel()

    def on_done(f: Future[Any]) -> None:
        error = f.exception()
        try:
            value = convert(None if error is not None else f.result(), error)
        except BaseException as exc:  # a bug in `convert`: surfaced rather than left hanging
            reject(out, exc)
        else:
            resolve(out, value)

    source.add_done_callback(on_done)
    return out


def _follow(first: Future[Score]) -> Future[Score]:
    """A new future (callers may key dicts by future) resolved like `first`."""
    out: Future[Score] = Future()
    out.set_running_or_notify_cancel()

    def copy(f: Future[Score]) -> None:
        error = f.exception()
        if error is not None:
            reject(out, error)
        else:
            resolve(out, f.result())

    first.add_done_callback(copy)
    return out


def resolve(out: Future[T], value: T) -> None:
    """Resolve `out` unless it already is (a job's end can race with `stop()`)."""
    with contextlib.suppress(InvalidStateError):
        out.set_result(value)


def reject(out: Future[Any], error: BaseException) -> None:
    """Fail `out` with `error` unless it is already resolved."""
    with contextlib.suppress(InvalidStateError):
        out.set_exception(error)


def _done(value: T) -> Future[T]:
    out: Future[T] = Future()
    out.set_result(value)
    return out
