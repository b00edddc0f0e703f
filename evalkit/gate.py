"""Compare two runs task by task, and gate a candidate against a baseline.

The statistics come from `evalkit.metrics.paired_bootstrap`: per task, the difference candidate -
baseline over the shared problems, resampling problems (paired) and the samples inside each problem.
A task regresses when the drop is significantly larger than the tolerance: the one-sided test of
"drop <= max_drop" rejects at level alpha, i.e. `p_drop < alpha`. With several tasks alpha is split
evenly between them (Bonferroni), so the chance that a gate fails on two runs of an unchanged model
is at most 1 - confidence over all tasks together, not per task.

Metrics that are the mean of the per-sample scores (pass@1, and any other whose summary value equals
that mean, e.g. a prompt-level accuracy when the grader scores by prompt) get the paired bootstrap.
Others (ratings, pass@k, cons@k) are compared from the two summaries' standard errors with a normal
approximation that ignores the pairing, which only makes it more cautious.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Literal

from evalkit.errors import EvalkitError
from evalkit.metrics import PairedDiff, paired_bootstrap
from evalkit.report.runs import LoadedRun
from evalkit.report.table import headline_metric

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

Method = Literal["paired-bootstrap", "normal-approximation", "none"]
Verdict = Literal["ok", "regression", "skipped"]
N_BOOT = 10000
SEED = 0
# A problem counts as solved when at least half of its samples are correct ("flipped" = changed side).
SOLVED_AT = 0.5
# Summary value vs mean of per-sample scores: equal up to float rounding means the metric is that mean.
_SAME_MEAN_TOL = 1e-9


@dataclass(frozen=True)
class TaskComparison:
    """Candidate (B) vs baseline (A) on one task and metric. Values are fractions, or points for ratings."""

    task: str
    metric: str
    method: Method
    baseline: float
    candidate: float
    diff: float
    ci: tuple[float, float]
    confidence: float
    p_value: float
    p_drop: float
    max_drop: float
    rating: bool
    problems: int
    gained: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    verdict: Verdict = "ok"
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: the CI as a list, NaN (a skipped task's numbers) as None."""
        d = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in asdict(self).items()}
        d["ci"] = [None if math.isnan(x) else x for x in self.ci]
        return d


@dataclass(frozen=True)
class GateResult:
    """A gate's outcome: `passed` is False when any task regressed.

    `max_drop_points` is the tolerance as given (percentage or rating points); each task's own numbers,
    `max_drop` included, are on the summary's scale (fractions, or points for ratings).
    """

    passed: bool
    metric: str
    max_drop_points: float
    confidence: float
    alpha_per_task: float
    baseline: str
    candidate: str
    tasks: list[TaskComparison]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tasks"] = [t.to_dict() for t in self.tasks]
        return d


def _mismatches(a: LoadedRun, b: LoadedRun, task: str) -> list[str]:
    """What differs between the two runs' setups of `task` (each item names the field and both values)."""
    ma, mb = a.task_manifest(task), b.task_manifest(task)
    checks = {
        "n (samples per problem)": (a.tasks[task].get("n", ma.get("n")), b.tasks[task].get("n", mb.get("n"))),
        "dataset content hash": (
            (ma.get("dataset") or {}).get("content_hash"),
            (mb.get("dataset") or {}).get("content_hash"),
        ),
        "dataset id": ((ma.get("dataset") or {}).get("id"), (mb.get("dataset") or {}).get("id")),
        "grader": (_grader(ma), _grader(mb)),
        "task version": (ma.get("version"), mb.get("version")),
        "prompt template hash": (ma.get("template_hash"), mb.get("template_hash")),
    }
    return [f"{task}: {what} differs (baseline {va}, candidate {vb})" for what, (va, vb) in checks.items() if va != vb]


def _grader(entry: dict[str, Any]) -> str | None:
    grader = entry.get("grader")
    if not isinstance(grader, dict):
        return None
    options = grader.get("options")
    suffix = f" {json.dumps(options, sort_keys=True)}" if options else ""
    return f"{grader.get('name')} v{grader.get('version')}{suffix}"


