"""The grading pool: graders run in worker processes with a hard time limit per job.

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
`timeout` Score, a crashed worker or a grader exception is an `error` Score saying what failed.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import CancelledError, Future, InvalidStateError
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from evalkit.errors import EvalkitError
from evalkit.graders.base import GRADERS, GraderRef, ThinkSettings, make_grader, register_grader
from evalkit.types import Generation, Sample, Score

T = TypeVar("T")

# Distinct cache keys remembered per pool (a key is about the size of a gold plus an answer).
MEMO_SIZE = 65_536
# Imported once in the forkserver so every worker starts with them loaded (a module that is missing
# is skipped by multiprocessing); evalkit.graders.warmup also exercises the math parser once.
_PRELOAD = [
    "evalkit.graders.base",
    "evalkit.graders.math",
    "evalkit.graders.choice",
    "evalkit.graders.ifeval",
    "evalkit.graders.warmup",
]


@dataclass(frozen=True)
class GradeJob:
    """One generation to grade, with the hard wall-time limit for grading it."""

    grader: GraderRef
    sample: Sample
    generation: Generation
    think: ThinkSettings
    timeout_s: float = 20.0


class GradingPool:
    """A process pool for graders. Use as a context manager, or call `close()`."""

    def __init__(self, workers: int | None = None) -> None:
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
        # Our futures not resolved yet, each with the value it gets if the pool stops first
        # (pebble's stop() leaves its own futures of running and queued jobs unresolved).
        self._pending: dict[Future[Any], Any] = {}
        # cache key -> the future of the first job with that key (see submit)
        self._memo: OrderedDict[Hashable, Future[Score]] = OrderedDict()
        self._lock = threading.Lock()

    def submit(self, job: GradeJob) -> Future[Score]:
        """Grade `job` in a worker. The future always resolves to a Score (see the module docstring).

        A job whose grader gives the same `cache_key` as an earlier job is not sent again: its future
        follows the earlier one (n=64 samples with a handful of distinct answers cost a handful of
        checks). Timeouts and errors are not reused.
        """
        target = _target(job.grader)
        key = _cache_key(job, target)
        if key is not None:
            with self._lock:
                first = self._memo.get(key)
                if first is not None:
                    self._memo.move_to_end(key)
            if first is not None:
                return _follow(first)
        pebble_future = self._pool.schedule(
            _grade,
            args=(job.grader.name, target, dict(job.grader.options), job.sample, job.generation, job.think),
            timeout=job.timeout_s,
        )
        stopped = Score(value=0.0, verdict="error", explanation="the grading pool was stopped before this job ran")
        out = self._chain(pebble_future, lambda f: _score(f, job.timeout_s), stopped)
        if key is not None:
            with self._lock:
                self._memo[key] = out
                if len(self._memo) > MEMO_SIZE:
                    self._memo.popitem(last=False)
            out.add_done_callback(lambda f: self._forget_failure(key, f))
        return out

    def _forget_failure(self, key: Hashable, done: Future[Score]) -> None:
        if done.exception() is None and done.result().verdict not in ("timeout", "error"):
            return
        with self._lock:
            if self._memo.get(key) is done:
                del self._memo[key]

    def same_class(
        self, grader: GraderRef, sample: Sample, keys: Sequence[str], timeout_s: float = 20.0
    ) -> Future[list[int]]:
        """Group one problem's vote keys into equivalence classes with `grader.same_class`.

        Returns one class index per key (equal keys share one). Classes are numbered in order of
        first appearance. If the job overruns `timeout_s`, every distinct key is its own class.
        """
        distinct = list(dict.fromkeys(keys))
        if len(distinct) <= 1:
            return _done([0] * len(keys))
        target = _target(grader)
        pebble_future = self._pool.schedule(
            _classes,
            args=(grader.name, target, dict(grader.options), sample, distinct),
            timeout=timeout_s,
        )

        def expand(f: Future[list[int]]) -> list[int]:
            try:
                per_distinct = f.result()
            except BaseException:
                per_distinct = list(range(len(distinct)))
            index = dict(zip(distinct, per_distinct, strict=True))
            return [index[k] for k in keys]

        return self._chain(pebble_future, expand, list(range(len(distinct))))

    def _chain(self, source: Future[Any], convert: Callable[[Future[Any]], T], on_stop: T) -> Future[T]:
        """A future resolved with `convert(source)` once `source` is done, or `on_stop` by `stop()`."""
        out: Future[T] = Future()
        out.set_running_or_notify_cancel()
        with self._lock:
            self._pending[out] = on_stop

        def on_done(f: Future[Any]) -> None:
            with self._lock:
                self._pending.pop(out, None)
            try:
                value = convert(f)
            except BaseException as exc:  # a bug in `convert`: surfaced rather than left hanging
                _fail(out, exc)
            else:
                _resolve(out, value)

        source.add_done_callback(on_done)
        return out

    def close(self) -> None:
        """Finish the submitted jobs, then stop the workers."""
        self._pool.close()  # type: ignore[no-untyped-call]
        self._pool.join()

    def stop(self) -> None:
        """Stop now: pending jobs resolve to `error` Scores."""
        self._pool.stop()  # type: ignore[no-untyped-call]
        self._pool.join()
        with self._lock:
            pending, self._pending = self._pending, {}
        for out, value in pending.items():
            _resolve(out, value)

    def __enter__(self) -> GradingPool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.stop()


def _mp_context() -> Any:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # Affects the process-wide forkserver only if it has not started yet; harmless otherwise.
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def _target(grader: GraderRef) -> str:
    # Resolved in the caller and sent with each job, so graders registered at run time (plugins,
    # tests) reach workers that started before the registration.
    target = GRADERS.get(grader.name)
    if target is None:
        raise EvalkitError(f"Unknown grader '{grader.name}'. Known graders: {', '.join(sorted(GRADERS))}.")
    return target


def _cache_key(job: GradeJob, target: str) -> Hashable | None:
    """The grader's `cache_key` for `job`, computed here in the caller; None when it has none."""
    options = dict(job.grader.options)
    try:
        grader = _keying_grader(job.grader.name, target, repr(sorted(options.items())), options)
        if grader is None:
            return None
        key = grader.cache_key(job.sample, job.generation, job.think)
    except Exception:  # a grader that cannot key a job is still graded, only without reuse
        return None
    if key is None:
        return None
    return (job.grader.name, target, repr(sorted(options.items())), grader.version, job.timeout_s, key)


