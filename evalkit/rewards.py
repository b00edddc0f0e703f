"""Grader functions for RL training loops and scripts: a response in, a reward out.

Each applies the same answer-region rule and extraction as `evalkit run`, so a reward during
training means what the evaluation number means. Heavy grader modules are imported on first use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal


def math(response: str, gold: str) -> float:
    """1.0 when the response's final answer (after thinking) is math-equivalent to `gold`, else 0.0."""
    from evalkit.graders.math import reward

    return reward(response, gold)


def math_batch(responses: Sequence[str], golds: Sequence[str], *, workers: int | None = None) -> list[float]:
    """`math` over many responses in parallel worker processes, with a bounded time per item."""
    from evalkit.graders.math import reward_batch

    return reward_batch(responses, golds, workers=workers)


def choice(response: str, correct_letter: str) -> float:
    """1.0 when the response's `Answer: X` (or boxed letter) is `correct_letter`, else 0.0."""
    from evalkit.graders.choice import reward

    return reward(response, correct_letter)


def ifeval(
    response: str, instruction_id_list: Sequence[str], kwargs: Sequence[Mapping[str, Any]]
) -> dict[str, list[bool]]:
    """Per-instruction IFEval results: {"strict": [...], "loose": [...]}, in instruction order."""
    from evalkit.graders.ifeval import reward

    return reward(response, instruction_id_list, kwargs)


def code(
    response: str,
    tests: Sequence[Mapping[str, Any]],
    *,
    fn_name: str | None = None,
    language: Literal["python", "cpp"] | None = None,
    timeout_s: float = 6.0,
    detailed: bool = False,
) -> Any:
    """Run the response's last code block against LiveCodeBench-format tests in the sandbox.

    Returns 1.0/0.0, or with `detailed=True` a result whose `verdict` is AC, WA, TLE, MLE, RE, CE or
    error, with per-test results.
    """
    from evalkit.graders.code import reward

    if detailed:
        return reward(response, tests, fn_name=fn_name, language=language, timeout_s=timeout_s, detailed=True)
    return reward(response, tests, fn_name=fn_name, language=language, timeout_s=timeout_s)
