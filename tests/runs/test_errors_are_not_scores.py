"""An error is never a score: grader failures make a task incomplete, and resume retries them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import Result

from evalkit.graders.base import GRADERS, register_grader
from evalkit.tasks import TASKS, Task, get_task, task
from evalkit.testing.graders import TEST_GRADERS

TASK = "aime24_grader_bug"
GRADER = "test_broken_while_marked"


@pytest.fixture
def buggy_task() -> Iterator[str]:
    """A task like aime24 whose grader raises for odd sample indices while a marker file exists."""
    register_grader(GRADER, TEST_GRADERS[GRADER])

    @task
    def aime24_grader_bug(marker: str = "") -> Task:
        base = get_task("aime24")
        return dataclasses.replace(base, name=TASK, grader=GRADER, grader_options={"marker": marker})

    yield TASK
    TASKS.pop(TASK, None)
    GRADERS.pop(GRADER, None)


def test_grader_exceptions_leave_the_task_incomplete_and_resume_retries_them(
    tmp_path: Path,
    script: ModuleType,
    buggy_task: str,
    cli: Callable[..., Result],
    run_args: Callable[..., list[str]],
    regraded: Callable[[Path], dict[str, Any]],
) -> None:
    data = script.write_problems(tmp_path / "data", count=3)
    marker = tmp_path / "grader-is-broken"
    marker.touch()
    out = tmp_path / "run"
    args = run_args(out, data, "--n", "4", tasks=f"{buggy_task}@marker={marker}")

    first = cli(*args)
    assert first.exit_code == 3, first.output
    entry = json.loads((out / "summary.json").read_text())["tasks"][buggy_task]
    assert entry["metrics"] == {}, "a metric computed with grader errors counted as wrong answers"
    assert entry["error"] and "could not be graded" in entry["error"]
    assert entry["rates"]["error"] == pytest.approx(6 / 12)
    assert json.loads((out / "manifest.json").read_text())["status"] == "incomplete"

    marker.unlink()
    second = cli(*args)
    assert second.exit_code == 0, second.output
    entry = json.loads((out / "summary.json").read_text())["tasks"][buggy_task]
    assert entry["error"] is None and entry["rates"]["error"] == 0.0
    assert entry == regraded(out)[buggy_task]
