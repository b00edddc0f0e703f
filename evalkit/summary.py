"""summary.json: per-task metrics with uncertainty, rates and breakdowns, from stored grades.

n in, n out: a task whose problems do not all have n graded samples gets an `error` entry instead of
metrics computed over a smaller denominator.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from evalkit import metrics
from evalkit.hooks import TaskScores
from evalkit.ledger import TaskLedger
from evalkit.tasks import Task
from evalkit.types import Sample, Score


def summarize_task(
    task: Task,
    samples: Sequence[Sample],
    ledger: TaskLedger,
    classes: Mapping[str, Mapping[str, int]] | None,
    max_tokens: int,
) -> dict[str, Any]:
    """The summary.json entry of one task: the task's summary hook (or pass@k / cons@k) fills in its numbers.

    `ledger` holds the task's samples (rows in `samples` order); `classes` is None when the task's
    grader does not vote (no cons@k)."""
    entry: dict[str, Any] = {
        "n": ledger.n,
        "num_problems": len(samples),
        # The exact problems (each with samples 0..n-1) every number here covers; compare and gate
        # read these and nothing else from the run's files.
        "sample_ids": [s.id for s in samples],
        "metrics": {},
        "rates": _rates(ledger),
        "stats": _stats(ledger, max_tokens),
        "breakdown": {},
        "error": None,
    }
    missing = _missing(ledger)
    if missing:
        entry["error"] = missing
        return entry
    graded = TaskScores(
        task=task, n=ledger.n, samples=samples, scores=_LazyScores(ledger), classes=classes, ledger=ledger
    )
    entry.update((task.summarize or pass_summary)(graded))
    return entry


class _LazyScores(Mapping[str, Sequence[Score]]):
    """A problem's Scores, built from the ledger when a summary hook asks for them."""

    def __init__(self, ledger: TaskLedger) -> None:
        self._ledger = ledger

    def __getitem__(self, sample_id: str) -> Sequence[Score]:
        row = self._ledger.rows[sample_id]
        return [self._ledger.score((row, i)) for i in range(self._ledger.n)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ledger.rows)

    def __len__(self) -> int:
        return len(self._ledger.rows)


def pass_summary(graded: TaskScores) -> dict[str, Any]:
    """pass@k and cons@k, overall and per value of each of the task's breakdown fields."""
    breakdown: dict[str, Any] = {}
    for field in graded.task.breakdown:
        groups: dict[str, list[Sample]] = defaultdict(list)
        for s in graded.samples:
            groups[str(s.metadata.get(field, "unknown"))].append(s)
        breakdown[field] = {
            value: {"num_problems": len(group), "metrics": _pass_metrics(graded, group, only_headline=True)}
            for value, group in sorted(groups.items())
        }
    return {"metrics": _pass_metrics(graded, graded.samples), "breakdown": breakdown}


def _missing(ledger: TaskLedger) -> str | None:
    grade_errors = ledger.count("error")
    ungraded = int(np.count_nonzero(~ledger.graded))
    if not ungraded and not grade_errors:
        return None
    total = ledger.graded.size
    failed = int(np.count_nonzero(ledger.generated & ledger.failed))
    parts = [f"{total - ungraded - grade_errors} of {total} samples graded"]
    if failed:
        parts.append(f"{failed} failed to generate (server or engine errors)")
    if grade_errors:
        first = ledger.errors[min(ledger.errors)] if ledger.errors else ""
        parts.append(f"{grade_errors} could not be graded (grader or sandbox errors; first: {first})")
    return (
        "; ".join(parts) + ". Metrics need all n samples of every problem, and an error is not an answer: "
        "rerun the same command to retry them."
    )


def _pass_metrics(
    graded: TaskScores, samples: Sequence[Sample], *, only_headline: bool = False
) -> dict[str, dict[str, Any]]:
    ledger, n = graded.ledger, graded.n
    rows = [ledger.rows[s.id] for s in samples]
    values = ledger.value[rows]
    out: dict[str, dict[str, Any]] = {}
    ks = [1] if only_headline else metrics.pass_k_keys(n)
    for k in ks:
        out[f"pass@{k}"] = metrics.pass_k_metric(values.tolist(), k, n=n).to_dict()
    if graded.classes is None:
        # The grader does not vote (programs, instruction checks): cons@k would be a constant 0.
        return out
    votes = []
    for sample, row in zip(samples, rows, strict=True):
        mapping = graded.classes.get(sample.id, {})
        # Equivalent keys share a class index; label by class so they count as one vote.
        strings = [None if v < 0 else ledger.votes[v] for v in ledger.vote[row].tolist()]
        labels = [None if v is None else f"c{mapping[v]}" if v in mapping else v for v in strings]
        votes.append((labels, (ledger.value[row] >= 1.0).tolist()))
    cons_ks = [n] if only_headline else sorted({*(k for k in metrics.pass_k_keys(n) if k > 1), n})
    for k in cons_ks:
        out[f"cons@{k}"] = metrics.cons_metric(votes, k, n=n).to_dict()
    return out


def _rates(ledger: TaskLedger) -> dict[str, float]:
    total = ledger.graded.size
    if total == 0:
        return {}
    return {
        "truncated": int(np.count_nonzero(ledger.generated & ledger.cut_off)) / total,
        "no_answer": ledger.count("no_answer") / total,
        "unclosed_think": ledger.count("unclosed_think") / total,
        # Generations that failed plus grades that failed: neither is an answer.
        "error": (int(np.count_nonzero(ledger.generated & ledger.failed)) + ledger.count("error")) / total,
        "grader_timeout": ledger.count("timeout") / total,
    }


def _stats(ledger: TaskLedger, max_tokens: int) -> dict[str, Any]:
    ok = ledger.generated & ~ledger.failed
    tokens = ledger.tokens[ok & (ledger.tokens >= 0)]
    # Summed in Python, sample by sample in order, as summaries always have been (numpy sums pairwise).
    latencies = ledger.latency[ok].tolist()
    # Identical completions of one problem at temperature > 0 usually mean the seed was ignored.
    identical = 0
    for hashes in ledger.text_hash:
        texts = hashes[hashes != 0]
        identical += int(texts.size - np.unique(texts).size)
    # Budgets fitted to the model's context (see evalkit.adapters.fit).
    fitted = ledger.budget[ok & (ledger.budget >= 0) & (ledger.budget < max_tokens)]
    return {
        "mean_completion_tokens": float(tokens.mean()) if tokens.size else None,
        "max_completion_tokens": int(tokens.max()) if tokens.size else None,
        "max_tokens": max_tokens,
        "max_tokens_fitted": int(fitted.size),
        "min_max_tokens": int(fitted.min()) if fitted.size else None,
        "mean_latency_s": sum(latencies) / len(latencies) if latencies else None,
        "duplicate_completions": identical,
    }
