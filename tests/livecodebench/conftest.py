"""Small LiveCodeBench files in the exact Hub format (raw test*.jsonl rows), written by the tests."""

from __future__ import annotations

import base64
import json
import pickle
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from evalkit.testsets import CACHE_ENV


def compress(tests: list[dict[str, str]]) -> str:
    """LiveCodeBench's private-test encoding: base64(zlib(pickle(json string)))."""
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode()


def stdin_row(question_id: str, contest_date: str, difficulty: str = "easy", compressed: bool = True) -> dict[str, Any]:
    public = [{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]
    private = [
        {"input": "10 20\n", "output": "30\n", "testtype": "stdin"},
        {"input": "5 5\n", "output": "10\n", "testtype": "stdin"},
    ]
    return {
        "question_title": f"Add {question_id}",
        "question_content": "Read two integers A and B and print A+B.",
        "platform": "atcoder",
        "question_id": question_id,
        "contest_id": "abc999",
        "contest_date": contest_date,
        "starter_code": "",
        "difficulty": difficulty,
        "public_test_cases": json.dumps(public),
        "private_test_cases": compress(private) if compressed else json.dumps(private),
        "metadata": "{}",
    }


def functional_row(question_id: str, contest_date: str) -> dict[str, Any]:
    public = [{"input": "[1, 2, 3]", "output": "6", "testtype": "functional"}]
    private = [{"input": "[]", "output": "0", "testtype": "functional"}]
    return {
        "question_title": "Sum",
        "question_content": "Return the sum of nums.",
        "platform": "leetcode",
        "question_id": question_id,
        "contest_id": "weekly-contest-999",
        "contest_date": contest_date,
        "starter_code": "class Solution:\n    def total(self, nums: List[int]) -> int:\n        ",
        "difficulty": "medium",
        "public_test_cases": json.dumps(public),
        "private_test_cases": compress(private),
        "metadata": json.dumps({"func_name": "total"}),
    }


@pytest.fixture(scope="module", autouse=True)
def _private_testsets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Decoded test sets go to a temporary store, not the user's cache (no grading pool runs here)."""
    folder = tmp_path_factory.mktemp("evalkit-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(folder))
        yield folder


@pytest.fixture
def encode_private() -> Callable[[list[dict[str, str]]], str]:
    """LiveCodeBench's private-test encoder, for tests that build their own rows."""
    return compress


@pytest.fixture
def lcb_dir(tmp_path: Path) -> Path:
    """A data dir with livecodebench/test.jsonl .. test6.jsonl; rows inside and outside the default window."""
    root = tmp_path / "livecodebench"
    root.mkdir()
    rows: dict[str, list[dict[str, Any]]] = {
        "test.jsonl": [stdin_row("old1", "2023-06-01T00:00:00")],
        "test2.jsonl": [],
        "test3.jsonl": [],
        "test4.jsonl": [stdin_row("abc999_a", "2024-08-03T00:00:00", "easy")],
        "test5.jsonl": [
            functional_row("3400", "2024-10-12T00:00:00"),
            stdin_row("abc999_b", "2025-01-31T00:00:00", "hard", compressed=False),
        ],
        "test6.jsonl": [stdin_row("new1", "2025-03-01T00:00:00")],
    }
    for name, items in rows.items():
        (root / name).write_text("".join(json.dumps(r) + "\n" for r in items))
    return tmp_path