_KEYING: dict[tuple[str, str, str], Any] = {}


def _keying_grader(name: str, target: str, options_repr: str, options: Mapping[str, Any]) -> Any:
    """The grader instance used for `cache_key` in the caller, or None when its class has no such
    method (a grader that does not opt in is never constructed outside the workers)."""
    cache_id = (name, target, options_repr)
    if cache_id not in _KEYING:
        module_name, _, attr = target.partition(":")
        factory = getattr(importlib.import_module(module_name), attr)
        _KEYING[cache_id] = factory(**options) if callable(getattr(factory, "cache_key", None)) else None
    return _KEYING[cache_id]


def _follow(first: Future[Score]) -> Future[Score]:
    """A new future (callers may key dicts by future) resolved like `first`."""
    out: Future[Score] = Future()
    out.set_running_or_notify_cancel()

    def copy(f: Future[Score]) -> None:
        exc = f.exception()
        if exc is not None:
            _fail(out, exc)
        else:
            _resolve(out, f.result())

    first.add_done_callback(copy)
    return out


def _resolve(out: Future[T], value: T) -> None:
    # Resolved once: by its job, or by stop() when the job never finished.
    with contextlib.suppress(InvalidStateError):
        out.set_result(value)


def _fail(out: Future[Any], exc: BaseException) -> None:
    with contextlib.suppress(InvalidStateError):
        out.set_exception(exc)


def _done(value: T) -> Future[T]:
    out: Future[T] = Future()
    out.set_result(value)
    return out


def _score(f: Future[Any], timeout_s: float) -> Score:
    from pebble import ProcessExpired

    try:
        result = f.result()
    except TimeoutError:
        return Score(
            value=0.0,
            verdict="timeout",
            explanation=f"grading took longer than {timeout_s:g} s; the worker was killed",
        )
    except ProcessExpired as exc:
        return Score(value=0.0, verdict="error", explanation=f"the grading worker died (exit code {exc.exitcode})")
    except CancelledError:
        return Score(value=0.0, verdict="error", explanation="grading was cancelled (the pool was stopped)")
    except BaseException as exc:
        return Score(value=0.0, verdict="error", explanation=f"the grader raised {type(exc).__name__}: {exc}")
    if not isinstance(result, Score):
        return Score(value=0.0, verdict="error", explanation=f"the grader returned {type(result).__name__}, not Score")
    return result


def _grader(name: str, target: str, options: Mapping[str, Any]) -> Any:
    if GRADERS.get(name) != target:
        register_grader(name, target)
    return make_grader(GraderRef(name, options))


def _grade(
    name: str,
    target: str,
    options: Mapping[str, Any],
    sample: Sample,
    generation: Generation,
    think: ThinkSettings,
) -> Score:
    """Worker side of `GradingPool.submit`."""
    score: Score = _grader(name, target, options).grade(sample, generation, think)
    return score


def _classes(name: str, target: str, options: Mapping[str, Any], sample: Sample, keys: list[str]) -> list[int]:
    """Worker side of `GradingPool.same_class`: each key joins the first class whose representative
    (its first key) is the same answer, else starts a class; k keys in c classes cost <= k*c checks."""
    grader = _grader(name, target, options)
    representatives: list[str] = []
    classes: list[int] = []
    for key in keys:
        found = next((i for i, rep in enumerate(representatives) if grader.same_class(sample, rep, key)), None)
        if found is None:
            found = len(representatives)
            representatives.append(key)
        classes.append(found)
    return classes
