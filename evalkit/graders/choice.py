"""Multiple-choice grader (GPQA): extract the chosen letter from the answer region, map it back
through the stored choice permutation, and vote over the choice's identity.

Extraction rules, in order (the one that matched is stored in `Score.details["rule"]`):
1. `answer_line`: the last `Answer: X` in the answer region (the simple-evals format), X one of
   A-D as a whole capital letter; markdown bold, `$`, `\\(`, `\\text{}` and parentheses around X or
   the colon are tolerated. `Answer: Because ...` or `Answer: $A = \\pi r^2$` give no letter.
2. `boxed`: the last `\\boxed{X}` whose content is a single letter A-D (optionally `\\text{X}` or `(X)`).
Thinking is never searched: the answer region (evalkit.answer) comes first. A letter is complete as
soon as it is written, so a response cut off by the token limit is graded on its last letter like any
other; one cut off before any letter gets the verdict `truncated` rather than `no_answer`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from evalkit.answer import answer_region
from evalkit.choices import LETTERS, PERMUTATION_KEY
from evalkit.errors import EvalkitError
from evalkit.graders.base import ThinkSettings
from evalkit.types import Generation, Sample, Score

_ANSWER_LINE = re.compile(
    r"\banswer\b(?:\*\*|__|[ \t])*[:：]"  # "Answer:", "**Answer:**", "Final answer :"
    r"(?:[ \t]|\*\*|__|\$|\\\(|\\\[|\\(?:text|textbf|mathrm|mathbf)[ \t]*\{|[(\[{])*"  # wrappers before X
    r"(?-i:([A-D]))"
    r"(?![A-Za-z0-9_])"  # X is a whole letter: not "Answer: Because"
    r"(?![ \t]*(?:[=+^<>]|\\(?:cdot|times|neq|approx|leq?|geq?)\b))",  # nor a variable: "A = \pi r^2"
    re.IGNORECASE,
)
_BOXED = re.compile(r"\\boxed[ \t]*\{")
_BOXED_LETTER = re.compile(r"\s*(?:\\(?:text|textbf|mathrm|mathbf)\s*\{)?\s*[(\[]?\s*([A-D])\s*[)\]]?\s*\}?\s*")


def _boxed_contents(text: str) -> list[str]:
    """Contents of every `\\boxed{...}`, braces balanced (a regex cannot balance nested braces)."""
    contents: list[str] = []
    for match in _BOXED.finditer(text):
        depth, start = 1, match.end()
        for i in range(start, len(text)):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    contents.append(text[start:i])
                    break
    return contents


def extract_choice(text: str) -> tuple[str, str] | None:
    """The chosen letter and the rule that found it (`answer_line` or `boxed`), or None."""
    lines = list(_ANSWER_LINE.finditer(text))
    if lines:
        return lines[-1].group(1), "answer_line"
    for content in reversed(_boxed_contents(text)):
        letter = _BOXED_LETTER.fullmatch(content)
        if letter:
            return letter.group(1), "boxed"
    return None


def _permutation(metadata: Mapping[str, Any]) -> list[int] | None:
    order = metadata.get(PERMUTATION_KEY)
    if isinstance(order, list) and sorted(order) == list(range(len(LETTERS))):
        return [int(i) for i in order]
    return None


class ChoiceGrader:
    """Grades a letter against the permutation stored with the generation.

    The permutation lists, for each shown letter, the original choice index (0 is the correct
    answer). `Score.vote` is that original index, so cons@k counts the same choice shown under
    different letters as one answer.
    """

    name = "choice"
    version = "2"  # 2: run-level thinking decision, `truncated` verdict

    def grade(self, sample: Sample, generation: Generation, think: ThinkSettings) -> Score:
        """Score one generation (see the module docstring)."""
        if generation.error is not None:
            return Score(0.0, "error", explanation=f"generation failed: {generation.error}")
        order = _permutation(generation.metadata)
        if order is None:
            return Score(
                0.0,
                "error",
                explanation=f"the generation carries no valid choice '{PERMUTATION_KEY}' in its metadata, "
                "so its letters cannot be mapped to choices",
            )
        region = think.region(generation)
        correct_letter = LETTERS[order.index(0)]
        if region.text is None:
            verdict = "unclosed_think" if region.unclosed_think else "no_answer"
            return Score(0.0, verdict, explanation="no answer region", details={"correct_letter": correct_letter})
        found = extract_choice(region.text)
        if found is None:
            cut = " (the response was cut off by the token limit)" if region.truncated else ""
            return Score(
                0.0,
                "truncated" if region.truncated else "no_answer",
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

    def same_class(self, sample: Sample, a: str, b: str) -> bool:
        """Votes are original choice indices: equal keys are the same choice."""
        return a == b


def reward(response: str, correct_letter: str) -> float:
    """1.0 when the letter extracted from the answer region of `response` is `correct_letter`."""
    if correct_letter not in LETTERS or len(correct_letter) != 1:
        raise EvalkitError(f"correct_letter must be one of {', '.join(LETTERS)}, got {correct_letter!r}.")
    region = answer_region(response)
    found = extract_choice(region.text) if region.text is not None else None
    return 1.0 if found is not None and found[0] == correct_letter else 0.0
