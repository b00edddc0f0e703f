"""The true value of every metric for the simulated model, from its known response distribution.

pass@k: a sample is correct with probability p (the problem's accuracy), independently, so the
unbiased estimator's expectation is 1 - (1 - p)^k. cons@k: the k samples of a subset are independent
draws over vote classes (the correct class, two distinct wrong answers, no vote), so the chance that
the correct class wins the vote (ties to the class seen first, i.e. each tied class equally likely)
is a sum over the multinomial counts. IFEval: a supported prompt's one instruction is followed
(strictly and loosely) with probability p, every other prompt follows nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from evalkit.ifeval.accuracy import IFEVAL_KEYS
from evalkit.metrics import pass_k_keys
from evalkit.simulated.responses import failure_split, family, problem_accuracy
from evalkit.types import Sample


def pass_at_k(p: float, k: int) -> float:
    """Probability that at least one of k independent samples is correct."""
    return 1.0 - (1.0 - p) ** k


@lru_cache(maxsize=4096)
def cons_at_k(p: float, wrong: float, wrong_other: float, k: int) -> float:
    """Probability that the correct class wins a majority vote of k independent samples.

    Class probabilities: correct p, the two wrong answers `wrong` and `wrong_other`, no vote the rest.
    """
    none = max(0.0, 1.0 - p - wrong - wrong_other)
    logs = [math.log(x) if x > 0 else -math.inf for x in (p, wrong, wrong_other, none)]
    total = 0.0
    for c in range(1, k + 1):
        for a in range(k - c + 1):
            if a > c:
                break
            for b in range(k - c - a + 1):
                if b > c:
                    break
                d = k - c - a - b
                tied = 1 + (a == c) + (b == c)
                log_terms = [n * lp for n, lp in zip((c, a, b, d), logs, strict=True) if n]
                if any(t == -math.inf for t in log_terms):
                    continue
                log_count = math.lgamma(k + 1) - sum(math.lgamma(n + 1) for n in (c, a, b, d))
                total += math.exp(log_count + sum(log_terms)) / tied
    return total


def task_truth(task: str, grader: str, samples: Sequence[Sample], n: int) -> dict[str, float]:
    """metric key -> true value, for the keys `evalkit run` reports for this task with n samples."""
    fam = family(grader)
    accuracies = [problem_accuracy(task, s, grader) for s in samples]
    if fam == "ifeval":
        counts = [len(s.metadata["instruction_id_list"]) for s in samples]
        prompt_level = sum(accuracies) / len(samples)
        # Supported prompts have one instruction, so followed instructions per prompt = p.
        inst_level = sum(accuracies) / sum(counts)
        return {key: prompt_level if key.startswith("prompt") else inst_level for key in IFEVAL_KEYS}
    truth = {f"pass@{k}": sum(pass_at_k(p, k) for p in accuracies) / len(samples) for k in pass_k_keys(n)}
    if fam == "code":
        return truth
    cons_ks = sorted({*(k for k in pass_k_keys(n) if k > 1), n})
    for k in cons_ks:
        values = []
        for sample, p in zip(samples, accuracies, strict=True):
            split = failure_split(sample, grader)
            values.append(cons_at_k(p, (1 - p) * split["wrong"], (1 - p) * split["wrong_other"], k))
        truth[f"cons@{k}"] = sum(values) / len(samples)
    return truth
