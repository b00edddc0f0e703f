"""docs/add-a-benchmark.md shows the example files as they are (the files CI runs), so it cannot rot."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "add-a-benchmark.md"
FILES = ["examples/local_math/local_math.py", "examples/humaneval/humaneval.py", "examples/humaneval/humaneval.j2"]


@pytest.mark.parametrize("name", FILES)
def test_the_page_lists_the_example_file_verbatim(name: str) -> None:
    text = (ROOT / name).read_text()
    page = DOC.read_text()
    assert f"`{name}`" in page, f"the page does not name {name}"
    assert f"\n{text}```" in page, f"the listing of {name} differs from the file: update docs/add-a-benchmark.md"


def test_the_page_shows_a_line_of_the_example_data() -> None:
    first = (ROOT / "examples/local_math/problems.jsonl").read_text().splitlines()
    assert any(line in DOC.read_text() for line in first)
