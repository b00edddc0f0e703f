"""The grading stage shared by `evalkit run` and `evalkit grade`: generations in, grade rows out.

Each generation is graded in the pool (local worker processes or Ray tasks) and its grade row, with
the key of everything that decided it, goes to the sink as soon as it returns (`run` appends it to
grades.jsonl; `grade` writes a replacement file). At most `window`
grades are in flight: when grading falls behind, submitting waits, so a slow grader bounds memory
instead of queueing every generation's text. `summarize_run` ends both commands the same way: the
pool merges vote classes (evalkit.vote), then each task's summary is computed (evalkit.summary).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from typing import Any

from evalkit.cluster import connect, uses_ray
from evalkit.config import RunConfig
from evalkit.graders.base import ThinkSettings
from evalkit.graders.jobs import GradingPool
from evalkit.graders.pool import LocalGradingPool
from evalkit.graders.ray_pool import RayGradingPool
from evalkit.ledger import Ledger
from evalkit.plan import PlannedTask
from evalkit.simulated import SIMULATED_MODEL
from evalkit.store import generation_hash, grade_row, timestamp
from evalkit.summary import summarize_task
from evalkit.types import Generation, Score
from evalkit.vote import vote_classes

# Grades in flight per grading worker before submitting waits.
WINDOW_PER_WORKER = 64


def make_grading_pool(config: RunConfig) -> GradingPool:
    """The grading pool a run uses: Ray tasks on the run's cluster when the run is on Ray, else local
    worker processes."""
    if uses_ray(config):
        connect(config)
        return RayGradingPool(config.grading.workers)
    return LocalGradingPool(config.grading.workers)


class GradingStage:
    """Grades generations as they are handed over and stores each grade as it returns.

    `think` may change between submissions (a run's `auto` thinking decision); each grade's key
    records the settings it was made under.
    """

    def __init__(
        self,
        pool: GradingPool,
        sink: Callable[[dict[str, Any]], None],
        planned: Mapping[str, PlannedTask],
        think: ThinkSettings,
        timeout_s: float,
        on_graded: Callable[[Generation, Score], None],
    ) -> None:
        self._pool, self._sink, self._planned = pool, sink, planned
        self.think, self._timeout_s, self._on_graded = think, timeout_s, on_graded
        self._loop = asyncio.get_running_loop()
        self._done: asyncio.Queue[tuple[Generation, str, Score]] = asyncio.Queue()
        self._outstanding = 0
        self._window = WINDOW_PER_WORKER * pool.workers

    async def submit(self, gen: Generation) -> None:
        """Start grading `gen`; waits while the window is full (storing grades as they return)."""
        pt = self._planned[gen.task]
        job = pt.grade_job(gen, self.think, self._timeout_s)
        key = pt.grade_key(gen.sample_id, generation_hash(gen), self.think, job.timeout_s)
        self._outstanding += 1
        self._pool.submit(job).add_done_callback(self._deliver(gen, key))
        while self._outstanding >= self._window:
            self._store(*await self._done.get())

    def drain(self) -> None:
        """Store the grades that have already come back."""
        while not self._done.empty():
            self._store(*self._done.get_nowait())

    async def finish(self) -> None:
        """Wait for every grade in flight and store it."""
        while self._outstanding:
            self._store(*await self._done.get())

    def _deliver(self, gen: Generation, key: str) -> Callable[[Future[Score]], None]:
        def done(fut: Future[Score]) -> None:
            self._loop.call_soon_threadsafe(self._done.put_nowait, (gen, key, fut.result()))

        return done

    def _store(self, gen: Generation, key: str, score: Score) -> None:
        pt = self._planned[gen.task]
        self._sink(grade_row(gen, pt.grader.name, pt.grader_version, score, key))
        self._outstanding -= 1
        self._on_graded(gen, score)


def summarize_run(
    planned: Sequence[PlannedTask], ledger: Ledger, pool: GradingPool, config: RunConfig
) -> dict[str, Any]:
    """summary.json for a run (used by `run` and `grade`)."""
    tasks: dict[str, Any] = {}
    for pt in planned:
        classes = vote_classes(pool, pt.grader, pt.data.samples, ledger[pt.name])
        tasks[pt.name] = summarize_task(pt.task, pt.data.samples, ledger[pt.name], classes, pt.params.max_tokens)
    return {
        "model": config.model,
        "simulated": config.model == SIMULATED_MODEL,
        "complete": all(t["error"] is None for t in tasks.values()),
        "tasks": tasks,
        "created_at": timestamp(),
    }
