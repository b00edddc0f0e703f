"""Metrics over graded samples: pass@1, unbiased pass@k, cons@k, means and ratios, paired comparisons.

Every function is pure: it takes per-problem lists of per-sample values and returns numbers with an
uncertainty. The rules they enforce (DESIGN.md, "Rules that make the numbers right"):

- n in, n out: every problem carries the same number n of sample values. A problem with fewer is an
  error naming its index, never a silently smaller denominator.
- pass@k is the unbiased estimator 1 - C(n-c, k) / C(n, k), defined only for 1 <= k <= n.
- stderr is the standard error over problems; ci95 is a percentile bootstrap over problems, and over
  the samples inside each problem where sample noise matters (pass@1, paired comparisons).
- Randomness comes only from numpy's PCG64 Generator seeded with the caller's seed (never from
  Python's hash()), so a result is the same across processes and platforms for the same inputs, seed
  and numpy version (NEP 19 lets a numpy release change a Generator method's stream).

The bootstraps are written here with numpy rather than taken from scipy.stats.bootstrap: scipy is not
a dependency, and it has no two-level (problems, then samples within a problem) resampling.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from evalkit.errors import EvalkitError

__all__ = [
    "MetricInputError",
    "MetricValue",
    "PairedDiff",
    "check_same_n",
    "cons_at_k_problem",
    "cons_metric",
    "mean_with_uncertainty",
    "paired_bootstrap",
    "pass_at_k",
    "pass_k_keys",
    "pass_k_metric",
    "ratio_with_uncertainty",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

# Bootstrap replicates are drawn in chunks of about this many array elements (2 MB of float64, a few
# temporaries of that size at once), so n_boot x problems x samples never has to fit in memory at once
# and a summary's memory does not grow with the number of problems; larger chunks are no faster.
_CHUNK_ELEMENTS = 1 << 18


class MetricInputError(EvalkitError, ValueError):
    """Metric inputs that break a rule: k out of range, missing samples, values outside 0..1."""


@dataclass(frozen=True)
class MetricValue:
    """A metric with its standard error over problems and a 95% bootstrap confidence interval."""

    value: float
    stderr: float
    ci95: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        """The summary.json form: {"value": v, "stderr": se, "ci95": [lo, hi]}."""
        return {"value": self.value, "stderr": self.stderr, "ci95": [self.ci95[0], self.ci95[1]]}


@dataclass(frozen=True)
class PairedDiff:
    """Run B minus run A on the same problems, from a paired two-level bootstrap.

    diff: mean_b - mean_a (fractions, so 0.01 is one percentage point).
    ci: percentile bootstrap interval of diff at `confidence`.
    p_value: two-sided bootstrap p-value for "no difference": the smallest 1 - confidence at which the
        percentile interval excludes 0, computed as 2 * min(share of replicates <= 0, share >= 0) with
        add-one smoothing, capped at 1.
    stderr: standard error of the per-problem differences over problems (sample std / sqrt(P)).
    p_drop: one-sided bootstrap p-value for "B is not worse than A by more than max_drop", i.e. the
        (smoothed) share of replicates with diff >= -max_drop. A gate reports a regression when
        p_drop < 1 - confidence.
    max_drop, confidence: the settings used. mean_a, mean_b: each run's pass@1-style mean.
    """

    diff: float
    ci: tuple[float, float]
    p_value: float
    stderr: float
    p_drop: float
    max_drop: float
    confidence: float
    mean_a: float
    mean_b: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict with the same fields (ci as a list)."""
        return {
            "diff": self.diff,
            "ci": [self.ci[0], self.ci[1]],
            "p_value": self.p_value,
            "stderr": self.stderr,
            "p_drop": self.p_drop,
            "max_drop": self.max_drop,
            "confidence": self.confidence,
            "mean_a": self.mean_a,
            "mean_b": self.mean_b,
        }


