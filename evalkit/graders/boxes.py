"""`\\boxed{...}` (and `\\fbox{...}`) answers in a text: the one box parser every grader uses.

Hand-written rather than a regex because contents nest braces (`\\boxed{\\frac{1}{2}}`), which no
regex can balance, and rather than math-verify's `extract_boxed_content` because that reports no
positions (the truncation rule needs them: evalkit.graders.math_answer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BOX_START = re.compile(r"\\(?:boxed|fbox)\s*\{")
_BRACE = re.compile(r"[{}]")


@dataclass(frozen=True)
class Box:
    """One box: `content` (stripped) lies between `start` (the backslash) and `end` (after the
    closing brace); `closed` is False when the closing brace is missing (a box cut off by the token
    limit), and the box then runs to the end of the text."""

    start: int
    end: int
    content: str
    closed: bool


def find_boxes(text: str) -> list[Box]:
    """The boxes of `text` in order. A box inside another box is part of that box's content."""
    boxes: list[Box] = []
    for match in _BOX_START.finditer(text):
        if boxes and match.start() < boxes[-1].end:
            continue
        close = _closing_brace(text, match.end())
        closed = close < len(text)
        end = close + 1 if closed else len(text)
        boxes.append(Box(match.start(), end, text[match.end() : close].strip(), closed))
    return boxes


def _closing_brace(text: str, start: int) -> int:
    """Index of the brace closing the one opened just before `start`, or len(text) if none does."""
    depth = 1
    for brace in _BRACE.finditer(text, start):
        depth += 1 if brace.group() == "{" else -1
        if depth == 0:
            return brace.start()
    return len(text)
