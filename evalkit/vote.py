"""Vote: each problem's distinct vote keys merged into equivalence classes, for cons@k.

Classes come from the grader's own relation (`Grader.same_class`: math equivalence, choice identity),
judged in the grading workers because it may be as slow as grading itself. The summary then counts
votes per class and never judges answers on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future

from evalkit.graders.base import GraderRef, make_grader
from evalkit.graders.jobs import GradingPool
from evalkit.ledger import TaskLedger
from evalkit.types import Sample


def vote_classes(
    pool: GradingPool, grader: GraderRef, samples: Sequence[Sample], ledger: TaskLedger
) -> dict[str, dict[str, int]] | None:
    """Merge each problem's distinct vote keys into equivalence classes (in the grading workers);
    None when the grader does not vote (no cons@k)."""
    if not make_grader(grader).votes:
        return None
    futures: dict[str, tuple[list[str], Future[list[int]]]] = {}
    for sample in samples:
        keys = ledger.problem_votes(ledger.rows[sample.id])
        if len(keys) > 1:
            futures[sample.id] = (keys, pool.same_class(grader, sample, keys))
        elif keys:
            futures[sample.id] = (keys, _done([0]))
    return {sid: dict(zip(keys, fut.result(), strict=True)) for sid, (keys, fut) in futures.items()}


def _done(value: list[int]) -> Future[list[int]]:
    fut: Future[list[int]] = Future()
    fut.set_result(value)
    return fut