def comparable_tasks(a: LoadedRun, b: LoadedRun, tasks: Sequence[str] | None, *, strict_tasks: bool) -> list[str]:
    """The tasks to compare; raises EvalkitError naming every way the runs cannot be compared.

    `tasks` picks tasks (each must be in both runs). Without it, `strict_tasks` demands the same task
    set in both runs; otherwise the shared tasks are used.
    """
    problems: list[str] = []
    if tasks:
        missing = [
            f"'{t}' is not in the {side}"
            for t in tasks
            for side, run in (("baseline", a), ("candidate", b))
            if t not in run.tasks
        ]
        if missing:
            raise EvalkitError(
                f"Cannot compare: {'; '.join(missing)}. Tasks in the baseline: {', '.join(a.tasks) or 'none'}; "
                f"in the candidate: {', '.join(b.tasks) or 'none'}."
            )
        chosen = list(tasks)
    else:
        only_a = [t for t in a.tasks if t not in b.tasks]
        only_b = [t for t in b.tasks if t not in a.tasks]
        if strict_tasks and (only_a or only_b):
            problems.append(
                f"different tasks (only in baseline: {', '.join(only_a) or 'none'}; only in candidate: {', '.join(only_b) or 'none'})"
            )
        chosen = [t for t in a.tasks if t in b.tasks]
        if not chosen:
            raise EvalkitError("Cannot compare: the runs share no task. Compare runs of the same tasks.")
    for task in chosen:
        problems += _mismatches(a, b, task)
        problems += [
            f"{task} could not be summarised in the {side} ({run.tasks[task]['error']})"
            for side, run in (("baseline", a), ("candidate", b))
            if run.tasks[task].get("error")
        ]
    if problems:
        raise EvalkitError(
            "Cannot compare these runs: " + "; ".join(problems) + ". Compare complete runs made with the same "
            "tasks, data, n and graders (rerun or resume one of them), or pick comparable tasks with --tasks."
        )
    return chosen


def score_matrix(run: LoadedRun, task: str) -> tuple[list[str], FloatArray]:
    """Problem ids and their (problems, n) per-sample scores, checked: every problem has n graded samples."""
    import numpy as np

    entry = run.tasks[task]
    if entry.get("error"):
        raise EvalkitError(
            f"{task} in run '{run.path}' could not be summarised ({entry['error']}); fix that run first."
        )
    frame = run.samples[run.samples["task"] == task]
    errors = int((frame["error"].notna() | (frame["verdict"] == "error")).sum())
    if errors:
        raise EvalkitError(
            f"{task} in run '{run.path}' has {errors} samples that failed with errors (errors are not answers). "
            "Rerun the same `evalkit run` command to retry them, then compare."
        )
    n = int(entry.get("n") or 0)
    table = frame.pivot_table(index="sample_id", columns="sample_index", values="score", aggfunc="last")
    table = table.reindex(columns=range(n))
    complete = table.notna().all(axis=1)
    if run.complete and not bool(complete.all()):
        short = [str(s) for s in table.index[~complete][:5]]
        raise EvalkitError(
            f"{task} in run '{run.path}' lacks graded samples for {int((~complete).sum())} problems (e.g. {', '.join(short)}) "
            f"though the run says it is complete (n={n}). Run `evalkit grade {run.path}` to grade them."
        )
    table = table[complete]
    return [str(i) for i in table.index], table.to_numpy(dtype=np.float64)


def _metric_entry(run: LoadedRun, task: str, metric: str) -> dict[str, Any] | None:
    entry = (run.tasks[task].get("metrics") or {}).get(metric)
    return entry if isinstance(entry, dict) and isinstance(entry.get("value"), int | float) else None


