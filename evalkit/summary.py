"""summary.json: per-task metrics with uncertainty, rates and breakdowns, from stored grades.

n in, n out: a task whose problems do not all have n graded samples gets an `error` entry instead of
metrics computed over a smaller denominator.
"""

from __future__ import annotations

import hashlib
import sys
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from evalkit import metrics
from evalkit.graders.base import GraderRef, make_grader
from evalkit.graders.jobs import GradingPool
from evalkit.hooks import TaskScores
from evalkit.tasks import Task
from evalkit.types import Generation, Sample, Score

Key = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class GenInfo:
    """What a summary needs of one generation; the text itself is not kept, so memory stays flat."""

    key: Key
    finish_reason: str | None
    error: str | None
    completion_tokens: int | None
    latency_s: float
    # A 64-bit digest of the text (duplicate detection): an int is a third the size of its hex string.
    text_hash: int | None
    max_tokens: int | None = None

    @classmethod
    def of(cls, gen: Generation) -> GenInfo:
        digest = hashlib.sha256(gen.text.encode()).digest()[:8] if gen.text else None
        text_hash = int.from_bytes(digest, "little") if digest is not None else None
        return cls(
            gen.key, gen.finish_reason, gen.error, gen.completion_tokens, gen.latency_s, text_hash, gen.max_tokens
        )


# Shared by every summary Score without details (never mutated): an empty dict per sample adds up.
_NO_DETAILS: dict[str, Any] = {}


def for_summary(score: Score) -> Score:
    """The part of a Score summaries read (value, verdict, vote, details): the extracted answer and
    the explanation stay on disk, so memory per sample stays small, except an error's explanation,
    which the summary quotes."""
    if score.verdict == "error":
        return score
    return Score(
        value=score.value, verdict=sys.intern(score.verdict), vote=score.vote, details=score.details or _NO_DETAILS
    )


@dataclass(frozen=True)
class TaskResults:
    """Everything stored for one task of a run, ready to summarise."""

    task: Task
    n: int
    samples: Sequence[Sample]
    generations: Mapping[Key, GenInfo]
    scores: Mapping[Key, Score]
    max_tokens: int


def vote_classes(
    pool: GradingPool,
    grader: GraderRef,
    samples: Sequence[Sample],
    scores: Mapping[Key, Score],
    task: str,
) -> dict[str, dict[str, int]] | None:
    """Merge each problem's distinct vote keys into equivalence classes (in the grading workers);
    None when the grader does not vote (no cons@k)."""
    if not make_grader(grader).votes:
        return None
    futures: dict[str, tuple[list[str], Future[list[int]]]] = {}
    for sample in samples:
        keys = sorted(
            {s.vote for (t, sid, _), s in scores.items() if t == task and sid == sample.id and s.vote is not None}
        )
        if len(keys) > 1:
            futures[sample.id] = (keys, pool.same_class(grader, sample, keys))
        elif keys:
            futures[sample.id] = (keys, _done([0]))
    return {sid: dict(zip(keys, fut.result(), strict=True)) for sid, (keys, fut) in futures.items()}


def _done(value: list[int]) -> Future[list[int]]:
    fut: Future[list[int]] = Future()
    fut.set_result(value)
    return fut


def summarize_task(res: TaskResults, classes: Mapping[str, Mapping[str, int]] | None) -> dict[str, Any]:
    """The summary.json entry of one task: the task's summary hook (or pass@k / cons@k) fills in its numbers.

    `classes` is None when the task's grader does not vote (no cons@k)."""
    task, n = res.task, res.n
    gens = [res.generations[k] for k in _keys(res) if k in res.generations]
    entry: dict[str, Any] = {
        "n": n,
        "num_problems": len(res.samples),
        # The exact problems (each with samples 0..n-1) every number here covers; compare and gate
        # read these and nothing else from the run's files.
        "sample_ids": [s.id for s in res.samples],
        "metrics": {},
        "rates": _rates(res, gens),
        "stats": _stats(gens, res.max_tokens),
        "breakdown": {},
        "error": None,
    }
    missing = _missing(res)
    if missing:
        entry["error"] = missing
        return entry
    scores = {s.id: [res.scores[(task.name, s.id, i)] for i in range(n)] for s in res.samples}
    graded = TaskScores(task=task, n=n, samples=res.samples, scores=scores, classes=classes)
    entry.update((task.summarize or pass_summary)(graded))
    return entry


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


