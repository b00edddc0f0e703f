"""Multiple-choice grader (GPQA): extract the chosen letter from the answer region, map it back
through the stored choice permutation, and vote over the choice's identity.

Extraction rules, in order (the one that matched is stored in `Score.details["rule"]`):
1. `answer_line`: the last `Answer: X` in the answer region (the simple-evals format), X one of
   A-D as a whole capital letter; markdown bold, `$`, `\\(`, `\\text{}` and parentheses around X or
   the colon are tolerated. `Answer: Because ...` or `Answer: $A = \\pi r^2$` give no letter.
2. `boxed`: the last complete `\\boxed{X}` or `\\fbox{X}` (evalkit.graders.boxes) whose content is a
   single letter A-D (optionally `\\text{X}` or `(X)`).
Thinking is never searched: the answer region (evalkit.answer) comes first. A letter is complete as
soon as it is written, so a response cut off by the token limit is graded on its last letter like any
other; one cut off before any letter gets the verdict `truncated` rather than `no_answer`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from evalkit.choices import LETTERS, PERMUTATION_KEY
from evalkit.graders.base import Answer, Grader
from evalkit.graders.boxes import find_boxes
from evalkit.types import Generation, Sample, Score

_ANSWER_LINE = re.compile(
    r"\banswer\b(?:\*\*|__|[ \t])*[:：]"  # "Answer:", "**Answer:**", "Final answer :"
    r"(?:[ \t]|\*\*|__|\$|\\\(|\\\[|\\(?:text|textbf|mathrm|mathbf)[ \t]*\{|[(\[{])*"  # wrappers before X
    r"(?-i:([A-D]))"
    r"(?![A-Za-z0-9_])"  # X is a whole letter: not "Answer: Because"
    r"(?![ \t]*(?:[=+^<>]|\\(?:cdot|times|neq|approx|leq?|geq?)\b))",  # nor a variable: "A = \pi r^2"
    re.IGNORECASE,
)
_BOXED_LETTER = re.compile(r"\s*(?:\\(?:text|textbf|mathrm|mathbf)\s*\{)?\s*[(\[]?\s*([A-D])\s*[)\]]?\s*\}?\s*")


def extract_choice(text: str) -> tuple[str, str] | None:
    """The chosen letter and the rule that found it (`answer_line` or `boxed`), or None."""
    lines = list(_ANSWER_LINE.finditer(text))
    if lines:
        return lines[-1].group(1), "answer_line"
    for box in reversed(find_boxes(text)):
        letter = _BOXED_LETTER.fullmatch(box.content) if box.closed else None
        if letter:
            return letter.group(1), "boxed"
    return None


def _permutation(metadata: Mapping[str, Any]) -> list[int] | None:
    order = metadata.get(PERMUTATION_KEY)
    if isinstance(order, list) and sorted(order) == list(range(len(LETTERS))):
        return [int(i) for i in order]
    return None


class ChoiceGrader(Grader):
    """Grades a letter against the permutation stored with the generation.

    The permutation lists, for each shown letter, the original choice index (0 is the correct
    answer). `Score.vote` is that original index, so cons@k counts the same choice shown under
    different letters as one answer.
    """

    name = "choice"
    # 2: run-level thinking decision, `truncated` verdict; 3: boxes as evalkit.graders.boxes finds them
    # (`\fbox{X}` counts, a box inside a box is part of its content), and a response without any text
    # cut off by the token limit is `truncated` (evalkit.graders.base).
    version = "3"
    votes = True

    def check_inputs(self, sample: Sample, generation: Generation) -> Score | None:
        """An `error` when the generation carries no valid permutation (its letters mean nothing)."""
        if _permutation(generation.metadata) is not None:
            return None
        return Score(
            0.0,
            "error",
            explanation=f"the generation carries no valid choice '{PERMUTATION_KEY}' in its metadata, "
            "so its letters cannot be mapped to choices",
        )

    def unanswered_details(self, sample: Sample, generation: Generation) -> dict[str, Any]:
        """The correct letter, for reports."""
        return {"correct_letter": _correct_letter(generation)}

    def judge(self, sample: Sample, generation: Generation, answer: Answer) -> Score:
        """Extract the letter (see the module docstring) and map it to its original choice."""
        order = _permutation(generation.metadata)
        assert order is not None  # check_inputs ran first
        correct_letter = LETTERS[order.index(0)]
        found = extract_choice(answer.text)
        if found is None:
            cut = " (the response was cut off by the token limit)" if answer.truncated else ""
            return Score(
                0.0,
                "truncated" if answer.truncated else "no_answer",
                explanation=f"no 'Answer: X' line or \\boxed{{X}} with X in A-D in the answer region{cut}",
                details={"correct_letter": correct_letter},
            )
        letter, rule = found
        choice = order[LETTERS.index(letter)]
        correct = choice == 0
        return Score(
            1.0 if correct else 0.0,
            "correct" if correct else "wrong",
            extracted=letter,
            explanation=f"{rule}: {letter} is original choice {choice}; the correct answer was {correct_letter}",
            vote=str(choice),
            details={"rule": rule, "choice": choice, "correct_letter": correct_letter},
        )


def _correct_letter(generation: Generation) -> str | None:
    order = _permutation(generation.metadata)
    return None if order is None else LETTERS[order.index(0)]
