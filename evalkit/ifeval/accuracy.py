"""IFEval's numbers: prompt-level and instruction-level accuracy, strict and loose, and the by-instruction
breakdown, from the per-instruction flags the ifeval grader stores in `Score.details`.

`accuracy_summary` is the ifeval task's summary hook (evalkit.hooks).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from evalkit.hooks import TaskScores
from evalkit.metrics import MetricInputError, MetricValue, check_same_n, mean_with_uncertainty, ratio_with_uncertainty
from evalkit.types import Score

IFEVAL_KEYS = ("prompt_level_strict", "inst_level_strict", "prompt_level_loose", "inst_level_loose")

# One sample's (strict, loose) per-instruction flags.
Flags = tuple[Sequence[bool], Sequence[bool]]


def accuracy_summary(graded: TaskScores) -> dict[str, Any]:
    """The ifeval task's summary.json numbers: the four accuracies and a breakdown by instruction id."""
    per_problem = graded.of(graded.samples)
    metrics = ifeval_metrics([[_flags(s) for s in scores] for scores in per_problem], n=graded.n)
    return {
        "metrics": {k: v.to_dict() for k, v in metrics.items()},
        "breakdown": {"instruction_id": _by_instruction(per_problem)},
    }


def ifeval_metrics(
    problems: Sequence[Sequence[Flags]], *, seed: int = 0, n_boot: int = 2000, n: int | None = None
) -> dict[str, MetricValue]:
    """IFEval accuracies; problems[p][s] = (strict_flags, loose_flags) of sample s of prompt p.

    Official definitions, averaged over the n samples of each prompt:
    prompt_level_*: share of (prompt, sample) pairs that followed all of the prompt's instructions.
    inst_level_*: followed instructions / all instructions (micro-average), i.e. sum over prompts of
    the mean followed count divided by the sum of instruction counts.
    stderr: prompt level, over prompts as for pass@1; instruction level, the delta-method stderr of
    a ratio estimator over prompts (evalkit.metrics.ratio_with_uncertainty). ci95: percentile
    bootstrap over prompts. n: the run's samples per prompt, as in evalkit.metrics.pass_k_metric.
    """
    counts = _instruction_counts(problems, n)
    out: dict[str, MetricValue] = {}
    for mode, col in (("strict", 0), ("loose", 1)):
        all_followed = np.empty(len(problems))
        followed = np.empty(len(problems))
        for p, samples in enumerate(problems):
            flags = np.array([sample[col] for sample in samples], dtype=bool).reshape(len(samples), -1)
            all_followed[p] = flags.all(axis=1).mean()
            followed[p] = flags.sum(axis=1).mean()
        out[f"prompt_level_{mode}"] = mean_with_uncertainty(all_followed, seed=seed, n_boot=n_boot)
        out[f"inst_level_{mode}"] = ratio_with_uncertainty(followed, counts, seed=seed, n_boot=n_boot)
    return {key: out[key] for key in IFEVAL_KEYS}


def _flags(score: Score) -> Flags:
    return list(score.details.get("strict", [])), list(score.details.get("loose", []))


def _instruction_counts(problems: Sequence[Sequence[Flags]], n: int | None) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Check the flag shapes and return each prompt's instruction count."""
    if len(problems) == 0:
        raise MetricInputError("IFEval: no prompts to score.")
    check_same_n([len(samples) for samples in problems], "IFEval", n)
    counts = np.empty(len(problems))
    for p, samples in enumerate(problems):
        lengths = {len(flags) for sample in samples for flags in sample}
        if len(lengths) != 1 or 0 in lengths:
            raise MetricInputError(
                f"IFEval: prompt {p} has instruction flag lists of lengths {sorted(lengths)}; every sample "
                "needs one strict and one loose flag per instruction of the prompt (at least one)."
            )
        counts[p] = lengths.pop()
    return counts


def _by_instruction(per_problem: Sequence[Sequence[Score]]) -> dict[str, Any]:
    """Per instruction id: how often it was given, and the share followed, strict and loose."""
    strict: Counter[str] = Counter()
    loose: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for scores in per_problem:
        for s in scores:
            ids = s.details.get("instruction_ids", [])
            for iid, st, lo in zip(ids, s.details.get("strict", []), s.details.get("loose", []), strict=False):
                total[iid] += 1
                strict[iid] += bool(st)
                loose[iid] += bool(lo)
    return {
        iid: {"count": total[iid], "strict": strict[iid] / total[iid], "loose": loose[iid] / total[iid]}
        for iid in sorted(total)
    }