def _keys(res: TaskResults) -> list[Key]:
    return [(res.task.name, s.id, i) for s in res.samples for i in range(res.n)]


def _missing(res: TaskResults) -> str | None:
    keys = _keys(res)
    failed = sum(1 for k in keys if k in res.generations and res.generations[k].error is not None)
    grade_errors = [res.scores[k] for k in keys if k in res.scores and res.scores[k].verdict == "error"]
    ungraded = sum(1 for k in keys if k not in res.scores)
    if not ungraded and not grade_errors:
        return None
    total = len(keys)
    parts = [f"{total - ungraded - len(grade_errors)} of {total} samples graded"]
    if failed:
        parts.append(f"{failed} failed to generate (server or engine errors)")
    if grade_errors:
        parts.append(
            f"{len(grade_errors)} could not be graded (grader or sandbox errors; first: {grade_errors[0].explanation})"
        )
    return (
        "; ".join(parts) + ". Metrics need all n samples of every problem, and an error is not an answer: "
        "rerun the same command to retry them."
    )


def _pass_metrics(
    graded: TaskScores, samples: Sequence[Sample], *, only_headline: bool = False
) -> dict[str, dict[str, Any]]:
    n = graded.n
    per_problem = graded.of(samples)
    values = [[s.value for s in scores] for scores in per_problem]
    out: dict[str, dict[str, Any]] = {}
    ks = [1] if only_headline else metrics.pass_k_keys(n)
    for k in ks:
        out[f"pass@{k}"] = metrics.pass_k_metric(values, k, n=n).to_dict()
    if graded.classes is None:
        # The grader does not vote (programs, instruction checks): cons@k would be a constant 0.
        return out
    votes = []
    for sample, scores in zip(samples, per_problem, strict=True):
        mapping = graded.classes.get(sample.id, {})
        # Equivalent keys share a class index; label by class so they count as one vote.
        labels = [None if s.vote is None else f"c{mapping[s.vote]}" if s.vote in mapping else s.vote for s in scores]
        votes.append((labels, [s.value >= 1.0 for s in scores]))
    cons_ks = [n] if only_headline else sorted({*(k for k in metrics.pass_k_keys(n) if k > 1), n})
    for k in cons_ks:
        out[f"cons@{k}"] = metrics.cons_metric(votes, k, n=n).to_dict()
    return out


def _rates(res: TaskResults, gens: Sequence[GenInfo]) -> dict[str, float]:
    total = len(res.samples) * res.n
    if total == 0:
        return {}
    verdicts = Counter(res.scores[g.key].verdict for g in gens if g.key in res.scores)
    return {
        "truncated": sum(1 for g in gens if g.finish_reason == "length") / total,
        "no_answer": verdicts["no_answer"] / total,
        "unclosed_think": verdicts["unclosed_think"] / total,
        # Generations that failed plus grades that failed: neither is an answer.
        "error": (sum(1 for g in gens if g.error is not None) + verdicts["error"]) / total,
        "grader_timeout": verdicts["timeout"] / total,
    }


def _stats(gens: Sequence[GenInfo], max_tokens: int) -> dict[str, Any]:
    tokens = [g.completion_tokens for g in gens if g.completion_tokens is not None and g.error is None]
    latencies = [g.latency_s for g in gens if g.error is None]
    # Identical completions of one problem at temperature > 0 usually mean the seed was ignored.
    per_problem: dict[str, list[int]] = defaultdict(list)
    for g in gens:
        if g.text_hash:
            per_problem[g.key[1]].append(g.text_hash)
    identical = sum(len(texts) - len(set(texts)) for texts in per_problem.values())
    # Budgets fitted to the model's context (see evalkit.adapters.fit).
    fitted = [g.max_tokens for g in gens if g.error is None and g.max_tokens is not None and g.max_tokens < max_tokens]
    return {
        "mean_completion_tokens": sum(tokens) / len(tokens) if tokens else None,
        "max_completion_tokens": max(tokens) if tokens else None,
        "max_tokens": max_tokens,
        "max_tokens_fitted": len(fitted),
        "min_max_tokens": min(fitted) if fitted else None,
        "mean_latency_s": sum(latencies) / len(latencies) if latencies else None,
        "duplicate_completions": identical,
    }
