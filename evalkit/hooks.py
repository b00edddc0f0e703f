"""What a benchmark's summary hook receives and returns (the `summarize` field of `evalkit.tasks.Task`).

The summary stage (`evalkit.summary`) builds every task entry's frame (n, problems, rates, stats,
errors); a task's hook fills in its numbers: `metrics`, `breakdown`, and any entries of its own (a
contest table, notes). A task without a hook gets pass@k and cons@k (`evalkit.summary.pass_summary`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evalkit.types import Sample, Score

if TYPE_CHECKING:
    from evalkit.ledger import TaskLedger
    from evalkit.tasks import Task


@dataclass(frozen=True)
class TaskScores:
    """One task's graded problems, complete: every problem has its n scores, in sample-index order.

    `classes` maps each problem's vote keys to equivalence-class indices (`evalkit.vote.vote_classes`);
    None when the task's grader does not vote. `scores` builds a problem's Scores when asked;
    `ledger` holds the same facts as arrays (evalkit.ledger), for hooks that want them in bulk.
    """

    task: Task
    n: int
    samples: Sequence[Sample]
    scores: Mapping[str, Sequence[Score]]
    classes: Mapping[str, Mapping[str, int]] | None
    ledger: TaskLedger

    def of(self, samples: Sequence[Sample]) -> list[Sequence[Score]]:
        """The scores of `samples` (a subset of this task's problems), problem by problem."""
        return [self.scores[s.id] for s in samples]


# Returns the keys it sets in the task's summary.json entry, at least "metrics".
SummaryHook = Callable[[TaskScores], dict[str, Any]]
