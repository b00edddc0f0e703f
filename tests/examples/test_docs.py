"""docs/add-a-benchmark.md shows the example files as they are (the files CI runs), so it cannot rot."""

from __future__ import annotations

import re
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


ARCHITECTURE = ROOT / "docs" / "architecture.md"


def test_every_module_the_architecture_page_names_exists() -> None:
    named = set(
        re.findall(r"`((?:evalkit|tasks|prompts|sandboxes|tests|benchmarks|docs)/[\w./-]+)`", ARCHITECTURE.read_text())
    )
    assert len(named) > 20, "the page should name the modules of each stage"
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_every_link_of_the_architecture_page_resolves() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", ARCHITECTURE.read_text())
    assert links
    broken = [link for link in links if not (ARCHITECTURE.parent / link).exists()]
    assert not broken, f"docs/architecture.md links to missing files: {broken}"