def pass_k_keys(n: int) -> list[int]:
    """The k of the pass@k keys reported for n samples per problem: 1, 2, 4, 8, ... up to n."""
    n = operator.index(n)
    if n < 1:
        raise MetricInputError(f"pass@k needs at least one sample per problem, got n={n}; use --n 1 or more.")
    return [1 << i for i in range(n.bit_length())]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem with c correct samples out of n: 1 - C(n-c, k) / C(n, k).

    Computed as 1 - prod_{i=n-c+1..n} (1 - k/i) in log space (fsum of log1p, finished with expm1), so
    it stays accurate to about 1e-14 relative for n in the thousands, with no huge binomials.
    """
    n, c, k = operator.index(n), operator.index(c), operator.index(k)
    if not 1 <= k <= n:
        raise MetricInputError(
            f"pass@{k} is undefined with n={n} samples per problem: k must be in 1..n. "
            "Generate at least k samples per problem (--n) or ask for a smaller k."
        )
    if not 0 <= c <= n:
        raise MetricInputError(f"pass@k got c={c} correct samples out of n={n}; c must be in 0..n.")
    if n - c < k:
        return 1.0
    if c == 0:
        return 0.0
    log_all_fail = math.fsum(math.log1p(-k / i) for i in range(n - c + 1, n + 1))
    return -math.expm1(log_all_fail)


def mean_with_uncertainty(
    per_problem: Sequence[float] | FloatArray, *, seed: int = 0, n_boot: int = 2000
) -> MetricValue:
    """Mean of per-problem values, stderr = std(ddof=1) / sqrt(P) (0 for P = 1), and a percentile
    bootstrap 95% CI over problems (n_boot replicates, numpy Generator seeded with `seed`)."""
    x = np.asarray(per_problem, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise MetricInputError("mean_with_uncertainty needs a non-empty flat list of per-problem values.")
    if not np.isfinite(x).all():
        raise MetricInputError("mean_with_uncertainty got a NaN or infinite per-problem value; fix its grade.")
    return _summarise(x, seed=seed, n_boot=n_boot)


def ratio_with_uncertainty(
    y: Sequence[float] | FloatArray, m: Sequence[float] | FloatArray, *, seed: int = 0, n_boot: int = 2000
) -> MetricValue:
    """The ratio estimator sum(y) / sum(m) over problems (a micro-average), its delta-method stderr
    sqrt(sum_p (y_p - R m_p)^2 / (P (P-1))) / mean(m), and a percentile bootstrap 95% CI over problems.

    y[p] and m[p] are problem p's numerator and denominator (e.g. followed and given instructions).
    """
    y, m = np.asarray(y, dtype=np.float64), np.asarray(m, dtype=np.float64)
    if y.ndim != 1 or y.shape != m.shape or y.size == 0:
        raise MetricInputError("ratio_with_uncertainty needs two non-empty flat lists of the same length.")
    if not (np.isfinite(y).all() and np.isfinite(m).all()) or m.sum() <= 0:
        raise MetricInputError("ratio_with_uncertainty needs finite values and a positive total denominator.")
    ratio = float(y.sum() / m.sum())
    p = y.size
    stderr = 0.0
    if p > 1:
        residual = y - ratio * m
        stderr = math.sqrt(float((residual**2).sum()) / (p * (p - 1))) / float(m.mean())
    boots = _bootstrap(p, n_boot, seed, 2, lambda idx, _rng: y[idx].sum(axis=1) / m[idx].sum(axis=1))
    return MetricValue(ratio, stderr, _percentile_ci(boots, 0.95))


def pass_k_metric(
    scores: Sequence[Sequence[float]], k: int, *, seed: int = 0, n_boot: int = 2000, n: int | None = None
) -> MetricValue:
    """pass@k over problems; scores[p] holds the n per-sample values (0..1) of problem p.

    k == 1: a problem's value is the mean of its sample values (partial credit counts). The CI is a
    two-level bootstrap: resample problems, then the n samples inside each resampled problem. It is a
    little wider than a problems-only interval, since observed problem means already carry sample
    noise: the conservative side for comparisons and gates.
    k > 1: a problem's value is pass_at_k(n, c, k) with c = the number of samples whose value is
    exactly 1.0; the CI resamples problems only (resampling samples would bias the unbiased estimator
    downwards, since duplicated samples make fewer distinct correct ones).
    stderr is always std(per-problem values, ddof=1) / sqrt(P).
    n: the run's samples per problem; when given, every problem must hold exactly n values (catches a
    run where every problem is short). Without it, every problem must hold as many as the longest.
    """
    values = _sample_matrix(scores, f"pass@{k}", n)
    samples = values.shape[1]
    pass_at_k(samples, 0, k)  # validates k against n before any work
    if k == 1:
        per_problem = values.mean(axis=1)
        within = _WithinResampler(values)
        boots = _bootstrap(
            values.shape[0], n_boot, seed, within.cost, lambda idx, rng: within.draw(idx, rng).mean(axis=1)
        )
        return MetricValue(float(per_problem.mean()), _stderr(per_problem), _percentile_ci(boots, 0.95))
    by_correct = np.array([pass_at_k(samples, c, k) for c in range(samples + 1)])
    per_problem = by_correct[(values == 1.0).sum(axis=1)]
    return _summarise(per_problem, seed=seed, n_boot=n_boot)


def cons_at_k_problem(
    votes: Sequence[str | None], correct: Sequence[bool], k: int, *, seed: int = 0, max_subsets: int = 1000
) -> float:
    """Majority-vote accuracy of one problem over subsets of k of its n samples.

    votes[i] is the equivalence class of sample i's answer (samples in index order); None means no
    answer, which does not vote. In a subset the class with the most votes wins; a tie goes to the
    class whose first sample in the subset came earliest. The subset scores 1.0 when that class's
    earliest sample in the subset is correct, 0.0 when it is wrong or nobody voted.
    k == n scores the single full vote. For k < n the result is the mean over all C(n, k) subsets when
    there are at most `max_subsets` of them, otherwise over `max_subsets` uniformly random subsets
    (drawn with replacement) from numpy's PCG64 Generator seeded with `seed`: reproducible anywhere.
    """
    n = len(votes)
    if len(correct) != n:
        raise MetricInputError(
            f"cons@{k}: {n} votes but {len(correct)} correctness flags; give one of each per sample."
        )
    if n == 0:
        raise MetricInputError(f"cons@{k}: the problem has no samples; every problem needs its n graded samples.")
    k = operator.index(k)
    if not 1 <= k <= n:
        raise MetricInputError(f"cons@{k} is undefined with n={n} samples per problem: k must be in 1..n.")
    if max_subsets < 1:
        raise MetricInputError(f"cons@{k}: max_subsets must be at least 1, got {max_subsets}.")
    class_ids: dict[str, int] = {}
    ids = np.array([-1 if v is None else class_ids.setdefault(v, len(class_ids)) for v in votes], dtype=np.intp)
    if not class_ids:
        return 0.0
    total = math.comb(n, k)
    if total <= max_subsets:
        flat = itertools.chain.from_iterable(itertools.combinations(range(n), k))
        subsets = np.fromiter(flat, dtype=np.intp, count=total * k).reshape(total, k)
    else:
        # The first k of a uniformly random permutation form a uniform k-subset; sorting keeps sample order.
        keys = np.random.default_rng(seed).random((max_subsets, n))
        subsets = np.sort(np.argsort(keys, axis=1, kind="stable")[:, :k], axis=1)
    ok = np.array([bool(c) for c in correct])
    return float(_majority_is_correct(ids, ok, subsets, len(class_ids)).mean())


def cons_metric(
    problems: Sequence[tuple[Sequence[str | None], Sequence[bool]]],
    k: int,
    *,
    seed: int = 0,
    n_boot: int = 2000,
    max_subsets: int = 1000,
    n: int | None = None,
) -> MetricValue:
    """cons@k over problems; problems[p] = (votes, correct) as in cons_at_k_problem.

    Problem p draws its subsets (when it has to sample) with the seed derived from (seed, p) by
    numpy's SeedSequence, so problems use independent subsets. stderr and the bootstrap CI are over
    problems (the subset average already integrates over samples). n: as in pass_k_metric.
    """
    if len(problems) == 0:
        raise MetricInputError(f"cons@{k}: no problems to score.")
    for p, (votes, correct) in enumerate(problems):
        if len(votes) != len(correct):
            raise MetricInputError(
                f"cons@{k}: problem {p} has {len(votes)} votes but {len(correct)} correctness flags; "
                "give one of each per sample."
            )
    check_same_n([len(votes) for votes, _ in problems], f"cons@{k}", n)
    per_problem = np.array(
        [
            cons_at_k_problem(votes, correct, k, seed=_child_seed(seed, p), max_subsets=max_subsets)
            for p, (votes, correct) in enumerate(problems)
        ]
    )
    return _summarise(per_problem, seed=seed, n_boot=n_boot)


def paired_bootstrap(
    a: Sequence[Sequence[float]],
    b: Sequence[Sequence[float]],
    *,
    n_boot: int = 10000,
    seed: int = 0,
    confidence: float = 0.95,
    max_drop: float = 0.0,
) -> PairedDiff:
    """Compare run B against run A on the same problems in the same order (a[p], b[p]: per-sample values).

    Each replicate resamples problems (the same draw for both runs), then resamples the samples of each
    chosen problem independently for each run, and takes mean_b - mean_a. The runs may have different n,
    but within a run every problem needs the same n. max_drop (a fraction: 0.01 = one percentage point)
    only sets what p_drop tests; see PairedDiff for every returned field.
    """
    if not 0.0 < confidence < 1.0:
        raise MetricInputError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence}.")
    va, vb = _sample_matrix(a, "paired bootstrap (run A)"), _sample_matrix(b, "paired bootstrap (run B)")
    if va.shape[0] != vb.shape[0]:
        raise MetricInputError(
            f"paired bootstrap: run A has {va.shape[0]} problems and run B {vb.shape[0]}; "
            "compare runs over the same problems (same task, same --limit)."
        )
    ra, rb = _WithinResampler(va), _WithinResampler(vb)
    boots = _bootstrap(
        va.shape[0],
        n_boot,
        seed,
        ra.cost + rb.cost,
        lambda idx, rng: rb.draw(idx, rng).mean(axis=1) - ra.draw(idx, rng).mean(axis=1),
    )
    per_problem = vb.mean(axis=1) - va.mean(axis=1)
    smoothed = len(boots) + 1
    at_most, at_least = int((boots <= 0).sum()) + 1, int((boots >= 0).sum()) + 1
    return PairedDiff(
        diff=float(per_problem.mean()),
        ci=_percentile_ci(boots, confidence),
        p_value=min(1.0, 2 * min(at_most, at_least) / smoothed),
        stderr=_stderr(per_problem),
        p_drop=(int((boots >= -max_drop).sum()) + 1) / smoothed,
        max_drop=max_drop,
        confidence=confidence,
        mean_a=float(va.mean()),
        mean_b=float(vb.mean()),
    )


class _WithinResampler:
    """Draws, for chosen problems, the mean of their n samples resampled with replacement.

    Resampling n values with replacement is a multinomial draw over the distinct values, done here as a
    chain of binomials: with few distinct values (0/1 scores have two) that costs one binomial per
    (replicate, problem) instead of n index draws. With many distinct values it draws indices instead.
    """

    def __init__(self, values: FloatArray) -> None:
        self.values = values
        problems, self.n = values.shape
        self.levels, inverse = np.unique(values.ravel(), return_inverse=True)
        self.by_level = self.levels.size <= self.n
        if self.by_level:
            cells = np.repeat(np.arange(problems), self.n) * self.levels.size + inverse.ravel()
            counts = np.bincount(cells, minlength=problems * self.levels.size)
            self.shares = counts.reshape(problems, self.levels.size) / self.n

    @property
    def cost(self) -> int:
        """Array elements touched per (replicate, problem), for chunk sizing."""
        return int(self.levels.size) if self.by_level else self.n

    def draw(self, idx: IntArray, rng: np.random.Generator) -> FloatArray:
        """idx: (replicates, P) resampled problem indices -> (replicates, P) resampled problem means."""
        if not self.by_level:
            picks = rng.integers(0, self.n, size=(*idx.shape, self.n))
            means: FloatArray = self.values[idx[..., None], picks].mean(axis=-1)
            return means
        remaining = np.full(idx.shape, self.n, dtype=np.int64)
        unassigned = np.ones(idx.shape)
        total = np.zeros(idx.shape)
        for j, level in enumerate(self.levels[:-1]):
            share = self.shares[idx, j]
            cond = np.divide(share, unassigned, out=np.zeros_like(share), where=unassigned > 0)
            drawn = rng.binomial(remaining, np.clip(cond, 0.0, 1.0))
            total += drawn * level
            remaining -= drawn
            unassigned -= share
        total += remaining * self.levels[-1]
        result: FloatArray = total / self.n
        return result


def _bootstrap(
    problems: int,
    n_boot: int,
    seed: int,
    cost: int,
    statistic: Callable[[IntArray, np.random.Generator], FloatArray],
) -> FloatArray:
    """n_boot replicates of statistic(resampled problem indices, rng), drawn in memory-bounded chunks."""
    if n_boot < 1:
        raise MetricInputError(f"n_boot must be at least 1, got {n_boot}.")
    rng = np.random.default_rng(seed)
    chunk = max(1, _CHUNK_ELEMENTS // (problems * max(1, cost)))
    parts = [statistic(idx, rng) for idx in _problem_draws(rng, problems, n_boot, chunk)]
    return np.concatenate(parts)


def _problem_draws(rng: np.random.Generator, problems: int, n_boot: int, chunk: int) -> Iterator[IntArray]:
    for start in range(0, n_boot, chunk):
        yield rng.integers(0, problems, size=(min(chunk, n_boot - start), problems))


def _summarise(x: FloatArray, *, seed: int, n_boot: int) -> MetricValue:
    boots = _bootstrap(x.size, n_boot, seed, 1, lambda idx, _rng: x[idx].mean(axis=1))
    return MetricValue(float(x.mean()), _stderr(x), _percentile_ci(boots, 0.95))


def _stderr(x: FloatArray) -> float:
    return float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else 0.0


def _percentile_ci(boots: FloatArray, confidence: float) -> tuple[float, float]:
    tail = 100.0 * (1.0 - confidence) / 2.0
    lo, hi = np.percentile(boots, [tail, 100.0 - tail])
    return float(lo), float(hi)


def _child_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def check_same_n(sizes: Sequence[int], what: str, n: int | None) -> None:
    """n in, n out: every problem must hold n sample values (n: the run's n, else the most any problem
    holds); raises MetricInputError naming the short problems."""
    if n is None:
        n = max(sizes)
    if n < 1:
        raise MetricInputError(f"{what}: every problem has zero samples; grade the generations first.")
    short = [p for p, size in enumerate(sizes) if size != n]
    if short:
        listed = ", ".join(f"problem {p} has {sizes[p]}" for p in short[:5])
        more = f" (and {len(short) - 5} more)" if len(short) > 5 else ""
        raise MetricInputError(
            f"{what}: n in, n out: expected n={n} samples per problem, but {listed}{more}. "
            "Finish generation and grading for the missing samples (resume the run) before computing metrics."
        )


def _sample_matrix(rows: Sequence[Sequence[float]], what: str, n: int | None = None) -> FloatArray:
    """Validate per-problem sample values (same n everywhere, each in 0..1) into a (P, n) array."""
    if len(rows) == 0:
        raise MetricInputError(f"{what}: no problems to score.")
    check_same_n([len(r) for r in rows], what, n)
    values = np.array([np.asarray(r, dtype=np.float64) for r in rows])
    bad = ~((values >= 0.0) & (values <= 1.0))  # also catches NaN
    if bad.any():
        p, s = (int(i) for i in np.argwhere(bad)[0])
        raise MetricInputError(
            f"{what}: problem {p}, sample {s} has value {values[p, s]}; scores must be in 0..1 "
            "(check that task's grader)."
        )
    return values


def _majority_is_correct(ids: IntArray, ok: BoolArray, subsets: IntArray, classes: int) -> BoolArray:
    """Per subset (rows of sorted sample indices): is the majority class's earliest sample correct?"""
    rows = np.arange(subsets.shape[0])
    n = ids.size
    member = ids[subsets]
    member[member < 0] = classes  # an extra column collects the non-votes
    votes = np.zeros((subsets.shape[0], classes + 1), dtype=np.intp)
    first = np.full((subsets.shape[0], classes + 1), n, dtype=np.intp)
    for j in range(subsets.shape[1] - 1, -1, -1):  # backwards, so `first` ends at the earliest member
        votes[rows, member[:, j]] += 1
        first[rows, member[:, j]] = subsets[:, j]
    votes, first = votes[:, :classes], first[:, :classes]
    winner = (votes * (n + 1) + (n - first)).argmax(axis=1)  # most votes, then earliest first sample
    voted = votes[rows, winner] > 0
    earliest = np.minimum(first[rows, winner], n - 1)
    result: BoolArray = voted & ok[earliest]
    return result
