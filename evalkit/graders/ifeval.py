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

from collections.abc import Mapping, Sequence
from typing import Any

from evalkit.answer import answer_region
from evalkit.graders.base import ThinkSettings
from evalkit.ifeval import build_checks, follow
from evalkit.ifeval.nlp import ensure_punkt
from evalkit.types import Generation, Sample, Score


class IFEvalGrader:
    """Grades IFEval samples whose metadata holds `instruction_id_list` and `kwargs`."""

    name = "ifeval"
    version = "2"  # 2: run-level thinking decision; `<think>` left open after `</think>` is unclosed

    def __init__(self) -> None:
        # Fail when the grader is built, not on the first sample, if punkt data is missing.
        ensure_punkt()

    def grade(self, sample: Sample, generation: Generation, think: ThinkSettings) -> Score:
        """Score one generation (see the module docstring)."""
        ids: list[str] = list(sample.metadata["instruction_id_list"])
        kwargs: list[dict[str, Any]] = list(sample.metadata["kwargs"])
        if generation.error is not None:
            return Score(0.0, "error", explanation=f"generation failed: {generation.error}")
        region = think.region(generation)
        if region.text is None:
            verdict = "unclosed_think" if region.unclosed_think else "no_answer"
            failed = [False] * len(ids)
            return Score(
                0.0,
                verdict,
                explanation="no answer region: every instruction counts as not followed",
                details={"strict": failed, "loose": list(failed), "instruction_ids": ids},
            )
        result = follow(region.text.strip(), ids, kwargs)
        missed = [i for i, ok in zip(ids, result.strict, strict=True) if not ok]
        return Score(
            1.0 if all(result.strict) else 0.0,
            "wrong" if missed else "correct",
            extracted=f"{sum(result.strict)}/{len(ids)} strict, {sum(result.loose)}/{len(ids)} loose",
            explanation=f"not followed (strict): {', '.join(missed)}" if missed else "all instructions followed",
            details={"strict": result.strict, "loose": result.loose, "instruction_ids": ids},
        )

    def same_class(self, sample: Sample, a: str, b: str) -> bool:
        """IFEval does not vote; two keys are the same class only when equal."""
        return a == b


def reward(
    response: str, instruction_id_list: Sequence[str], kwargs: Sequence[Mapping[str, Any]]
) -> dict[str, list[bool]]:
    """Per-instruction `strict` and `loose` booleans for one response, after the answer region rule.

    A response whose thinking is still open follows no instruction. Unknown ids or bad kwargs raise
    EvalkitError.
    """
    region = answer_region(response)
    if region.text is None:
        build_checks(instruction_id_list, kwargs)  # bad ids or kwargs are errors even with no answer
        failed = [False] * len(instruction_id_list)
        return {"strict": failed, "loose": list(failed)}
    result = follow(region.text.strip(), instruction_id_list, kwargs)
    return {"strict": result.strict, "loose": result.loose}
