"""What a grading pool runs and returns, whatever runs it: the job, the pool contract, the worker side.

Plans build `GradeJob`s and the grading stage hands them to a `GradingPool` (local worker processes,
evalkit.graders.pool, or Ray tasks, evalkit.graders.ray_pool). Both pools run the worker-side
functions below and turn a failed job into a Score with `failure_score`, so a timeout, a dead worker
or a grader bug reads the same whichever pool graded it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

from evalkit.graders.base import GRADERS, Grader, GraderRef, ThinkSettings, make_grader, register_grader
from evalkit.types import Generation, Sample, Score


@dataclass(frozen=True)
class GradeJob:
    """One generation to grade, with the hard wall-time limit for grading it."""

    grader: GraderRef
    sample: Sample
    generation: Generation
    think: ThinkSettings
    timeout_s: float = 20.0


class GradingPool(Protocol):
    """Where graders run. Every future resolves to a value and never raises (see `failure_score`)."""

    workers: int

    def submit(self, job: GradeJob) -> Future[Score]:
        """Grade `job`; jobs with the grader's same `cache_key` are graded once."""
        ...

    def same_class(
        self, grader: GraderRef, sample: Sample, keys: Sequence[str], timeout_s: float = 20.0
    ) -> Future[list[int]]:
        """One class index per vote key (numbered by first appearance); each key alone on failure."""
        ...

    def close(self) -> None:
        """Finish the submitted jobs, then stop."""
        ...

    def stop(self) -> None:
        """Stop now: jobs not finished resolve to `error` Scores."""
        ...

    def __enter__(self) -> GradingPool: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class WorkerLost(Exception):
    """The worker running a job died (a crash in C code, a kill, a node that went away)."""


class PoolStopped(Exception):
    """The pool was stopped before the job finished."""


def grade_job(job: GradeJob, target: str) -> Score:
    """Worker side of `GradingPool.submit`: grade `job` with the grader registered as `target`.

    A grader that raises gives an `error` Score naming the exception; one that finishes after the
    job's limit gives the `timeout` a pool gives a job it had to kill, so the verdict does not depend
    on how promptly a pool kills.
    """
    started = time.monotonic()
    try:
        score = worker_grader(job.grader, target).grade(job.sample, job.generation, job.think)
    except Exception as exc:
        return Score(0.0, "error", explanation=f"the grader raised {type(exc).__name__}: {exc}")
    if time.monotonic() - started > job.timeout_s:
        return failure_score(TimeoutError(), job.timeout_s)
    return score


def class_job(grader: GraderRef, target: str, sample: Sample, keys: Sequence[str]) -> list[int]:
    """Worker side of `GradingPool.same_class` over distinct `keys`: each key joins the first class
    whose representative (its first key) is the same answer, else starts a class; k keys in c
    classes cost <= k*c checks."""
    judge = worker_grader(grader, target)
    representatives: list[str] = []
    classes: list[int] = []
    for key in keys:
        found = next((i for i, rep in enumerate(representatives) if judge.same_class(sample, rep, key)), None)
        if found is None:
            found = len(representatives)
            representatives.append(key)
        classes.append(found)
    return classes


def worker_grader(ref: GraderRef, target: str) -> Grader:
    """The grader `ref` names, registered first if this worker started before its registration
    (plugins and tests register graders at run time; the caller resolves and sends the target)."""
    if GRADERS.get(ref.name) != target:
        register_grader(ref.name, target)
    return make_grader(ref)


def job_score(value: Any, error: BaseException | None, timeout_s: float) -> Score:
    """The Score of a finished job: the worker's Score, or what its failure means."""
    if error is not None:
        return failure_score(error, timeout_s)
    if not isinstance(value, Score):
        return Score(0.0, "error", explanation=f"the grader returned {type(value).__name__}, not Score")
    return value


def failure_score(error: BaseException, timeout_s: float) -> Score:
    """What a job that did not return a Score scores: `timeout` or `error`, never a wrong answer."""
    if isinstance(error, TimeoutError):
        why = f"grading took longer than {timeout_s:g} s; the worker was killed"
        return Score(0.0, "timeout", explanation=why)
    if isinstance(error, WorkerLost):
        return Score(0.0, "error", explanation=f"the grading worker died ({error})")
    if isinstance(error, (PoolStopped, CancelledError)):
        return Score(0.0, "error", explanation="the grading pool was stopped before this job finished")
    return Score(0.0, "error", explanation=f"grading failed: {type(error).__name__}: {error}")
