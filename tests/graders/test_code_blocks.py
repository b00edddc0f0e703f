"""The one code-block extractor (evalkit.graders.code_blocks): each rule of its docstring, as data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evalkit.graders.base import Answer
from evalkit.graders.code_blocks import cut_off_block, final_code_block, find_program
from evalkit.types import Score

HERE = Path(__file__).parent
BLOCKS = [json.loads(line) for line in (HERE / "code_block_cases.jsonl").read_text().splitlines() if line]
CUT_OFF = [json.loads(line) for line in (HERE / "code_cut_off_cases.jsonl").read_text().splitlines() if line]


@pytest.mark.parametrize("case", BLOCKS, ids=[c["note"] for c in BLOCKS])
def test_final_code_block(case: dict[str, Any]) -> None:
    block = final_code_block(case["text"], case["language"])
    got = None if block is None else {"tag": block.tag, "language": block.language, "code": block.code}
    assert got == case["expected"]


@pytest.mark.parametrize("case", CUT_OFF, ids=[c["note"] for c in CUT_OFF])
def test_cut_off_block(case: dict[str, Any]) -> None:
    assert cut_off_block(case["text"]) is case["expected"]


def test_a_cut_off_answer_has_a_program_only_when_its_final_block_closed() -> None:
    complete = "```python\nprint(1)\n```\nThis prints"
    assert not isinstance(find_program(Answer(complete, truncated=True)), Score)
    reopened = complete + "\n```python\nprint(2"
    assert isinstance(program := find_program(Answer(reopened, truncated=True)), Score)
    assert program.verdict == "truncated"
    assert find_program(Answer(reopened, truncated=False)).code == "print(1)\n"  # type: ignore[union-attr]
    cut_before_code = find_program(Answer("First we read", truncated=True))
    assert isinstance(cut_before_code, Score) and cut_before_code.verdict == "truncated"


def test_no_program_is_no_answer_naming_what_was_looked_for() -> None:
    anything = find_program(Answer("no code"))
    fixed = find_program(Answer("no code"), "python")
    assert isinstance(anything, Score) and anything.verdict == "no_answer" and "C++ or Python" in anything.explanation
    assert isinstance(fixed, Score) and fixed.verdict == "no_answer" and "C++" not in fixed.explanation
