"""IFEval grader: the answer region first, then the official instruction checkers, strict and loose.

Thinking is never graded: a response whose thinking never closes follows no instruction (verdict
`unclosed_think`). The answer region is stripped of surrounding whitespace before checking: chat
templates put a blank line after `</think>`, and left in place it would be the "first line" the
loose variants remove and an empty first paragraph for `nth_paragraph_first_word`, so a thinking
model would be graded on a different text than a model that answers directly. A response cut off by
the token limit is graded on the text it produced (the instructions are about that text; lm-eval
does the same), and its truncation shows in the run's `truncated` rate. `Score.value` is
prompt-level strict (1.0 when every instruction is strictly followed); `Score.details` carries the
per-instruction booleans from which the summary computes `prompt_level_strict`, `inst_level_strict`,
`prompt_level_loose`, `inst_level_loose` and the breakdown by instruction id.
"""

from __future__ import annotations

from typing import Any

from evalkit.graders.base import Answer, Grader
from evalkit.ifeval import follow
from evalkit.ifeval.nlp import ensure_punkt
from evalkit.types import Generation, Sample, Score


class IFEvalGrader(Grader):
    """Grades IFEval samples whose metadata holds `instruction_id_list` and `kwargs`."""

    name = "ifeval"
    # 2: run-level thinking decision; `<think>` left open after `</think>` is unclosed; 3: a response
    # without any text cut off by the token limit is `truncated` (evalkit.graders.base).
    version = "3"

    def __init__(self) -> None:
        # Fail when the grader is built, not on the first sample, if punkt data is missing.
        ensure_punkt()

    def unanswered_details(self, sample: Sample, generation: Generation) -> dict[str, Any]:
        """Every instruction not followed: the summary's instruction-level metrics count them."""
        ids: list[str] = list(sample.metadata["instruction_id_list"])
        failed = [False] * len(ids)
        return {"strict": failed, "loose": list(failed), "instruction_ids": ids}

    def judge(self, sample: Sample, generation: Generation, answer: Answer) -> Score:
        """Check every instruction on the stripped answer region, strictly and loosely."""
        ids: list[str] = list(sample.metadata["instruction_id_list"])
        kwargs: list[dict[str, Any]] = list(sample.metadata["kwargs"])
        result = follow(answer.text.strip(), ids, kwargs)
        missed = [i for i, ok in zip(ids, result.strict, strict=True) if not ok]
        return Score(
            1.0 if all(result.strict) else 0.0,
            "wrong" if missed else "correct",
            extracted=f"{sum(result.strict)}/{len(ids)} strict, {sum(result.loose)}/{len(ids)} loose",
            explanation=f"not followed (strict): {', '.join(missed)}" if missed else "all instructions followed",
            details={"strict": result.strict, "loose": result.loose, "instruction_ids": ids},
        )