def _normal(
    task: str,
    metric: str,
    ea: dict[str, Any],
    eb: dict[str, Any],
    *,
    confidence: float,
    max_drop: float,
    problems: int,
    rating: bool,
) -> TaskComparison:
    """Difference of two summary values with the unpaired standard error sqrt(se_a^2 + se_b^2)."""
    va, vb = float(ea["value"]), float(eb["value"])
    se = math.hypot(float(ea.get("stderr") or 0.0), float(eb.get("stderr") or 0.0))
    diff = vb - va
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    if se > 0:
        p_value = 2 * (1 - NormalDist().cdf(abs(diff) / se))
        p_drop = NormalDist().cdf((diff + max_drop) / se)
    else:
        p_value = 0.0 if diff else 1.0
        p_drop = 1.0 if diff >= -max_drop else 0.0
    return TaskComparison(
        task,
        metric,
        "normal-approximation",
        va,
        vb,
        diff,
        (diff - z * se, diff + z * se),
        confidence,
        min(1.0, p_value),
        p_drop,
        max_drop,
        rating,
        problems,
    )


def compare_task(
    a: LoadedRun,
    b: LoadedRun,
    task: str,
    metric: str,
    *,
    confidence: float,
    max_drop: float,
    n_boot: int = N_BOOT,
    seed: int = SEED,
) -> TaskComparison:
    """Candidate `b` vs baseline `a` on `task`. `max_drop` is a fraction (points for ratings)."""
    rating = a.metric_roles(task).is_rating(metric)
    ea, eb = _metric_entry(a, task, metric), _metric_entry(b, task, metric)
    if ea is None or eb is None:
        raise EvalkitError(
            f"{task} has no '{metric}' in {'the baseline' if ea is None else 'the candidate'}. "
            f"Metrics it reports: {', '.join(sorted(a.tasks[task].get('metrics') or {})) or 'none'}."
        )
    ids_a, sa = score_matrix(a, task)
    ids_b, sb = score_matrix(b, task)
    shared = sorted(set(ids_a) & set(ids_b))
    if not shared:
        raise EvalkitError(f"{task}: the runs have no fully graded problem in common, so there is nothing to pair.")
    pa = sa[[ids_a.index(i) for i in shared]]
    pb = sb[[ids_b.index(i) for i in shared]]
    gained = [i for i, x, y in zip(shared, pa.mean(axis=1), pb.mean(axis=1), strict=True) if x < SOLVED_AT <= y]
    lost = [i for i, x, y in zip(shared, pa.mean(axis=1), pb.mean(axis=1), strict=True) if y < SOLVED_AT <= x]
    is_mean = (
        all(abs(float(e["value"]) - float(s.mean())) <= _SAME_MEAN_TOL for e, s in ((ea, sa), (eb, sb))) and not rating
    )
    if not is_mean:
        result = _normal(
            task, metric, ea, eb, confidence=confidence, max_drop=max_drop, problems=len(shared), rating=rating
        )
        note = "compared from the summaries (normal approximation, unpaired)"
    else:
        d = paired_bootstrap(
            pa.tolist(), pb.tolist(), n_boot=n_boot, seed=seed, confidence=confidence, max_drop=max_drop
        )
        result = TaskComparison(
            task,
            metric,
            "paired-bootstrap",
            d.mean_a,
            d.mean_b,
            d.diff,
            d.ci,
            confidence,
            d.p_value,
            d.p_drop,
            max_drop,
            False,
            len(shared),
        )
        note = ""
    if len(shared) < len(ids_a) or len(shared) < len(ids_b):
        note = "; ".join(filter(None, [note, f"over the {len(shared)} problems graded in both runs"]))
    return replace(result, gained=gained, lost=lost, note=note)


def compare_runs(
    a: LoadedRun, b: LoadedRun, *, confidence: float = 0.95, n_boot: int = N_BOOT
) -> tuple[list[TaskComparison], list[str]]:
    """Per shared task, candidate - baseline on the task's headline metric; plus notes on tasks left out."""
    tasks = comparable_tasks(a, b, None, strict_tasks=False)
    notes = [
        f"{t} is only in {side}; not compared."
        for side, run, other in (("the baseline", a, b), ("the candidate", b, a))
        for t in run.tasks
        if t not in other.tasks
    ]
    results = []
    for task in tasks:
        metric = headline_metric([a, b], task)
        if metric is None:
            notes.append(f"{task} reports no metrics; not compared.")
            continue
        results.append(compare_task(a, b, task, metric, confidence=confidence, max_drop=0.0, n_boot=n_boot))
    return results, notes


