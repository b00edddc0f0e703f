"""Where a math response's final answer is, inside its answer region (pure text, no math-verify).

The order is math-verify's default one (docs/math-grading.md lists each deliberate difference):
1. the final group of `\\boxed{}` / `\\fbox{}` answers: the last box, together with the boxes right
   before it that only a connective separates (`\\boxed{2} and \\boxed{3}` is `2, 3`);
2. unless a "final answer is X" statement follows that group: then X is the final answer (math-verify
   gives such a statement and a box the same priority and takes the later one);
3. without any box, the region itself, from which math-verify's default extraction takes the last
   LaTeX expression or number (anchored phrases such as "the answer is" first).

Boxes come from evalkit.graders.boxes; the grouping is evalkit's own: math-verify joins any two
boxes less than 10 characters apart, or less than 70 apart with a comma or "and" anywhere between
them, so the self-correction `\\boxed{6}. Wait, no: \\boxed{5}` becomes the set {6, 5}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evalkit.graders.boxes import find_boxes

# Between two boxes, LaTeX that only spaces or delimits (`$`, `\quad`, `\(`, `\\`, `&`) is dropped and
# `\text{...}` is read as its words before the rest is checked against _BOX_JOIN.
_TEXT_WRAPPER = re.compile(r"\\(?:text|textbf|textrm|textit|mathrm|mbox)\s*\{([^{}]*)\}")
_LAYOUT = re.compile(r"\\(?:q?quad\b|[,;:! ()\[\]])|\\\\|[$&~]")
# A part label (`(a)`, `for part (b)`) and an assignment label (`x =`, `y_2 =`) may sit around the
# connective: `\boxed{1} for part (a) and \boxed{2}`, `x = \boxed{1} or x = \boxed{2}`.
_PART = r"(?:(?:for\s+)?(?:part\s*)?\(\s*[a-z0-9]{1,3}\s*\)|(?:for\s+)?part\s+[a-z0-9]{1,3})"
_LABEL = r"[A-Za-z](?:_\{?[A-Za-z0-9]+\}?)?\s*="
_BOX_JOIN = re.compile(rf"(?:{_PART}\s*)?(?:,|;|and|or|,\s*and|,\s*or)\s*(?:{_PART}\s*)?(?:{_LABEL})?", re.IGNORECASE)
# math-verify's own "final answer ... is" anchor, followed by one math span (bounded, so a tail full of
# unclosed `$$` stays linear) or number.
_FINAL_STATEMENT = re.compile(
    r"(?i:final answer)[^\n]{0,100}?\s+is\s*:?\s*"
    r"(?P<math>\$\$[^$]{1,500}\$\$|\$[^$\n]{1,500}\$|\\\(.{1,500}?\\\)|\\\[.{1,500}?\\\]|[-+]?\d[\d,]*(?:\.\d+)?)",
    re.DOTALL,
)


@dataclass(frozen=True)
class FinalBoxes:
    """The final group of boxes in a text.

    `answer` is their contents joined by ", " (or the last box's content alone when one of the
    group is empty); `end` is where the last box ends; `closed` says whether the last box's closing
    brace is there (a box cut off by the token limit is not).
    """

    answer: str
    end: int
    closed: bool


def final_boxes(text: str) -> FinalBoxes | None:
    """The final box group of `text` (nested braces allowed), or None when `text` has no box.

    A box whose closing brace is missing runs to the end of the text (`closed` is False).
    """
    boxes = find_boxes(text)
    if not boxes:
        return None
    parts = [boxes[-1].content]
    for prev, after in zip(boxes[-2::-1], boxes[:0:-1], strict=True):
        if not joins(text[prev.end : after.start]):
            break
        if prev.content != parts[-1]:  # `\boxed{4}, \boxed{4}` is one answer, as in math-verify
            parts.append(prev.content)
    answer = ", ".join(reversed(parts)) if all(parts) else parts[0]
    last = boxes[-1]
    return FinalBoxes(answer=answer, end=last.end, closed=last.closed)


def joins(between: str) -> bool:
    """Whether two boxes with `between` in between are one answer written in parts.

    Only a connective (`,`, `;`, `and`, `or`) with optional part or assignment labels joins them;
    anything else (`. Wait, no:`, ` then `) makes the later box a self-correction.
    """
    words = _LAYOUT.sub(" ", _TEXT_WRAPPER.sub(r" \1 ", between))
    return bool(_BOX_JOIN.fullmatch(" ".join(words.split())))


def final_statement(tail: str) -> str | None:
    """The math of the last "final answer is X" statement in `tail` (the text after the final box
    group), or None when there is none."""
    statements = list(_FINAL_STATEMENT.finditer(tail))
    return statements[-1].group("math") if statements else None
