"""The program in a code answer: the one fenced-code-block extractor every code grader uses.

Rules (tests/graders/test_code_blocks.py holds a case for each):
1. A fence is a line that starts (after spaces or tabs) with three backticks; the first word after
   them is the block's tag. A block runs from an opening fence to the next fence line. A fence
   in the middle of a line is prose, not a block: the Codeforces prompt itself says "```cpp for
   C++17", and a model that echoes that sentence must not have the rest of its answer read as code.
2. A block's language: the grader's own when it has one (LiveCodeBench runs every block as Python,
   as lcb_runner does); else its tag (`cpp`, `c++`, `python`, `py`, ...); an untagged block is C++
   when a line of it is an `#include` directive (which Python cannot contain outside a string) and
   Python otherwise. Any other tag (`text`, `bash`, `java`) is a language evalkit does not run.
3. The program is the last complete block that has a language evalkit runs and holds code:
   blocks after it showing sample output or a compile command are not the answer, nor is an empty
   block.
4. A response cut off by the token limit has a program only if no fence opens after the last
   complete block: that unfinished block was the final answer (`cut_off_block`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evalkit.graders.base import Answer
from evalkit.sandbox.base import Language
from evalkit.types import Score

_FENCE = re.compile(r"^[ \t]*```[ \t]*([^\n`]*)\n(.*?)^[ \t]*```", re.DOTALL | re.MULTILINE)
_FENCE_LINE = re.compile(r"^[ \t]*```", re.MULTILINE)
_INCLUDE = re.compile(r"^[ \t]*#[ \t]*include\b", re.MULTILINE)
TAGS: dict[str, Language] = {
    "python": "python", "py": "python", "python3": "python", "py3": "python",
    "cpp": "cpp", "c++": "cpp", "cc": "cpp", "cxx": "cpp", "c++17": "cpp",
}  # fmt: skip
LANGUAGES: frozenset[Language] = frozenset(TAGS.values())


@dataclass(frozen=True)
class CodeBlock:
    """A program found in an answer: its fence tag (lowercased first word; "" when untagged),
    the language it runs as, and its code."""

    tag: str
    language: Language
    code: str


def final_code_block(text: str, language: Language | None = None) -> CodeBlock | None:
    """The program of `text` (rules 1-3 of the module docstring), or None when it has none.

    `language` fixes every block's language (rule 2).
    """
    for match in reversed(list(_FENCE.finditer(text))):
        info, code = match.groups()
        tag = info.split()[0].lower() if info.split() else ""
        found = language or block_language(tag, code)
        if found is not None and code.strip():
            return CodeBlock(tag, found, code)
    return None


def block_language(tag: str, code: str) -> Language | None:
    """The language a block with this tag and code runs as, or None (rule 2)."""
    if tag:
        return TAGS.get(tag)
    return "cpp" if _INCLUDE.search(code) else "python"


def cut_off_block(text: str) -> bool:
    """Whether a fence opens after the last complete block and never closes (rule 4)."""
    ends = [m.end() for m in _FENCE.finditer(text)]
    return _FENCE_LINE.search(text, ends[-1] if ends else 0) is not None


def find_program(answer: Answer, language: Language | None = None) -> CodeBlock | Score:
    """The program of an answer region, or the `truncated` / `no_answer` Score of one without."""
    block = final_code_block(answer.text, language)
    if answer.truncated and (block is None or cut_off_block(answer.text)):
        return Score(0.0, "truncated", explanation="cut off by the token limit before its code block was complete")
    if block is None:
        kind = "" if language is not None else "C++ or Python "
        return Score(0.0, "no_answer", explanation=f"no fenced {kind}code block in the answer")
    return block