def gate_runs(
    baseline: LoadedRun,
    candidate: LoadedRun,
    *,
    metric: str = "pass@1",
    max_drop_points: float = 1.0,
    confidence: float = 0.95,
    tasks: Sequence[str] | None = None,
    n_boot: int = N_BOOT,
) -> GateResult:
    """Gate `candidate` against `baseline`: a task regresses when its drop is significantly > max_drop.

    `max_drop_points` is in percentage points (rating points for rating metrics).
    """
    if not 0.0 < confidence < 1.0:
        raise EvalkitError(f"--confidence must be between 0 and 1 (e.g. 0.95), got {confidence}.")
    if max_drop_points < 0 or not math.isfinite(max_drop_points):
        raise EvalkitError(f"--max-drop must be zero or a positive number of points, got {max_drop_points}.")
    chosen = comparable_tasks(baseline, candidate, tasks, strict_tasks=True)
    has_metric = [t for t in chosen if _metric_entry(baseline, t, metric) and _metric_entry(candidate, t, metric)]
    if tasks and len(has_metric) < len(chosen):
        missing = [t for t in chosen if t not in has_metric]
        raise EvalkitError(
            f"--metric {metric} is not reported for: {', '.join(missing)}. Pick another --metric or other --tasks."
        )
    if not has_metric:
        raise EvalkitError(
            f"No task reports '{metric}' in both runs, so there is nothing to gate. Pick another --metric."
        )
    alpha = (1 - confidence) / len(has_metric)
    results: list[TaskComparison] = []
    for task in chosen:
        if task not in has_metric:
            results.append(_skipped(baseline, task, metric))
            continue
        max_drop = max_drop_points if baseline.metric_roles(task).is_rating(metric) else max_drop_points / 100
        # A two-sided interval at 1 - 2*alpha has the one-sided 1 - alpha bound as its upper end.
        c = compare_task(baseline, candidate, task, metric, confidence=1 - 2 * alpha, max_drop=max_drop, n_boot=n_boot)
        results.append(replace(c, verdict="regression" if is_regression(c.p_drop, alpha) else "ok"))
    return GateResult(
        passed=not any(r.verdict == "regression" for r in results),
        metric=metric,
        max_drop_points=max_drop_points,
        confidence=confidence,
        alpha_per_task=alpha,
        baseline=str(baseline.path),
        candidate=str(candidate.path),
        tasks=results,
    )


def is_regression(p_drop: float, alpha: float) -> bool:
    """The gate's rule: "the drop is at most max_drop" is rejected at level alpha."""
    return p_drop < alpha


def gate_scores(
    baseline: FloatArray,
    candidate: FloatArray,
    *,
    max_drop: float,
    alpha: float,
    n_boot: int = N_BOOT,
    seed: int = SEED,
) -> tuple[bool, PairedDiff]:
    """The gate on one task's (problems, n) score matrices: (regressed?, the paired difference).

    This is exactly what `gate_runs` does for a task compared by paired bootstrap, without the run
    directories around it (used to measure the gate's false-alarm rate and power).
    """
    d = paired_bootstrap(
        baseline.tolist(), candidate.tolist(), n_boot=n_boot, seed=seed, confidence=1 - 2 * alpha, max_drop=max_drop
    )
    return is_regression(d.p_drop, alpha), d


def _skipped(run: LoadedRun, task: str, metric: str) -> TaskComparison:
    nan = math.nan
    return TaskComparison(
        task,
        metric,
        "none",
        nan,
        nan,
        nan,
        (nan, nan),
        nan,
        nan,
        nan,
        nan,
        run.metric_roles(task).is_rating(metric),
        0,
        verdict="skipped",
        note=f"{task} does not report {metric}",
    )
