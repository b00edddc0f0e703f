"""The opening every grader shares (evalkit.graders.base.Grader.answer): the same verdict for a response
without an answer, whichever grader reads it."""

from __future__ import annotations

from typing import Any

import pytest

from evalkit.graders.base import GraderRef, ThinkSettings, make_grader
from evalkit.testing import generation_for
from evalkit.types import Generation, Sample

GRADERS = ["math", "choice", "ifeval", "code", "codeforces"]
SAMPLE = Sample("p", "", "1", metadata={"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}], "tests": []})
PERMUTATION = {"permutation": [2, 0, 1, 3]}  # the correct choice is shown as B


def _gen(text: str | None, **fields: Any) -> Generation:
    fields.setdefault("metadata", PERMUTATION)
    return generation_for("p", text, **fields)


# (what the response is, the generation, the settings, the verdict every grader gives)
CASES = [
    ("failed generation", _gen(None, error="HTTP 500", finish_reason="error"), ThinkSettings(), "error"),
    ("thinking never closed", _gen("<think>so it is 1"), ThinkSettings(), "unclosed_think"),
    ("reasoning split off, no content", _gen("", reasoning="so it is 1"), ThinkSettings(), "unclosed_think"),
    ("reasoning model without the marker", _gen("so it is 1"), ThinkSettings(policy="required"), "unclosed_think"),
    ("no text at all", _gen(None, finish_reason="stop"), ThinkSettings(policy="none"), "no_answer"),
    ("no text at all, cut off", _gen(None, finish_reason="length"), ThinkSettings(policy="none"), "truncated"),
]


@pytest.mark.parametrize("grader", GRADERS)
@pytest.mark.parametrize(("what", "generation", "think", "verdict"), CASES, ids=[c[0] for c in CASES])
def test_every_grader_opens_a_response_alike(
    grader: str, what: str, generation: Generation, think: ThinkSettings, verdict: str
) -> None:
    score = make_grader(GraderRef(grader)).grade(SAMPLE, generation, think)
    assert (score.verdict, score.value) == (verdict, 0.0), score.explanation
    assert score.explanation


def test_rows_without_an_answer_carry_what_summaries_and_reports_read() -> None:
    unclosed = _gen("<think>a, b")
    ifeval = make_grader(GraderRef("ifeval")).grade(SAMPLE, unclosed, ThinkSettings())
    assert ifeval.details == {"strict": [False], "loose": [False], "instruction_ids": ["punctuation:no_comma"]}
    choice = make_grader(GraderRef("choice")).grade(SAMPLE, unclosed, ThinkSettings())
    assert choice.details == {"correct_letter": "B"}


def test_broken_inputs_are_an_error_before_the_answer_region_is_read() -> None:
    # A generation without its choice permutation is broken data, not a model's missing answer.
    score = make_grader(GraderRef("choice")).grade(SAMPLE, _gen("<think>never closed", metadata={}), ThinkSettings())
    assert score.verdict == "error" and "permutation" in score.explanation
