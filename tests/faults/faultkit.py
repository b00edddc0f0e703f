"""Shared helpers of the fault suite: paths, the e2e scripted model, run-directory readers, CLI commands.

Loaded by path from conftest.py (tests are not a package), exposed as the `kit` fixture.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from evalkit.registry import module_from_file

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA = REPO / "evalkit" / "_data"  # the bundled copies, laid out like an offline data dir
MATH_SCRIPT = REPO / "tests" / "e2e" / "math_script.py"

Key = tuple[str, str, int]


def math_script() -> ModuleType:
    """tests/e2e/math_script.py: answers depend only on (prompt, seed)."""
    return module_from_file(MATH_SCRIPT)


def rows(path: Path) -> list[dict[str, Any]]:
    """The complete (newline-terminated) rows of a JSONL file; a torn last line is not a row."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n")[:-1] if line.strip()]


def key(row: dict[str, Any]) -> Key:
    return (str(row["task"]), str(row["sample_id"]), int(row["sample_index"]))


@dataclass(frozen=True)
class RunFiles:
    """What a run directory holds, read back for assertions."""

    generations: list[dict[str, Any]]
    grades: list[dict[str, Any]]
    summary: dict[str, Any] | None
    manifest: dict[str, Any] | None

    @classmethod
    def read(cls, out: Path) -> RunFiles:
        def load(name: str) -> dict[str, Any] | None:
            p = out / name
            return json.loads(p.read_text(encoding="utf-8")) if p.exists() else None

        return cls(
            rows(out / "generations.jsonl"), rows(out / "grades.jsonl"), load("summary.json"), load("manifest.json")
        )

    def latest(self) -> dict[Key, dict[str, Any]]:
        """The row that counts per key: a later row (a retried error) supersedes an earlier one."""
        return {key(r): r for r in self.generations}

    def check_consistent(self, total: int) -> None:
        """Nothing lost or doubled: `total` keys, each error row ungraded, each good row graded once."""
        latest = self.latest()
        assert len(latest) == total, f"{len(latest)} distinct keys in generations.jsonl, expected {total}"
        by_key: dict[Key, list[dict[str, Any]]] = defaultdict(list)
        for r in self.generations:
            by_key[key(r)].append(r)
        for k, versions in by_key.items():
            # A key appears more than once only when earlier rows were errors a later run retried.
            assert all(r["error"] for r in versions[:-1]), f"{k} generated {len(versions)} times although it succeeded"
        for r in self.generations:
            if r["error"] is not None:
                assert r["text"] is None and r["reasoning"] is None, f"error row {key(r)} carries answer text"
        graded = Counter(key(g) for g in self.grades)
        assert all(c == 1 for c in graded.values()), f"graded twice: {[k for k, c in graded.items() if c > 1]}"
        good = {k for k, r in latest.items() if r["error"] is None}
        assert set(graded) == good, f"graded {len(graded)} keys, {len(good)} good generations"


def evalkit(*args: str) -> list[str]:
    """The command line of `python -m evalkit.cli ARGS`."""
    return [sys.executable, "-m", "evalkit.cli", *args]
